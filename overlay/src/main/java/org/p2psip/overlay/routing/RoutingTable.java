package org.p2psip.overlay.routing;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.NodeId;

/**
 * Kademlia's routing table: k-buckets over the 160-bit XOR space. It starts as one bucket and splits
 * the bucket that covers its own id when that bucket overflows, so bucket {@code i} (but the last)
 * holds contacts sharing exactly {@code i} leading bits with this node, and the last holds the rest.
 * A full bucket that cannot split keeps its old contacts: the caller pings the least recently seen
 * and evicts it only if it does not answer (see {@link Outcome.Full}).
 *
 * <p><b>Diverse buckets.</b> A far bucket covers a large part of the id space but holds only k contacts,
 * and the first k it hears from tend to sit together (the answers to one refresh lookup all come from
 * around its random target), so a lookup for a key elsewhere in that range starts from far away and takes
 * an extra round trip. So each bucket is divided into {@code 2^b} sub-ranges by the {@code b} bits after its
 * prefix ({@code b = floor(log2 k)}, 16 sub-ranges for k = 20), and a contact of a sub-range the full bucket
 * has no contact in takes the place of the least recently seen contact of its most crowded sub-range (one
 * with two or more), which moves to the replacement cache. Only a contact that answered a request of ours
 * may do so ({@link #seen(Contact, long, boolean)}), so a stranger's requests cannot push real neighbours
 * out; {@link Outcome.Full#diversifies()} tells the caller that a requester would, so that it can ask it
 * to answer a PING first. At most one contact per sub-range enters this way, so the old contacts keep
 * at least {@code k - 2^b} places. Used on one thread only.
 */
public final class RoutingTable {
    /** Consecutive failed RPCs after which a contact is dropped. */
    public static final int MAX_FAILURES = 2;
    /** A stale contact kept for want of a replacement goes at its next failure once silent this long (see {@link #failed}). */
    public static final long STALE_KEPT_MILLIS = 15 * 60_000L;

    private final NodeId self;
    private final int k;
    /** The bits after a bucket's prefix that name its sub-ranges (see the class comment). */
    private final int subRangeBits;
    private final List<KBucket> buckets = new ArrayList<>();
    /** The address of every contact in the buckets (one contact per address). */
    private final Map<InetSocketAddress, NodeId> byAddress = new HashMap<>();
    /** How many replacement-cache entries have each address (kept by the buckets). */
    private final Map<InetSocketAddress, Integer> replacementAddresses = new HashMap<>();
    /** Entries kept stale (see {@link #failed}). */
    private int staleEntries;

