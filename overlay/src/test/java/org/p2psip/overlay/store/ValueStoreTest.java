package org.p2psip.overlay.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.wire.Message.Status;

class ValueStoreTest {
    static final long NOW = 1_800_000_000_000L;
    static final long HOUR = 3_600_000L;
    static final NodeId KEY = NodeId.ofName("sip:alice@example.net");

    /** Accepts every put and remove, so the store's own rules are tested alone. */
    static final StoragePolicy ANY = new StoragePolicy() {
        @Override
        public Decision checkPut(NodeId key, DhtValue value, DhtValue existing, long nowMillis) {
            return Decision.ACCEPT;
        }

        @Override
        public Decision checkRemove(NodeId key, RemoveRequest request, DhtValue existing, long nowMillis) {
            return Decision.ACCEPT;
        }
    };

    static ValueStore store(StoragePolicy p) {
        return new ValueStore(p, 64L << 20, 16L << 20, 1024, 7 * 24 * HOUR);
    }

    static DhtValue value(String owner, String nonce, String data, long expires) {
        return new DhtValue(Bytes.utf8(owner), Bytes.utf8(nonce), Bytes.utf8(data), expires);
    }

    static DhtValue sized(int i, int dataBytes, long expires) {
        byte[] d = new byte[dataBytes];
        new Random(i).nextBytes(d);
        return new DhtValue(Bytes.utf8("o" + i), Bytes.utf8("n" + i), Bytes.wrap(d), expires);
    }

    @Test
    void keyHoldsOneValuePerOwnerAndNonce() {
        ValueStore s = store(ANY);
        DhtValue a1 = value("alice", "1", "contact-a1", NOW + HOUR);
        DhtValue a2 = value("alice", "2", "contact-a2", NOW + HOUR);
        DhtValue b1 = value("bob", "1", "contact-b1", NOW + HOUR);
        for (DhtValue v : List.of(b1, a2, a1)) {
            ValueStore.Outcome o = s.put(KEY, v, "src", NOW);
            assertEquals(Status.OK, o.status());
            assertTrue(o.changed());
        }
        assertEquals(List.of(a1, a2, b1), s.get(KEY, NOW), "values in value-id order");
        assertEquals(3, s.valueCount());
        assertEquals(1, s.keyCount());
        // same (owner, nonce) replaces; nothing else changes
        DhtValue a1b = value("alice", "1", "contact-a1-moved", NOW + HOUR);
        assertTrue(s.put(KEY, a1b, "src", NOW).changed());
        assertEquals(List.of(a1b, a2, b1), s.get(KEY, NOW));
        assertEquals(3, s.valueCount());
        // the identical value again is no change
        ValueStore.Outcome same = s.put(KEY, a1b, "src", NOW);
        assertEquals(Status.OK, same.status());
        assertFalse(same.changed());
        // another key is independent
        assertEquals(List.of(), s.get(NodeId.ofName("sip:nobody@example.net"), NOW));
        assertEquals(a1b.footprint() + a2.footprint() + b1.footprint(), s.bytes());
    }

    @Test
    void refreshMayOnlyExtendTheExpiry() {
        ValueStore s = store(new SecretHashPolicy());
        DhtValue v = SecretHashPolicy.value(Bytes.utf8("sip:bob@192.0.2.4"), Bytes.EMPTY, NOW + HOUR);
        assertEquals(Status.OK, s.put(KEY, v, "a", NOW).status());
        DhtValue later = SecretHashPolicy.value(v.data(), Bytes.EMPTY, NOW + 2 * HOUR);
        ValueStore.Outcome o = s.put(KEY, later, "a", NOW);
        assertEquals(Status.OK, o.status());
        assertTrue(o.changed());
        assertEquals(List.of(later), s.get(KEY, NOW));
        DhtValue earlier = SecretHashPolicy.value(v.data(), Bytes.EMPTY, NOW + HOUR + HOUR / 2);
        ValueStore.Outcome r = s.put(KEY, earlier, "a", NOW);
        assertEquals(Status.REFUSED, r.status());
        assertTrue(r.reason().contains("extend"), r.reason());
        assertEquals(List.of(later), s.get(KEY, NOW), "a refused refresh leaves the stored copy");
        assertEquals(1, s.valueCount());
        assertEquals(later.footprint(), s.bytes());
    }

