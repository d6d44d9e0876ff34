package org.p2psip.overlay.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.NodeId;

class RoutingTableTest {
    private int port = 10_000;

    private Contact contact(NodeId id) {
        return new Contact(id, new InetSocketAddress("127.0.0.1", port++));
    }

    /** Checks the bucket layout: bucket i (but the last) holds cpl == i, the last holds cpl >= its index. */
    private static void assertLayout(RoutingTable t) {
        int last = t.bucketCount() - 1;
        for (int i = 0; i <= last; i++) {
            List<Contact> b = t.bucket(i);
            assertTrue(b.size() <= t.k(), "bucket " + i + " holds " + b.size() + " > k");
            for (Contact c : b) {
                int cpl = t.self().commonPrefixLength(c.id());
                if (i < last) {
                    assertEquals(i, cpl, "contact in bucket " + i + " of " + t.bucketCount());
                } else {
                    assertTrue(cpl >= last, "contact with cpl " + cpl + " in last bucket " + last);
                }
            }
        }
    }

    @Test
    void splitsOnlyTheBucketCoveringOwnId() {
        Random rnd = new Random(1);
        NodeId self = NodeId.random(rnd);
        RoutingTable t = new RoutingTable(self, 4, 0);
        // four contacts in the far half fit in the single bucket
        for (int i = 0; i < 4; i++) {
            assertInstanceOf(RoutingTable.Outcome.Added.class, t.seen(contact(self.randomWithPrefix(0, rnd)), 1));
        }
        assertEquals(1, t.bucketCount());
        // a fifth far contact: the bucket covers own id, so it splits, but all four stay in bucket 0 (cpl 0)
        Contact fifth = contact(self.randomWithPrefix(0, rnd));
        RoutingTable.Outcome o = t.seen(fifth, 2);
        assertInstanceOf(RoutingTable.Outcome.Full.class, o);
        assertEquals(2, t.bucketCount());
        assertEquals(4, t.bucket(0).size());
        assertFalse(t.contains(fifth.id()));
        // more far contacts: bucket 0 no longer covers own id and never splits again
        for (int i = 0; i < 20; i++) {
            assertInstanceOf(RoutingTable.Outcome.Full.class, t.seen(contact(self.randomWithPrefix(0, rnd)), 3));
        }
        assertEquals(2, t.bucketCount());
        // near contacts go deeper, each split only at the last bucket
        for (int p = 1; p <= 6; p++) {
            for (int i = 0; i < 4; i++) {
                assertInstanceOf(RoutingTable.Outcome.Added.class, t.seen(contact(self.randomWithPrefix(p, rnd)), 4));
            }
        }
        assertLayout(t);
        assertEquals(28, t.size());
        for (int i = 0; i < t.bucketCount() - 1; i++) {
            assertEquals(4, t.bucket(i).size(), "bucket " + i);
        }
    }

    @Test
    void randomContactsEndUpInTheRightBuckets() {
        Random rnd = new Random(2);
        for (int round = 0; round < 20; round++) {
            NodeId self = NodeId.random(rnd);
            int k = 1 + rnd.nextInt(8);
            RoutingTable t = new RoutingTable(self, k, 0);
            Set<NodeId> in = new HashSet<>();
            int[] perCpl = new int[161];
            for (int i = 0; i < 2000; i++) {
                // geometric prefix lengths, like a real network, plus some uniform ones
                int p = rnd.nextInt(4) == 0 ? rnd.nextInt(160) : Math.min(159, (int) (-Math.log(1 - rnd.nextDouble()) / Math.log(2)));
                NodeId id = self.randomWithPrefix(p, rnd);
                RoutingTable.Outcome o = t.seen(contact(id), i);
                if (o instanceof RoutingTable.Outcome.Added) {
                    assertTrue(in.add(id));
                    perCpl[p]++;
                } else if (o instanceof RoutingTable.Outcome.Full full) {
                    assertEquals(id, full.newcomer().id());
                    // refused only when the contact's bucket already holds k others
                    int bi = Math.min(p, t.bucketCount() - 1);
                    assertEquals(k, t.bucket(bi).size());
                    assertTrue(t.bucket(bi).contains(full.oldest()));
                    assertTrue(bi < t.bucketCount() - 1 || t.bucketCount() == NodeId.BITS,
                            "the bucket covering own id must split rather than refuse");
                }
                if (i % 100 == 0) {
                    assertLayout(t);
                }
            }
            assertLayout(t);
            assertEquals(in.size(), t.size());
            for (Contact c : t.contacts()) {
                assertTrue(in.contains(c.id()));
            }
            // Each prefix length below the last bucket holds min(k, seen) contacts: none lost, none extra
            for (int i = 0; i < t.bucketCount() - 1; i++) {
                assertEquals(Math.min(k, perCpl[i]) , t.bucket(i).size(), "bucket " + i);
            }
        }
    }

