package org.p2psip.overlay.routing;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
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
    /**
     * How many replacements, in all buckets of the table, have each address (shared by the table's buckets),
     * so the table checks "is this address in a replacement cache?" without scanning every cache.
     */
    private final Map<InetSocketAddress, Integer> replacementAddresses;
    long lastTouched;

    KBucket(int k, long now, Map<InetSocketAddress, Integer> replacementAddresses) {
        this.k = k;
        this.lastTouched = now;
        this.replacementAddresses = replacementAddresses;
    }

    private void counted(InetSocketAddress a, int delta) {
        replacementAddresses.merge(a, delta, (x, y) -> x + y == 0 ? null : x + y);
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
        removeReplacement(c.id());
        replacements.addLast(c);
        counted(c.address(), 1);
        while (replacements.size() > k) {
            counted(replacements.removeFirst().address(), -1);
        }
    }

    /**
     * Keeps {@code c}, a live contact displaced to diversify the bucket, as the oldest replacement: the first
     * to go when the cache overflows and the last to be promoted (newer replacements are likelier alive).
     * Dropped when the cache is full.
     */
    void addReplacementOldest(Contact c) {
        removeReplacement(c.id());
        if (replacements.size() < k) {
            replacements.addFirst(c);
            counted(c.address(), 1);
        }
    }

    /** Removes entry {@code i} and promotes the newest replacement, if any. */
    Contact removeAndPromote(int i, long now) {
        entries.remove(i);
        Contact promoted = replacements.pollLast();
        if (promoted != null) {
            counted(promoted.address(), -1);
            entries.add(new Entry(promoted, now));
        }
        return promoted;
    }

    void removeReplacement(NodeId id) {
        removeReplacementsIf(r -> r.id().equals(id));
    }

    void removeReplacementsIf(Predicate<Contact> which) {
        Iterator<Contact> it = replacements.iterator();
        while (it.hasNext()) {
            Contact r = it.next();
            if (which.test(r)) {
                it.remove();
                counted(r.address(), -1);
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
