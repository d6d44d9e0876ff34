package org.p2psip.overlay.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.store.SecretHashPolicy;

/**
 * Copies of a value live on its replicas and, for a while, on a few nodes just outside them: a former replica that
 * closer newcomers displaced keeps its copy, as may a node that stored a pipelined put and that a later answer
 * pushed out of the closest. A remove must reach all of them, so that afterwards no node holds the value.
 */
class RemoveEveryCopyTest {
    @Test
    void afterARemoveNoNodeHoldsTheValue() throws Exception {
        // no periodic replication within the test: only puts, hand-overs to newcomers and the remove move copies
        OverlayConfig cfg = Cluster.LOOPBACK.withMaintenance(600_000, 600_000, 600_000, 1_000);
        try (Cluster c = new Cluster(81).grow(60, cfg)) {
            Bytes secret = Bytes.utf8("remove-secret");
            List<NodeId> keys = new ArrayList<>();
            List<DhtValue> values = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                NodeId key = NodeId.ofName("removable " + i);
                DhtValue v = SecretHashPolicy.value(Bytes.utf8("value " + i), secret, System.currentTimeMillis() + 600_000);
                assertEquals(cfg.replicas(), Cluster.await(c.random().put(key, v)).stored());
                keys.add(key);
                values.add(v);
            }
            // closer newcomers take over some keys; the former replicas keep their copies beyond the replicas
            c.grow(15, cfg);
            Thread.sleep(2_500); // hand-overs run every second

            int beyond = 0;
            for (NodeId key : keys) {
                List<OverlayNode> byDistance = new ArrayList<>(c.nodes);
                byDistance.sort(Comparator.comparing(OverlayNode::id, key::compareDistance));
                for (int r = cfg.replicas(); r < byDistance.size(); r++) {
                    if (!Cluster.await(byDistance.get(r).localValues(key)).isEmpty()) {
                        beyond++;
                    }
                }
            }
            System.out.printf("RemoveEveryCopyTest: %d copies outside the %d closest nodes before the removes%n",
                    beyond, cfg.replicas());
            assertTrue(beyond > 0, "the scenario should leave copies outside the replicas (newcomers displaced replicas)");

            for (int i = 0; i < keys.size(); i++) {
                Cluster.await(c.random().remove(keys.get(i), values.get(i).owner(), values.get(i).nonce(), secret));
            }
            List<String> holders = new ArrayList<>();
            for (int i = 0; i < keys.size(); i++) {
                for (OverlayNode n : c.nodes) {
                    if (Cluster.await(n.localValues(keys.get(i))).contains(values.get(i))) {
                        holders.add("value " + i + " on " + n.id().shortHex());
                    }
                }
            }
            assertTrue(holders.isEmpty(), "nodes still hold removed values: " + holders);
            for (int i = 0; i < keys.size(); i++) {
                assertEquals(List.of(), Cluster.await(c.random().get(keys.get(i))), "a get of removed value " + i);
            }
        }
    }
}