    @Test
    void fullBucketReportsLeastRecentlySeenAndKeepsNewcomerAsReplacement() {
        Random rnd = new Random(3);
        NodeId self = NodeId.random(rnd);
        RoutingTable t = new RoutingTable(self, 3, 0);
        // fill bucket 1 after forcing one split with near contacts
        List<Contact> far = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Contact c = contact(self.randomWithPrefix(0, rnd));
            far.add(c);
            t.seen(c, 10 + i);
        }
        for (int i = 0; i < 3; i++) {
            t.seen(contact(self.randomWithPrefix(5, rnd)), 20);
        }
        assertTrue(t.bucketCount() >= 2);
        // far.get(0) is refreshed, so far.get(1) is now the least recently seen
        assertInstanceOf(RoutingTable.Outcome.Refreshed.class, t.seen(far.get(0), 30));
        assertEquals(List.of(far.get(1), far.get(2), far.get(0)), t.bucket(0));
        Contact newcomer = contact(self.randomWithPrefix(0, rnd));
        RoutingTable.Outcome o = t.seen(newcomer, 31);
        RoutingTable.Outcome.Full full = assertInstanceOf(RoutingTable.Outcome.Full.class, o);
        assertEquals(far.get(1), full.oldest());
        assertEquals(newcomer, full.newcomer());
        assertFalse(t.contains(newcomer.id()));

