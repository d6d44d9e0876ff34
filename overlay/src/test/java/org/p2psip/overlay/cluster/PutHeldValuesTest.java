package org.p2psip.overlay.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.HeldValues;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.store.SecretHashPolicy;

/**
 * A put's replies say what each replica holds under the key after storing it (owner, nonce and expiry of every
 * value), for small values (conditional PUT, answered by PUT_REPLY) and large ones (plain PUT, answered by PUT_ACK);
 * a key holding more than {@link HeldValues#MAX_ENTRIES} values gives no summary, so the writer must read it.
 */
class PutHeldValuesTest {
    private static final OverlayConfig CFG = Cluster.LOOPBACK.withMaintenance(600_000, 600_000, 600_000, 1_000);

    @Test
    void repliesSummariseTheKeyAfterTheStore() throws Exception {
        try (Cluster c = new Cluster(31).grow(10, CFG)) {
            long expires = System.currentTimeMillis() + 120_000;
            NodeId key = NodeId.ofName("several owners");
            List<DhtValue> put = new ArrayList<>();
            PutResult last = null;
            for (int i = 0; i < 3; i++) {
                // 3 owners (secrets); the last one large enough for a plain PUT of several fragments
                Bytes data = i < 2 ? Bytes.utf8("small value " + i) : Bytes.wrap(new byte[5_000]);
                DhtValue v = SecretHashPolicy.value(data, Bytes.utf8("secret " + i), expires + i);
                last = Cluster.await(c.nodes.get(i).put(key, v));
                assertEquals(last.contacted(), last.stored(), "every replica stored value " + i + ": " + last);
                assertTrue(last.heldEverywhere(), "every replica summarised the key after value " + i + ": " + last);
                put.add(v);
                List<HeldValues.Held> expected = put.stream()
                        .map(x -> new HeldValues.Held(x.owner(), x.nonce(), x.expiresAtMillis()))
                        .sorted((a, b) -> a.id().compareTo(b.id())).toList();
                for (HeldValues h : last.held()) {
                    assertEquals(new HeldValues(expected, true), h);
                }
            }
            assertEquals(CFG.replicas(), last.held().size());

            // a refresh of one value: the summaries show its new expiry and the others unchanged
            DhtValue first = put.get(0);
            DhtValue refreshed = new DhtValue(first.owner(), first.nonce(), first.data(), expires + 60_000);
            PutResult r = Cluster.await(c.nodes.get(5).put(key, refreshed));
            assertTrue(r.heldEverywhere(), r.toString());
            for (HeldValues h : r.held()) {
                assertTrue(h.values().contains(new HeldValues.Held(first.owner(), first.nonce(), expires + 60_000)), h.toString());
                assertEquals(3, h.values().size());
            }
        }
    }

    @Test
    void aKeyWithMoreValuesThanASummaryHoldsGivesNone() throws Exception {
        try (Cluster c = new Cluster(32).grow(6, CFG)) {
            long expires = System.currentTimeMillis() + 120_000;
            NodeId key = NodeId.ofName("crowded");
            PutResult r = null;
            for (int i = 0; i <= HeldValues.MAX_ENTRIES; i++) {
                r = Cluster.await(c.random().put(key, SecretHashPolicy.value(Bytes.utf8("v" + i), Bytes.utf8("s" + i), expires)));
                assertEquals(r.contacted(), r.stored(), r.toString());
                if (i < HeldValues.MAX_ENTRIES) {
                    assertTrue(r.heldEverywhere(), "value " + i + ": " + r);
                    assertEquals(i + 1, r.held().get(0).values().size());
                }
            }
            // the 33rd value: stored everywhere, summarised nowhere
            assertFalse(r.heldEverywhere(), r.toString());
            assertTrue(r.held().isEmpty(), r.toString());
        }
    }
}
