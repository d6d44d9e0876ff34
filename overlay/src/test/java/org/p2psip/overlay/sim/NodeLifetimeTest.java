package org.p2psip.overlay.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
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

/** A node that runs for days must not accumulate state per maintenance tick. */
class NodeLifetimeTest {
    @Test
    void maintenanceTimersDoNotAccumulate() throws Exception {
        SimNetwork net = new SimNetwork(1, 5, 20, 0);
        Random rnd = new Random(1);
        WireCodec codec = new WireCodec();
        OverlayConfig cfg = OverlayConfig.defaults().withMaintenance(60_000, 60_000, 60_000, 10_000);
        OverlayNode a = new OverlayNode(NodeId.random(rnd), net.newLink(), cfg, new SecretHashPolicy(), codec, rnd).start();
        OverlayNode b = new OverlayNode(NodeId.random(rnd), net.newLink(), cfg, new SecretHashPolicy(), codec, rnd).start();
        net.await(a.join(List.of()), 1000);
        net.await(b.join(List.of(a.contact().address())), 10_000);
        DhtValue v = SecretHashPolicy.value(Bytes.utf8("v"), Bytes.EMPTY, net.now() + 7L * 24 * 3600_000);
        NodeId key = NodeId.ofName("k");
        net.await(b.put(key, v), 10_000);
        net.runFor(24L * 3600_000); // one day: 86,400 hand-over ticks, 1,440 of each other task
        // the nodes still work
        assertEquals(List.of(v), net.await(a.get(key), 10_000));
        // white-box: the node keeps one handle per periodic task (reflection, since the list is private)
        Field f = OverlayNode.class.getDeclaredField("timers");
        f.setAccessible(true);
        int timers = ((List<?>) f.get(a)).size();
        assertTrue(timers <= 16, "node holds " + timers + " timer handles after a day");
    }
}