        // one failure is forgiven; the second drops the contact and promotes the newcomer
        assertFalse(t.failed(far.get(1).id(), 32));
        assertTrue(t.contains(far.get(1).id()));
        assertTrue(t.failed(far.get(1).id(), 33));
        assertFalse(t.contains(far.get(1).id()));
        assertTrue(t.contains(newcomer.id()));
        assertEquals(3, t.bucket(0).size());
    }

    @Test
    void successBetweenFailuresResetsTheCount() {
        Random rnd = new Random(4);
        NodeId self = NodeId.random(rnd);
        RoutingTable t = new RoutingTable(self, 4, 0);
        Contact c = contact(self.randomWithPrefix(3, rnd));
        t.seen(c, 0);
        assertFalse(t.failed(c.id(), 1));
        t.seen(c, 2);
        assertFalse(t.failed(c.id(), 3));
        assertTrue(t.contains(c.id()));
        assertFalse(t.isStale(c.id()));
        // the second failure in a row makes it stale; with no replacement and at most k contacts it stays
        assertFalse(t.failed(c.id(), 4));
        assertTrue(t.isStale(c.id()));
        assertEquals(List.of(c), t.closest(c.id(), 3));
        t.seen(c, 5);
        assertFalse(t.isStale(c.id()), "a message from a stale contact makes it live again");
        t.failed(c.id(), 6);
        assertFalse(t.failed(c.id(), 7));
        assertTrue(t.contains(c.id()));
        assertTrue(t.failed(c.id(), 5 + RoutingTable.STALE_KEPT_MILLIS), "silent for long: gone at its next failure");
        assertFalse(t.contains(c.id()));
        NodeId unknown = self.randomWithPrefix(3, rnd);
        assertFalse(t.failed(unknown, 6 + RoutingTable.STALE_KEPT_MILLIS), "failing an unknown contact does nothing");
    }

    @Test
    void staleContactsComeLastAndGoOnceTheTableHasMoreThanK() {
        Random rnd = new Random(5);
        NodeId self = NodeId.random(rnd);
        RoutingTable t = new RoutingTable(self, 4, 0);
        List<Contact> cs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Contact c = contact(self.randomWithPrefix(i, rnd));
            cs.add(c);
            t.seen(c, 0);
        }
        NodeId target = cs.get(0).id();
        // every RPC of an overloaded node times out: it keeps all of its (at most k) contacts, stale
        for (Contact c : cs) {
            t.failed(c.id(), 1);
            assertFalse(t.failed(c.id(), 2));
        }
        assertEquals(4, t.size());
        assertEquals(4, t.closest(target, 4).size(), "lookups still start from stale contacts when nothing else is left");
        // a live contact comes before a stale one closer to the target
        t.seen(cs.get(3), 3);
        assertEquals(cs.get(3), t.closest(target, 4).get(0));
        assertEquals(cs.get(3), t.closest(target, 1).get(0));
        // with more than k contacts, a contact failing without a replacement goes as before
        Contact fifth = contact(self.randomWithPrefix(5, rnd));
        t.seen(fifth, 4);
        t.seen(cs.get(2), 5);
        assertEquals(5, t.size());
        t.failed(cs.get(2).id(), 6);
        assertTrue(t.failed(cs.get(2).id(), 7));
        assertFalse(t.contains(cs.get(2).id()));
    }

    @Test
    void removePromotesTheNewestReplacement() {
        Random rnd = new Random(5);
        NodeId self = NodeId.random(rnd);
        RoutingTable t = new RoutingTable(self, 2, 0);
        List<Contact> in = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Contact c = contact(self.randomWithPrefix(0, rnd));
            in.add(c);
            t.seen(c, i);
        }
        t.seen(contact(self.randomWithPrefix(4, rnd)), 5); // splits: bucket 0 no longer covers own id
        Contact r1 = contact(self.randomWithPrefix(0, rnd));
        Contact r2 = contact(self.randomWithPrefix(0, rnd));
        assertInstanceOf(RoutingTable.Outcome.Full.class, t.seen(r1, 6));
        assertInstanceOf(RoutingTable.Outcome.Full.class, t.seen(r2, 7));
        assertTrue(t.remove(in.get(0).id(), 8));
        assertTrue(t.contains(r2.id()), "the most recent newcomer is promoted first");
        assertFalse(t.contains(r1.id()));
        assertTrue(t.remove(in.get(1).id(), 9));
        assertTrue(t.contains(r1.id()));
        assertEquals(List.of(r2, r1), t.bucket(0));
        // the cache is now empty: a removal leaves a hole
        assertTrue(t.remove(r2.id(), 10));
        assertEquals(List.of(r1), t.bucket(0));
        assertFalse(t.remove(r2.id(), 11));
        // a removed replacement is not promoted later
        Contact r3 = contact(self.randomWithPrefix(0, rnd));
        Contact r4 = contact(self.randomWithPrefix(0, rnd));
        assertInstanceOf(RoutingTable.Outcome.Added.class, t.seen(r3, 12));
        assertInstanceOf(RoutingTable.Outcome.Full.class, t.seen(r4, 13));
        t.remove(r4.id(), 14);
        assertTrue(t.remove(r1.id(), 15));
        assertFalse(t.contains(r4.id()));
    }

    @Test
    void removeAddressDropsEveryContactThere() {
        Random rnd = new Random(6);
        NodeId self = NodeId.random(rnd);
        RoutingTable t = new RoutingTable(self, 8, 0);
        InetSocketAddress shared = new InetSocketAddress("127.0.0.1", 9);
        Contact a = new Contact(self.randomWithPrefix(0, rnd), shared);
        Contact b = new Contact(self.randomWithPrefix(7, rnd), shared);
        Contact c = contact(self.randomWithPrefix(2, rnd));
        t.seen(a, 0);
        t.seen(b, 0);
        t.seen(c, 0);
        t.removeAddress(shared, 1);
        assertEquals(List.of(c), t.contacts());
    }

    @Test
    void oneContactPerAddress() {
        Random rnd = new Random(9);
        NodeId self = NodeId.random(rnd);
        RoutingTable t = new RoutingTable(self, 4, 0);
        InetSocketAddress addr = new InetSocketAddress("127.0.0.1", 7);
        Contact honest = contact(self.randomWithPrefix(3, rnd));
        t.seen(honest, 0);
        // one socket claiming ever new ids holds at most one entry
        Contact last = null;
        for (int i = 0; i < 500; i++) {
            last = new Contact(NodeId.random(rnd), addr);
            t.seen(last, i);
            long at = t.contacts().stream().filter(c -> c.address().equals(addr)).count();
            assertTrue(at <= 1, at + " contacts at one address");
        }
        assertTrue(t.contains(honest.id()));
        assertTrue(t.contains(last.id()) || t.bucket(Math.min(self.commonPrefixLength(last.id()), t.bucketCount() - 1)).size() == 4);
        // a node that restarts with a new id at its address replaces its old entry
        Contact before = contact(self.randomWithPrefix(6, rnd));
        t.seen(before, 600);
        Contact after = new Contact(self.randomWithPrefix(9, rnd), before.address());
        assertInstanceOf(RoutingTable.Outcome.Added.class, t.seen(after, 601));
        assertFalse(t.contains(before.id()));
        // a known id moving to an address another id held takes it over
        Contact moved = new Contact(honest.id(), after.address());
        assertInstanceOf(RoutingTable.Outcome.Refreshed.class, t.seen(moved, 602));
        assertFalse(t.contains(after.id()));
        assertTrue(t.contacts().contains(moved));
        // the address index follows every change
        for (Contact c : t.contacts()) {
            assertTrue(t.containsAddress(c.address()), c.toString());
        }
        assertFalse(t.containsAddress(honest.address()), "the address honest moved away from");
        assertEquals(t.size(), t.contacts().stream().map(Contact::address).distinct().count());
        t.removeAddress(moved.address(), 700);
        assertFalse(t.containsAddress(moved.address()));
        // a full bucket's replacement cache keeps one entry per address too
        RoutingTable full = new RoutingTable(self, 1, 0);
        full.seen(contact(self.randomWithPrefix(0, rnd)), 0);
        full.seen(contact(self.randomWithPrefix(2, rnd)), 0);
        for (int i = 0; i < 5; i++) {
            assertInstanceOf(RoutingTable.Outcome.Full.class, full.seen(new Contact(self.randomWithPrefix(0, rnd), addr), 1));
        }
        Contact newest = new Contact(self.randomWithPrefix(0, rnd), addr);
        full.seen(newest, 2);
        assertTrue(full.remove(full.bucket(0).get(0).id(), 3));
        assertEquals(List.of(newest), full.bucket(0));
        assertTrue(full.remove(newest.id(), 4));
        assertEquals(List.of(), full.bucket(0), "no older id from that address is left to promote");
    }

    @Test
    void closestReturnsTrueClosestSorted() {
        Random rnd = new Random(7);
        NodeId self = NodeId.random(rnd);
        RoutingTable t = new RoutingTable(self, 20, 0);
        for (int i = 0; i < 3000; i++) {
            t.seen(contact(NodeId.random(rnd)), i);
        }
        for (int i = 0; i < 300; i++) {
            t.seen(contact(self.randomWithPrefix(rnd.nextInt(30), rnd)), i);
        }
        List<Contact> all = t.contacts();
        assertTrue(all.size() > 100);
        for (int q = 0; q < 2000; q++) {
            NodeId target = switch (q % 4) {
                case 0 -> NodeId.random(rnd);
                case 1 -> self.randomWithPrefix(rnd.nextInt(20), rnd);
                case 2 -> self.randomWithPrefix(rnd.nextInt(161), rnd);
                default -> all.get(rnd.nextInt(all.size())).id();
            };
            int n = q % 10 == 0 ? all.size() : 1 + rnd.nextInt(45);
            List<Contact> got = t.closest(target, n);
            List<Contact> expected = new ArrayList<>(all);
            expected.sort((x, y) -> target.compareDistance(x.id(), y.id()));
            assertEquals(expected.subList(0, n), got);
        }
        assertEquals(all.size(), t.closest(self, all.size() + 50).size());
        assertEquals(List.of(), t.closest(self, 0));
        List<Contact> bySelf = new ArrayList<>(all);
        bySelf.sort((x, y) -> self.compareDistance(x.id(), y.id()));
        assertEquals(bySelf.subList(0, 25), t.closest(self, 25));
        // an empty table and a table of one
        RoutingTable empty = new RoutingTable(self, 20, 0);
        assertEquals(List.of(), empty.closest(NodeId.random(rnd), 5));
        Contact only = contact(NodeId.random(rnd));
        empty.seen(only, 0);
        assertEquals(List.of(only), empty.closest(NodeId.random(rnd), 5));
        // the table holds itself never
        assertInstanceOf(RoutingTable.Outcome.Ignored.class, t.seen(contact(self), 1));
        assertFalse(t.contains(self));
    }

    @Test
    void refreshTargetsFallInStaleBuckets() {
        Random rnd = new Random(8);
        NodeId self = NodeId.random(rnd);
        RoutingTable t = new RoutingTable(self, 2, 0);
        for (int i = 0; i < 200; i++) {
            t.seen(contact(NodeId.random(rnd)), 0);
            t.seen(contact(self.randomWithPrefix(rnd.nextInt(12), rnd)), 0);
        }
        int buckets = t.bucketCount();
        assertTrue(buckets > 3);
        NodeId inBucket1 = self.randomWithPrefix(1, rnd);
        t.touch(inBucket1, 1000);
        List<NodeId> targets = t.refreshTargets(1000, 500, rnd);
        assertEquals(buckets - 1, targets.size(), "all but the touched bucket are stale");
        Set<Integer> covered = new HashSet<>();
        for (NodeId target : targets) {
            covered.add(Math.min(self.commonPrefixLength(target), buckets - 1));
        }
        assertFalse(covered.contains(1));
        assertEquals(buckets - 1, covered.size());
        assertTrue(t.refreshTargets(1200, 500, rnd).isEmpty(), "refreshing marks the buckets fresh");
        assertEquals(buckets, t.refreshTargets(1600, 500, rnd).size());
    }

    private Contact far(String firstByte, int n) {
        return contact(NodeId.fromHex(firstByte + String.format("%038x", n)));
    }

    @Test
    void aFullBucketTakesContactsOfItsEmptySubRangesFromAnswersOnly() {
        // k = 4: the 2 bits after a bucket's prefix make 4 sub-ranges; bucket 0 here holds 80..ff:
        // 80-9f, a0-bf, c0-df, e0-ff
        RoutingTable t = new RoutingTable(NodeId.fromHex("00" + "0".repeat(38)), 4, 0);
        List<Contact> crowded = List.of(far("80", 1), far("84", 2), far("88", 3), far("8c", 4));
        for (Contact c : crowded) {
            assertInstanceOf(RoutingTable.Outcome.Added.class, t.seen(c, 1));
        }
        assertInstanceOf(RoutingTable.Outcome.Full.class, t.seen(far("90", 5), 2)); // splits; bucket 0 is full
        assertEquals(crowded, t.bucket(0));

        // a requester of an empty sub-range does not get in, but the caller learns that it would
        Contact c0 = far("c0", 6);
        RoutingTable.Outcome.Full full = assertInstanceOf(RoutingTable.Outcome.Full.class, t.seen(c0, 3));
        assertTrue(full.diversifies());
        assertFalse(t.contains(c0.id()));
        // once it answered us, it takes the place of the least recently seen of the crowded sub-range
        RoutingTable.Outcome.Diversified d = assertInstanceOf(RoutingTable.Outcome.Diversified.class, t.seen(c0, 4, true));
        assertEquals(crowded.get(0), d.displaced());
        assertTrue(t.contains(c0.id()));
        assertFalse(t.contains(crowded.get(0).id()));

        // a sub-range with a contact already: no displacement, answered or not
        full = assertInstanceOf(RoutingTable.Outcome.Full.class, t.seen(far("c8", 7), 5, true));
        assertFalse(full.diversifies());
        assertInstanceOf(RoutingTable.Outcome.Diversified.class, t.seen(far("e0", 8), 6, true));
        assertInstanceOf(RoutingTable.Outcome.Diversified.class, t.seen(far("a0", 9), 7, true));
        // one contact per sub-range now: nobody is displaced any more
        full = assertInstanceOf(RoutingTable.Outcome.Full.class, t.seen(far("a8", 10), 8, true));
        assertFalse(full.diversifies());
        Set<Integer> subRanges = new HashSet<>();
        for (Contact c : t.bucket(0)) {
            subRanges.add((c.id().toBytes()[0] & 0x60) >> 5);
        }
        assertEquals(Set.of(0, 1, 2, 3), subRanges, "bucket 0: " + t.bucket(0));
        assertLayout(t);

        // the displaced contacts wait in the replacement cache and come back when a contact fails
        Contact last = crowded.get(3);
        t.failed(last.id(), 9);
        assertTrue(t.failed(last.id(), 10));
        assertEquals(4, t.bucket(0).size());
    }
}