    @Test
    void expiredOrTooLongValues() {
        ValueStore s = new ValueStore(ANY, 1 << 20, 1 << 20, 100, HOUR);
        ValueStore.Outcome o = s.put(KEY, value("a", "1", "x", NOW), "s", NOW);
        assertEquals(Status.REFUSED, o.status());
        assertEquals(0, s.valueCount());
        assertEquals(Status.OK, s.put(KEY, value("a", "2", "x", NOW + 100 * HOUR), "s", NOW).status());
        assertEquals(NOW + HOUR, s.get(KEY, NOW).get(0).expiresAtMillis(), "expiry clamped to the maximum TTL");
    }

    @Test
    void totalQuotaRefusesWithCapacity() {
        DhtValue probe = sized(0, 1000, NOW + HOUR);
        int fp = probe.footprint();
        ValueStore s = new ValueStore(ANY, 3L * fp + fp / 2, 1L << 30, 1000, 7 * 24 * HOUR);
        for (int i = 0; i < 3; i++) {
            assertEquals(Status.OK, s.put(NodeId.ofName("k" + i), sized(i, 1000, NOW + HOUR), "src" + i, NOW).status());
        }
        ValueStore.Outcome o = s.put(NodeId.ofName("k3"), sized(3, 1000, NOW + HOUR), "src3", NOW);
        assertEquals(Status.CAPACITY, o.status());
        assertTrue(o.reason().contains("full") && o.reason().contains(String.valueOf(s.maxBytes())), o.reason());
        assertFalse(o.changed());
        assertEquals(3, s.valueCount());
        assertEquals(List.of(), s.get(NodeId.ofName("k3"), NOW));
        // a smaller value still fits
        assertEquals(Status.OK, s.put(NodeId.ofName("k4"), sized(4, 10, NOW + HOUR), "src4", NOW).status());
        // existing data is intact
        for (int i = 0; i < 3; i++) {
            assertEquals(List.of(sized(i, 1000, NOW + HOUR)), s.get(NodeId.ofName("k" + i), NOW));
        }
        assertTrue(s.bytes() <= s.maxBytes());
        // freeing space (removal) lets the refused value in
        s.remove(new StoragePolicy.RemoveRequest(NodeId.ofName("k0"), Bytes.utf8("o0"), Bytes.utf8("n0"), Bytes.EMPTY), NOW + HOUR, "remover", NOW);
        assertEquals(Status.OK, s.put(NodeId.ofName("k3"), sized(3, 1000, NOW + HOUR), "src3", NOW).status());
    }

    @Test
    void perSourceQuotaRefusesOnlyThatSource() {
        DhtValue probe = sized(0, 500, NOW + HOUR);
        int fp = probe.footprint();
        ValueStore s = new ValueStore(ANY, 100L * fp, 2L * fp, 1000, 7 * 24 * HOUR);
        assertEquals(Status.OK, s.put(KEY, sized(1, 500, NOW + HOUR), "greedy", NOW).status());
        assertEquals(Status.OK, s.put(KEY, sized(2, 500, NOW + HOUR), "greedy", NOW).status());
        ValueStore.Outcome o = s.put(KEY, sized(3, 500, NOW + HOUR), "greedy", NOW);
        assertEquals(Status.CAPACITY, o.status());
        assertTrue(o.reason().contains("share") && o.reason().contains(String.valueOf(2L * fp)), o.reason());
        assertEquals(Status.OK, s.put(KEY, sized(3, 500, NOW + HOUR), "polite", NOW).status());
        assertEquals(3, s.get(KEY, NOW).size());
        assertEquals(2L * fp, s.bytesBySource().get("greedy"));
        assertEquals((long) fp, s.bytesBySource().get("polite"));
    }

