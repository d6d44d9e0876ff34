package org.p2psip.overlay.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.WireCodec;

/** Retries carry puts and gets through a lossy network. */
class SimLossTest {
    @Test
    void putAndGetSurviveThreePercentLoss() {
        SimNetwork net = new SimNetwork(101, 10, 80, 0.03);
        Random rnd = new Random(102);
        WireCodec codec = new WireCodec();
        OverlayConfig cfg = OverlayConfig.defaults().withRateLimit(0, OverlayConfig.SourceKey.ENDPOINT).withTimeouts(300, 3);
        List<OverlayNode> nodes = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            OverlayNode n = new OverlayNode(NodeId.random(rnd), net.newLink(), cfg, new SecretHashPolicy(), codec, rnd).start();
            nodes.add(n);
            net.await(n.join(i == 0 ? List.of() : List.of(nodes.get(0).contact().address())), 120_000);
        }
        int found = 0;
        int asked = 0;
        for (int i = 0; i < 50; i++) {
            NodeId key = NodeId.ofName("lossy " + i);
            DhtValue v = SecretHashPolicy.value(Bytes.utf8("value " + i), Bytes.EMPTY, net.now() + 3_600_000);
            PutResult r = net.await(nodes.get(rnd.nextInt(nodes.size())).put(key, v), 120_000);
            assertTrue(r.stored() >= cfg.replicas() - 1, "value " + i + " stored on " + r.stored());
            for (int j = 0; j < 3; j++) {
                asked++;
                if (net.await(nodes.get(rnd.nextInt(nodes.size())).get(key), 120_000).equals(List.of(v))) {
                    found++;
                }
            }
        }
        assertEquals(asked, found, "gets that found their value");
        assertTrue(net.lost() > 0);
    }
}
