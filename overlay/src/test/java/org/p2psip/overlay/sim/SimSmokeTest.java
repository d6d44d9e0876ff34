package org.p2psip.overlay.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.WireCodec;

class SimSmokeTest {
    @Test
    void putGetInSmallSimulatedOverlay() {
        SimNetwork net = new SimNetwork(1, 5, 20, 0);
        Random rnd = new Random(2);
        WireCodec codec = new WireCodec();
        OverlayConfig cfg = OverlayConfig.defaults();
        List<OverlayNode> nodes = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            OverlayNode n = new OverlayNode(NodeId.random(rnd), net.newLink(), cfg, new SecretHashPolicy(), codec, rnd).start();
            nodes.add(n);
            net.await(n.join(i == 0 ? List.of() : List.of(nodes.get(0).contact().address())), 60_000);
        }
        for (int i = 0; i < 50; i++) {
            DhtValue v = SecretHashPolicy.value(Bytes.utf8("v" + i), Bytes.EMPTY, net.now() + 3_600_000);
            NodeId key = NodeId.ofName("k" + i);
            net.await(nodes.get(rnd.nextInt(200)).put(key, v), 60_000);
            List<DhtValue> got = net.await(nodes.get(rnd.nextInt(200)).get(key), 60_000);
            assertEquals(List.of(v), got, "key " + i);
        }
    }
}