    public RoutingTable(NodeId self, int k, long now) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be positive");
        }
        this.self = self;
        this.k = k;
        this.subRangeBits = 31 - Integer.numberOfLeadingZeros(k);
        buckets.add(new KBucket(k, now, replacementAddresses));
    }

    /** What {@link #seen} did with a contact. */
    public sealed interface Outcome {
        /** The contact is now in the table. */
        record Added(Contact contact) implements Outcome { }

        /**
         * The contact, which answered a request of ours, took the place of {@code displaced} in its full bucket:
         * it covers a sub-range the bucket had no contact in. {@code displaced} waits in the replacement cache.
         */
        record Diversified(Contact contact, Contact displaced) implements Outcome { }

        /** The contact was known; its entry is refreshed. */
        record Refreshed(Contact contact) implements Outcome { }

        /**
         * The bucket is full: the newcomer waits in the replacement cache. The caller may ping {@code oldest}
         * (last heard from at {@code oldestLastSeen}) and evict it if it does not answer. {@code diversifies}:
         * the newcomer covers a sub-range the bucket has no contact in and would take a place if it answered
         * a request of ours (see the class comment), so the caller may ping it.
         */
        record Full(Contact newcomer, Contact oldest, long oldestLastSeen, boolean diversifies) implements Outcome { }

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

    /** {@link #seen(Contact, long, boolean)} for a contact that sent us a request (it may not displace others). */
    public Outcome seen(Contact c, long now) {
        return seen(c, now, false);
    }

    /**
     * Records that {@code c} is alive (it sent us a valid message or answered one). The table keeps one
     * contact per address: a new id at a known address replaces the old one (the peer restarted with a
     * new id, or it lies), so one socket cannot fill the table with made-up ids.
     *
     * @param answered {@code c} answered a request of ours (a reply with our request id from the address we
     *                 sent it to): only then may it displace a contact to diversify a full bucket
     */
    public Outcome seen(Contact c, long now, boolean answered) {
        if (c.id().equals(self)) {
            return new Outcome.Ignored();
        }
        KBucket home = buckets.get(bucketIndex(c.id()));
        int known = home.indexOf(c.id());
        if (known < 0 || !home.entries.get(known).contact.address().equals(c.address())) {
            dropOtherIdsAt(c.address(), c.id(), now);
        }
        while (true) {
            int bi = bucketIndex(c.id());
            KBucket b = buckets.get(bi);
            int i = b.indexOf(c.id());
            if (i >= 0) {
                KBucket.Entry e = b.entries.remove(i);
                if (!e.contact.address().equals(c.address())) {
                    byAddress.remove(e.contact.address(), c.id());
                    byAddress.put(c.address(), c.id());
                }
                e.contact = c; // the address may have changed (NAT rebinding)
                e.lastSeen = now;
                if (e.failures >= MAX_FAILURES) {
                    staleEntries--;
                }
                e.failures = 0;
                b.entries.add(e);
                return new Outcome.Refreshed(c);
            }
            if (!b.full()) {
                b.entries.add(new KBucket.Entry(c, now));
                byAddress.put(c.address(), c.id());
                b.removeReplacement(c.id());
                return new Outcome.Added(c);
            }
            if (bi == buckets.size() - 1 && buckets.size() < NodeId.BITS) {
                split(now);
                continue;
            }
            int displace = displaceable(b, bi, c.id());
            if (displace >= 0 && answered) {
                KBucket.Entry gone = b.entries.remove(displace);
                if (gone.failures >= MAX_FAILURES) {
                    staleEntries--;
                }
                byAddress.remove(gone.contact.address(), gone.contact.id());
                b.removeReplacement(c.id());
                b.entries.add(new KBucket.Entry(c, now));
                byAddress.put(c.address(), c.id());
                b.addReplacementOldest(gone.contact);
                return new Outcome.Diversified(c, gone.contact);
            }
            b.addReplacement(c);
            return new Outcome.Full(c, b.oldest().contact, b.oldest().lastSeen, displace >= 0);
        }
    }

    /** The sub-range of bucket {@code bi} that {@code id} falls in: the {@link #subRangeBits} bits after the prefix. */
    private int subRange(NodeId id, int bi) {
        int r = 0;
        for (int j = bi + 1; j <= bi + subRangeBits; j++) {
            r = (r << 1) | (j < NodeId.BITS && id.bit(j) ? 1 : 0);
        }
        return r;
    }

    /**
     * The entry of full bucket {@code b} (index {@code bi}) that {@code newcomer} may displace: when no contact
     * is in the newcomer's sub-range, the least recently seen of the most crowded sub-range, if that holds
     * two or more. -1 otherwise.
     */
    private int displaceable(KBucket b, int bi, NodeId newcomer) {
        if (subRangeBits == 0) {
            return -1;
        }
        int[] count = new int[1 << subRangeBits];
        for (KBucket.Entry e : b.entries) {
            count[subRange(e.contact.id(), bi)]++;
        }
        if (count[subRange(newcomer, bi)] > 0) {
            return -1;
        }
        int max = 0;
        for (int n : count) {
            max = Math.max(max, n);
        }
        if (max < 2) {
            return -1;
        }
        for (int i = 0; i < b.entries.size(); i++) { // least recently seen first
            if (count[subRange(b.entries.get(i).contact.id(), bi)] == max) {
                return i;
            }
        }
        return -1;
    }

    /** Removes entry {@code i} of {@code b}, promoting a replacement, and keeps the address index. */
    private void removeAt(KBucket b, int i, long now) {
        if (b.entries.get(i).failures >= MAX_FAILURES) {
            staleEntries--;
        }
        Contact gone = b.entries.get(i).contact;
        Contact promoted = b.removeAndPromote(i, now);
        byAddress.remove(gone.address(), gone.id());
        if (promoted != null) {
            byAddress.put(promoted.address(), promoted.id());
        }
    }

    /** True when a contact in the table has {@code address} (its link is worth keeping). */
    public boolean containsAddress(InetSocketAddress address) {
        return byAddress.containsKey(address);
    }

    /** Forgets contacts and replacements at {@code address} with an id other than {@code id}. */
    private void dropOtherIdsAt(InetSocketAddress address, NodeId id, long now) {
        if (replacementAddresses.containsKey(address)) {
            for (KBucket b : buckets) {
                if (!b.replacements.isEmpty()) {
                    b.removeReplacementsIf(r -> r.address().equals(address) && !r.id().equals(id));
                }
            }
        }
        NodeId other = byAddress.get(address);
        if (other != null && !other.equals(id)) {
            KBucket b = buckets.get(bucketIndex(other));
            int i = b.indexOf(other);
            if (i >= 0) {
                removeAt(b, i, now);
            }
        }
    }

    private void split(long now) {
        int lastIndex = buckets.size() - 1;
        KBucket last = buckets.get(lastIndex);
        KBucket deeper = new KBucket(k, now, replacementAddresses);
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
     * Records a failed RPC to {@code id}. After {@link #MAX_FAILURES} in a row the contact is <em>stale</em>: it is
     * dropped, and the newest replacement takes its place, when the bucket has a replacement or the table keeps
     * more than k contacts without it. Otherwise it stays, stale (Kademlia §4.1 keeps stale contacts that have no
     * replacement for the same reason): a node whose own RPCs all time out (it is overloaded, or its network is
     * down) would otherwise forget every neighbour of a small overlay within seconds, and nothing would bring them
     * back but their own requests; it then answered gets from its local store alone. A stale contact comes after
     * the live ones in {@link #closest}, and any message from it makes it live again ({@link #seen}); one silent for
     * {@link #STALE_KEPT_MILLIS} goes at its next failure (a node that left for good, not a busy one).
     *
     * @return true when the contact was dropped
     */
    public boolean failed(NodeId id, long now) {
        KBucket b = buckets.get(bucketIndex(id));
        int i = b.indexOf(id);
        if (i < 0) {
            return false;
        }
        KBucket.Entry e = b.entries.get(i);
        if (e.failures >= MAX_FAILURES) {
            // stale already, kept for want of a replacement; silent for so long that it is gone rather than busy
            if (now - e.lastSeen >= STALE_KEPT_MILLIS) {
                removeAt(b, i, now);
                return true;
            }
            return false;
        }
        if (++e.failures < MAX_FAILURES) {
            return false;
        }
        staleEntries++;
        if (!b.replacements.isEmpty() || size() > k || now - e.lastSeen >= STALE_KEPT_MILLIS) {
            removeAt(b, i, now);
            return true;
        }
        return false;
    }

    /** Whether {@code id} is in the table and stale (see {@link #failed}). */
    public boolean isStale(NodeId id) {
        KBucket b = buckets.get(bucketIndex(id));
        int i = b.indexOf(id);
        return i >= 0 && b.entries.get(i).failures >= MAX_FAILURES;
    }

    /** Drops {@code id} at once (its link closed), promoting a replacement. */
    public boolean remove(NodeId id, long now) {
        KBucket b = buckets.get(bucketIndex(id));
        b.removeReplacement(id);
        int i = b.indexOf(id);
        if (i < 0) {
            return false;
        }
        removeAt(b, i, now);
        return true;
    }

    /** Drops every contact at {@code address}. */
    public void removeAddress(InetSocketAddress address, long now) {
        for (KBucket b : buckets) {
            if (replacementAddresses.containsKey(address)) {
                b.removeReplacementsIf(c -> c.address().equals(address));
            }
            for (int i = b.entries.size() - 1; i >= 0; i--) {
                if (b.entries.get(i).contact.address().equals(address)) {
                    removeAt(b, i, now);
                }
            }
        }
    }

    public boolean contains(NodeId id) {
        return buckets.get(bucketIndex(id)).indexOf(id) >= 0;
    }

    /**
     * The {@code n} known contacts closest to {@code target}, closest first. Walks the buckets in XOR
     * order instead of sorting the whole table: with {@code i} the target's bucket, contacts in bucket i
     * are closest (they share more than i leading bits with the target), then those of the deeper
     * buckets (exactly i), then buckets i-1, i-2, ... 0 (exactly j).
     */
    public List<Contact> closest(NodeId target, int n) {
        int stale = staleEntries;
        if (stale == 0 || n <= 0) {
            return closestAny(target, n);
        }
        // the n closest live contacts first, then stale ones if too few are live
        List<Contact> all = closestAny(target, n + stale);
        List<Contact> out = new ArrayList<>(Math.min(n, all.size()));
        List<Contact> staleOnes = new ArrayList<>();
        for (Contact c : all) {
            if (isStale(c.id())) {
                staleOnes.add(c);
            } else if (out.size() < n) {
                out.add(c);
            }
        }
        for (int i = 0; i < staleOnes.size() && out.size() < n; i++) {
            out.add(staleOnes.get(i));
        }
        return out;
    }

    private List<Contact> closestAny(NodeId target, int n) {
        List<Contact> out = new ArrayList<>(Math.max(0, Math.min(n, size())));
        if (n <= 0) {
            return out;
        }
        Comparator<Contact> byDistance = (a, b) -> target.compareDistance(a.id(), b.id());
        int last = buckets.size() - 1;
        int i = bucketIndex(target);
        takeClosest(buckets.get(i).contacts(), byDistance, out, n);
        if (out.size() < n && i < last) {
            List<Contact> deeper = new ArrayList<>();
            for (int j = i + 1; j <= last; j++) {
                for (KBucket.Entry e : buckets.get(j).entries) {
                    deeper.add(e.contact);
                }
            }
            takeClosest(deeper, byDistance, out, n);
        }
        for (int j = i - 1; j >= 0 && out.size() < n; j--) {
            takeClosest(buckets.get(j).contacts(), byDistance, out, n);
        }
        return out;
    }

    /** Appends the closest of {@code group} to {@code out}, in order, until {@code out} holds {@code n}. */
    private static void takeClosest(List<Contact> group, Comparator<Contact> byDistance, List<Contact> out, int n) {
        int room = n - out.size();
        if (group.size() > room && room < group.size() / 4) {
            // keep only the room closest: a max-heap of that size
            PriorityQueue<Contact> heap = new PriorityQueue<>(room + 1, byDistance.reversed());
            for (Contact c : group) {
                heap.add(c);
                if (heap.size() > room) {
                    heap.poll();
                }
            }
            group = new ArrayList<>(heap);
        }
        group.sort(byDistance);
        for (Contact c : group) {
            if (out.size() >= n) {
                return;
            }
            out.add(c);
        }
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