    @Test
    void aSourceCannotExceedItsShareByTakingOverOtherValues() {
        // Re-putting a value another source stored (e.g. a refresh with a later expiry) moves its
        // bytes to the new source, so that must be checked against the new source's quota too.
        DhtValue probe = sized(0, 500, NOW + HOUR);
        int fp = probe.footprint();
        ValueStore s = new ValueStore(ANY, 100L * fp, 2L * fp, 1000, 7 * 24 * HOUR);
        for (int i = 0; i < 10; i++) {
            assertEquals(Status.OK, s.put(KEY, sized(i, 500, NOW + HOUR), "writer" + i, NOW).status());
        }
        int refused = 0;
        for (int i = 0; i < 10; i++) {
            ValueStore.Outcome o = s.put(KEY, sized(i, 500, NOW + 2 * HOUR), "taker", NOW);
            if (o.status() == Status.CAPACITY) {
                refused++;
            }
            for (Map.Entry<Object, Long> e : s.bytesBySource().entrySet()) {
                assertTrue(e.getValue() <= 2L * fp, e.getKey() + " holds " + e.getValue() + " bytes, over its share of " + 2L * fp);
            }
        }
        assertEquals(8, refused);
        long sum = 0;
        for (long b : s.bytesBySource().values()) {
            sum += b;
        }
        assertEquals(s.bytes(), sum, "per-source accounting adds up to the total");
    }

    @Test
    void valuesPerKeyLimit() {
        ValueStore s = new ValueStore(ANY, 1L << 30, 1L << 30, 3, 7 * 24 * HOUR);
        for (int i = 0; i < 3; i++) {
            assertEquals(Status.OK, s.put(KEY, sized(i, 10, NOW + HOUR), "s", NOW).status());
        }
        ValueStore.Outcome o = s.put(KEY, sized(3, 10, NOW + HOUR), "s", NOW);
        assertEquals(Status.CAPACITY, o.status());
        assertTrue(o.reason().contains("3 values"), o.reason());
        // replacing an existing one is fine
        assertEquals(Status.OK, s.put(KEY, sized(2, 20, NOW + HOUR), "s", NOW).status());
    }

    @Test
    void tombstoneBlocksReputOfRemovedValue() {
        ValueStore s = store(new SecretHashPolicy());
        Bytes secret = Bytes.utf8("my secret");
        DhtValue v = SecretHashPolicy.value(Bytes.utf8("sip:carol@192.0.2.9"), secret, NOW + HOUR);
        assertEquals(Status.OK, s.put(KEY, v, "a", NOW).status());
        ValueStore.Outcome r = s.remove(new StoragePolicy.RemoveRequest(KEY, v.owner(), v.nonce(), secret), v.expiresAtMillis(), "remover", NOW + 1);
        assertEquals(Status.OK, r.status());
        assertTrue(r.changed());
        assertEquals(v, r.value());
        assertEquals(List.of(), s.get(KEY, NOW + 1));
        assertEquals(ValueStore.tombstoneFootprint(v.id()), s.bytes(), "the tombstone is charged in place of the value");
        assertEquals(Map.of("a", (long) ValueStore.tombstoneFootprint(v.id())), s.bytesBySource(), "to the value's source");
        // a late replica of the same value cannot bring it back
        ValueStore.Outcome again = s.put(KEY, v, "replica", NOW + 2);
        assertEquals(Status.REFUSED, again.status());
        assertTrue(again.reason().contains("removed"), again.reason());
        assertEquals(List.of(), s.get(KEY, NOW + 2));
        // a remove arriving before the value also blocks it
        DhtValue w = SecretHashPolicy.value(Bytes.utf8("sip:dave@192.0.2.10"), secret, NOW + HOUR);
        assertEquals(Status.OK, s.remove(new StoragePolicy.RemoveRequest(KEY, w.owner(), w.nonce(), secret), w.expiresAtMillis(), "remover", NOW).status());
        assertEquals(Status.REFUSED, s.put(KEY, w, "late", NOW + 5).status());
        // sweep after the tombstone ends forgets it
        s.sweep(NOW + HOUR + 1, (k, x) -> { });
        assertEquals(0, s.keyCount());
        assertEquals(0, s.bytes());
        assertTrue(s.bytesBySource().isEmpty());
        DhtValue fresh = SecretHashPolicy.value(v.data(), secret, NOW + 3 * HOUR);
        assertEquals(Status.OK, s.put(KEY, fresh, "a", NOW + HOUR + 2).status());
    }

