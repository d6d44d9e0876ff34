package org.p2psip.overlay.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.store.StoragePolicy;
import org.p2psip.overlay.wire.WireCodec;

/** A key whose values fill several GET reply pages is read in full over the wire. */
class SimPagingTest {
    /** Accepts everything, like a signed-record policy would for valid signatures: owners and nonces of up to 64 bytes. */
    private static final StoragePolicy ANY = new StoragePolicy() {
        @Override
        public Decision checkPut(NodeId key, DhtValue value, DhtValue existing, long nowMillis) {
            return Decision.ACCEPT;
        }

        @Override
        public Decision checkRemove(NodeId key, RemoveRequest request, DhtValue existing, long nowMillis) {
            return Decision.ACCEPT;
        }
    };

    @Test
    void getReadsEveryPageOfAFullKey() {
        SimNetwork net = new SimNetwork(81, 5, 20, 0);
        Random rnd = new Random(82);
        WireCodec codec = new WireCodec();
        OverlayConfig cfg = OverlayConfig.defaults().withReplicas(3).withRateLimit(0, OverlayConfig.SourceKey.ENDPOINT);
        List<OverlayNode> nodes = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            OverlayNode n = new OverlayNode(NodeId.random(rnd), net.newLink(), cfg, ANY, codec, rnd).start();
            nodes.add(n);
            net.await(n.join(i == 0 ? List.of() : List.of(nodes.get(0).contact().address())), 60_000);
        }
        NodeId key = NodeId.ofName("sip:popular@sim.example");
        List<DhtValue> values = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            // the largest owner and nonce, so page placemarks are as long as they get
            byte[] owner = new byte[DhtValue.MAX_ID_BYTES];
            byte[] nonce = new byte[DhtValue.MAX_ID_BYTES];
            byte[] data = new byte[5_000 + i];
            rnd.nextBytes(owner);
            rnd.nextBytes(nonce);
            rnd.nextBytes(data);
            DhtValue v = new DhtValue(Bytes.wrap(owner), Bytes.wrap(nonce), Bytes.wrap(data), net.now() + 3_600_000);
            assertEquals(3, net.await(nodes.get(i % nodes.size()).put(key, v), 60_000).stored());
            values.add(v);
        }
        values.sort(Comparator.comparing(DhtValue::id));
        int total = values.stream().mapToInt(DhtValue::footprint).sum();
        assertTrue(total > 3 * 56 * 1024, "the values span several pages: " + total + " bytes");
        for (OverlayNode n : nodes) {
            List<DhtValue> got = net.await(n.get(key), 60_000);
            assertEquals(values.size(), got.size(), "values got from " + n.id().shortHex());
            assertEquals(values, got, "get from " + n.id().shortHex());
        }
    }
}
