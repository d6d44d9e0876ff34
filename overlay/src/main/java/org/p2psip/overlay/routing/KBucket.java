package org.p2psip.overlay.routing;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.NodeId;

/**
 * Up to k contacts ordered from least to most recently seen, plus a replacement cache of the most
 * recent newcomers that found the bucket full. Kademlia prefers old contacts: they are likelier to stay.
 */
final class KBucket {
    final int k;
    final ArrayList<Entry> entries = new ArrayList<>();
    final ArrayDeque<Contact> replacements = new ArrayDeque<>();
    long lastTouched;

    KBucket(int k, long now) {
        this.k = k;
        this.lastTouched = now;
    }

    static final class Entry {
        Contact contact;
        long lastSeen;
        int failures;

        Entry(Contact contact, long lastSeen) {
            this.contact = contact;
            this.lastSeen = lastSeen;
        }
    }

    int indexOf(NodeId id) {
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).contact.id().equals(id)) {
                return i;
            }
        }
        return -1;
    }

    boolean full() {
        return entries.size() >= k;
    }

    Entry oldest() {
        return entries.get(0);
    }

    void addReplacement(Contact c) {
        replacements.removeIf(r -> r.id().equals(c.id()));
        replacements.addLast(c);
        while (replacements.size() > k) {
            replacements.removeFirst();
        }
    }

    /** Removes entry {@code i} and promotes the newest replacement, if any. */
    Contact removeAndPromote(int i, long now) {
        entries.remove(i);
        Contact promoted = replacements.pollLast();
        if (promoted != null) {
            entries.add(new Entry(promoted, now));
        }
        return promoted;
    }

    void removeReplacement(NodeId id) {
        Iterator<Contact> it = replacements.iterator();
        while (it.hasNext()) {
            if (it.next().id().equals(id)) {
                it.remove();
            }
        }
    }

    List<Contact> contacts() {
        List<Contact> out = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            out.add(e.contact);
        }
        return out;
    }
}