    /** Removes of values a node never held must not let one source fill memory with tombstones. */
    @Test
    void tombstonesCountAgainstTheQuotas() {
        long week = 7 * 24 * HOUR;
        ValueStore s = new ValueStore(new SecretHashPolicy(), 100_000, 40_000, 1024, week);
        int accepted = 0;
        ValueStore.Outcome refusal = null;
        for (int i = 0; i < 20_000; i++) {
            Bytes secret = Bytes.utf8("made-up secret " + i);
            StoragePolicy.RemoveRequest req = new StoragePolicy.RemoveRequest(NodeId.ofName("made-up key " + i),
                    SecretHashPolicy.sha1(secret), SecretHashPolicy.sha1(Bytes.utf8("data " + i)), secret);
            ValueStore.Outcome o = s.remove(req, NOW + week, "attacker", NOW);
            if (o.status().ok()) {
                accepted++;
            } else {
                refusal = o;
            }
        }
        assertTrue(s.bytes() <= 40_000, "tombstones hold " + s.bytes() + " bytes");
        assertTrue(s.keyCount() <= 40_000 / 64, s.keyCount() + " keys held for tombstones");
        assertEquals(s.keyCount(), accepted);
        assertEquals(Status.CAPACITY, refusal.status());
        assertTrue(refusal.reason().contains("share"), refusal.reason());
        // others can still store
        DhtValue v = SecretHashPolicy.value(Bytes.utf8("honest"), Bytes.EMPTY, NOW + HOUR + week);
        assertEquals(Status.OK, s.put(KEY, v, "honest", NOW + HOUR).status());
        // a removal of a held value always fits: it frees more than its tombstone takes
        ValueStore tight = new ValueStore(new SecretHashPolicy(), 200, 200, 10, week);
        Bytes secret = Bytes.utf8("s");
        DhtValue held = SecretHashPolicy.value(Bytes.utf8("x".repeat(50)), secret, NOW + HOUR);
        assertEquals(Status.OK, tight.put(KEY, held, "w", NOW).status());
        assertTrue(tight.remove(new StoragePolicy.RemoveRequest(KEY, held.owner(), held.nonce(), secret), NOW + HOUR, "stranger", NOW).changed());
        // and expired tombstones give their bytes back
        s.sweep(NOW + week, (k, x) -> { });
        assertEquals(v.footprint(), s.bytes());
        assertEquals(1, s.keyCount());
    }

