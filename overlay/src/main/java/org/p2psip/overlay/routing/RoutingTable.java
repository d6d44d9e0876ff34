package org.p2psip.overlay.routing;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.NodeId;

/**
 * Kademlia's routing table: k-buckets over the 160-bit XOR space. It starts as one bucket and splits
 * the bucket that covers its own id when that bucket overflows, so bucket {@code i} (but the last)
 * holds contacts sharing exactly {@code i} leading bits with this node, and the last holds the rest.
 * A full bucket that cannot split keeps its old contacts: the caller pings the least recently seen
 * and evicts it only if it does not answer (see {@link Outcome.Full}). Used on one thread only.
 */
public final class RoutingTable {
    /** Consecutive failed RPCs after which a contact is dropped. */
    public static final int MAX_FAILURES = 2;

    private final NodeId self;
    private final int k;
    private final List<KBucket> buckets = new ArrayList<>();

    public RoutingTable(NodeId self, int k, long now) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be positive");
        }
        this.self = self;
        this.k = k;
        buckets.add(new KBucket(k, now));
    }

    /** What {@link #seen} did with a contact. */
    public sealed interface Outcome {
        /** The contact is now in the table. */
        record Added(Contact contact) implements Outcome { }

        /** The contact was known; its entry is refreshed. */
        record Refreshed(Contact contact) implements Outcome { }

        /** The bucket is full: the newcomer waits in the replacement cache; ping {@code oldest}. */
        record Full(Contact newcomer, Contact oldest) implements Outcome { }

        /** The contact is this node itself. */
        record Ignored() implements Outcome { }
    }

    public NodeId self() {
        return self;
    }

    public int k() {
        return k;
    }

    private int bucketIndex(NodeId id) {
        return Math.min(self.commonPrefixLength(id), buckets.size() - 1);
    }

    /** Records that {@code c} is alive (it sent us a valid message or answered one). */
    public Outcome seen(Contact c, long now) {
        if (c.id().equals(self)) {
            return new Outcome.Ignored();
        }
        while (true) {
            int bi = bucketIndex(c.id());
            KBucket b = buckets.get(bi);
            int i = b.indexOf(c.id());
            if (i >= 0) {
                KBucket.Entry e = b.entries.remove(i);
                e.contact = c; // the address may have changed (NAT rebinding)
                e.lastSeen = now;
                e.failures = 0;
                b.entries.add(e);
                return new Outcome.Refreshed(c);
            }
            if (!b.full()) {
                b.entries.add(new KBucket.Entry(c, now));
                b.removeReplacement(c.id());
                return new Outcome.Added(c);
            }
            if (bi == buckets.size() - 1 && buckets.size() < NodeId.BITS) {
                split(now);
                continue;
            }
            b.addReplacement(c);
            return new Outcome.Full(c, b.oldest().contact);
        }
    }

    private void split(long now) {
        int lastIndex = buckets.size() - 1;
        KBucket last = buckets.get(lastIndex);
        KBucket deeper = new KBucket(k, now);
        deeper.lastTouched = last.lastTouched;
        last.entries.removeIf(e -> {
            if (self.commonPrefixLength(e.contact.id()) > lastIndex) {
                deeper.entries.add(e);
                return true;
            }
            return false;
        });
        last.replacements.removeIf(c -> {
            if (self.commonPrefixLength(c.id()) > lastIndex) {
                deeper.replacements.add(c);
                return true;
            }
            return false;
        });
        buckets.add(deeper);
    }

    /**
     * Records a failed RPC to {@code id}. After {@link #MAX_FAILURES} in a row the contact is dropped
     * and the newest replacement takes its place.
     *
     * @return true when the contact was dropped
     */
    public boolean failed(NodeId id, long now) {
        KBucket b = buckets.get(bucketIndex(id));
        int i = b.indexOf(id);
        if (i < 0) {
            return false;
        }
        if (++b.entries.get(i).failures >= MAX_FAILURES) {
            b.removeAndPromote(i, now);
            return true;
        }
        return false;
    }

    /** Drops {@code id} at once (its link closed), promoting a replacement. */
    public boolean remove(NodeId id, long now) {
        KBucket b = buckets.get(bucketIndex(id));
        b.removeReplacement(id);
        int i = b.indexOf(id);
        if (i < 0) {
            return false;
        }
        b.removeAndPromote(i, now);
        return true;
    }

    /** Drops every contact at {@code address}. */
    public void removeAddress(InetSocketAddress address, long now) {
        for (KBucket b : buckets) {
            b.replacements.removeIf(c -> c.address().equals(address));
            for (int i = b.entries.size() - 1; i >= 0; i--) {
                if (b.entries.get(i).contact.address().equals(address)) {
                    b.removeAndPromote(i, now);
                }
            }
        }
    }

    public boolean contains(NodeId id) {
        return buckets.get(bucketIndex(id)).indexOf(id) >= 0;
    }

    /** The {@code n} known contacts closest to {@code target}, closest first. */
    public List<Contact> closest(NodeId target, int n) {
        List<Contact> all = contacts();
        Comparator<Contact> byDistance = (a, b) -> target.compareDistance(a.id(), b.id());
        all.sort(byDistance);
        return all.size() > n ? new ArrayList<>(all.subList(0, n)) : all;
    }

    /** Every contact in the table. */
    public List<Contact> contacts() {
        List<Contact> all = new ArrayList<>(size());
        for (KBucket b : buckets) {
            for (KBucket.Entry e : b.entries) {
                all.add(e.contact);
            }
        }
        return all;
    }

    public int size() {
        int n = 0;
        for (KBucket b : buckets) {
            n += b.entries.size();
        }
        return n;
    }

    public int bucketCount() {
        return buckets.size();
    }

    /** Contacts in bucket {@code i}, least recently seen first. */
    public List<Contact> bucket(int i) {
        return buckets.get(i).contacts();
    }

    /** Marks the bucket covering {@code target} as recently used by a lookup. */
    public void touch(NodeId target, long now) {
        buckets.get(bucketIndex(target)).lastTouched = now;
    }

    /**
     * Random targets, one per bucket not used by a lookup for {@code intervalMillis}, whose lookups
     * refresh those buckets.
     */
    public List<NodeId> refreshTargets(long now, long intervalMillis, Random rnd) {
        List<NodeId> out = new ArrayList<>();
        for (int i = 0; i < buckets.size(); i++) {
            KBucket b = buckets.get(i);
            if (now - b.lastTouched >= intervalMillis) {
                out.add(self.randomWithPrefix(i, rnd));
                b.lastTouched = now;
            }
        }
        return out;
    }
}