    @Test
    void pagingCoversAllValuesExactlyOnce() {
        Random rnd = new Random(9);
        for (int round = 0; round < 30; round++) {
            ValueStore s = store(ANY);
            int n = 1 + rnd.nextInt(300);
            Set<DhtValue> live = new HashSet<>();
            for (int i = 0; i < n; i++) {
                byte[] owner = new byte[rnd.nextInt(DhtValue.MAX_ID_BYTES + 1)];
                byte[] nonce = new byte[rnd.nextInt(DhtValue.MAX_ID_BYTES + 1)];
                rnd.nextBytes(owner);
                rnd.nextBytes(nonce);
                byte[] data = new byte[rnd.nextInt(3000)];
                // a fifth expire before the paging starts
                long exp = rnd.nextInt(5) == 0 ? NOW + 10 : NOW + HOUR;
                DhtValue v = new DhtValue(Bytes.wrap(owner), Bytes.wrap(nonce), Bytes.wrap(data), exp);
                if (s.put(KEY, v, "s", NOW).changed()) {
                    live.removeIf(x -> x.id().equals(v.id()));
                    if (exp > NOW + 10) {
                        live.add(v);
                    }
                }
            }
            long now = NOW + 20;
            int maxValues = rnd.nextInt(3) == 0 ? 0 : 1 + rnd.nextInt(10);
            int maxBytes = 1 + rnd.nextInt(20_000);
            List<DhtValue> seen = new ArrayList<>();
            Bytes placemark = Bytes.EMPTY;
            int pages = 0;
            do {
                ValueStore.Page p = s.page(KEY, maxValues, placemark, maxBytes, now);
                assertTrue(maxValues == 0 || p.values().size() <= maxValues);
                assertTrue(p.values().size() <= 1 || p.values().stream().mapToInt(DhtValue::footprint).sum() <= maxBytes);
                assertTrue(!p.values().isEmpty() || p.placemark().isEmpty(), "an empty page ends the listing");
                seen.addAll(p.values());
                placemark = p.placemark();
                assertTrue(++pages <= n + 1, "paging does not terminate");
            } while (!placemark.isEmpty());
            assertEquals(live.size(), seen.size(), "round " + round + ": each live value exactly once");
            assertEquals(live, new HashSet<>(seen));
            assertEquals(s.get(KEY, now), seen, "pages come in value-id order");
        }
    }

    @Test
    void pagingSurvivesRemovalOfThePlacemarkValue() {
        ValueStore s = store(ANY);
        List<DhtValue> all = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            DhtValue v = value("o", String.format("%02d", i), "d" + i, NOW + HOUR);
            all.add(v);
            s.put(KEY, v, "s", NOW);
        }
        ValueStore.Page p1 = s.page(KEY, 5, Bytes.EMPTY, 1 << 20, NOW);
        assertEquals(all.subList(0, 5), p1.values());
        DhtValue last = p1.values().get(4);
        s.remove(new StoragePolicy.RemoveRequest(KEY, last.owner(), last.nonce(), Bytes.EMPTY), NOW + HOUR, "remover", NOW);
        ValueStore.Page p2 = s.page(KEY, 100, p1.placemark(), 1 << 20, NOW);
        assertEquals(all.subList(5, 20), p2.values());
        assertTrue(p2.placemark().isEmpty());
        // a garbage placemark ends the listing rather than failing
        ValueStore.Page bad = s.page(KEY, 0, Bytes.utf8("\u0009garbage"), 1 << 20, NOW);
        assertEquals(List.of(), bad.values());
        assertTrue(bad.placemark().isEmpty());
    }

    @Test
    void sweepExpiresOnTime() {
        ValueStore s = store(ANY);
        DhtValue early = value("a", "1", "early", NOW + 1000);
        DhtValue late = value("a", "2", "late", NOW + 2000);
        DhtValue other = value("b", "1", "other", NOW + 1000);
        s.put(KEY, early, "s", NOW);
        s.put(KEY, late, "s", NOW);
        s.put(NodeId.ofName("other"), other, "t", NOW);
        List<DhtValue> expired = new ArrayList<>();
        s.sweep(NOW + 999, (k, v) -> expired.add(v));
        assertEquals(List.of(), expired);
        assertEquals(3, s.valueCount());
        assertEquals(List.of(early, late), s.get(KEY, NOW + 999));
        // at the expiry instant the value is gone from reads even before a sweep
        assertEquals(List.of(late), s.get(KEY, NOW + 1000));
        s.sweep(NOW + 1000, (k, v) -> expired.add(v));
        assertEquals(Set.of(early, other), new HashSet<>(expired));
        assertEquals(1, s.valueCount());
        assertEquals(1, s.keyCount());
        assertEquals(late.footprint(), s.bytes());
        assertEquals(null, s.bytesBySource().get("t"), "an emptied source is forgotten");
        s.sweep(NOW + 2000, (k, v) -> expired.add(v));
        assertEquals(3, expired.size());
        assertEquals(0, s.valueCount());
        assertEquals(0, s.keyCount());
        assertEquals(0, s.bytes());
        assertTrue(s.bytesBySource().isEmpty());
    }
}
