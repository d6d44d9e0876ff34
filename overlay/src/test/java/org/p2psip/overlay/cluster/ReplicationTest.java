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

/** Periodic replication keeps a value on exactly its replicas, so a remove reaches every copy. */
class ReplicationTest {
    @Test
    void replicationKeepsExactlyTheReplicasAndRemoveReachesAllCopies() throws Exception {
        int replicas = 4;
        OverlayConfig cfg = Cluster.LOOPBACK.withReplicas(replicas).withMaintenance(60_000, 500, 60_000, 1_000);
        try (Cluster c = new Cluster(61).grow(14, cfg)) {
            List<NodeId> keys = new ArrayList<>();
            List<DhtValue> values = new ArrayList<>();
            Bytes secret = Bytes.utf8("secret");
            for (int i = 0; i < 10; i++) {
                NodeId key = NodeId.ofName("replicated " + i);
                DhtValue v = SecretHashPolicy.value(Bytes.utf8("value " + i), secret, System.currentTimeMillis() + 600_000);
                assertEquals(replicas, Cluster.await(c.random().put(key, v)).stored());
                keys.add(key);
                values.add(v);
            }
            Thread.sleep(2_000); // several replication rounds

            for (int i = 0; i < keys.size(); i++) {
                NodeId key = keys.get(i);
                List<OverlayNode> byDistance = new ArrayList<>(c.nodes);
                byDistance.sort(Comparator.comparing(OverlayNode::id, key::compareDistance));
                List<String> holders = new ArrayList<>();
                for (int r = 0; r < byDistance.size(); r++) {
                    if (!Cluster.await(byDistance.get(r).localValues(key)).isEmpty()) {
                        holders.add("rank " + r);
                    }
                }
                List<String> expected = new ArrayList<>();
                for (int r = 0; r < replicas; r++) {
                    expected.add("rank " + r);
                }
                assertEquals(expected, holders, "holders of value " + i + " by rank of distance to its key");
            }

            // remove every value; no node may return it afterwards
            for (int i = 0; i < keys.size(); i++) {
                Cluster.await(c.random().remove(keys.get(i), values.get(i).owner(), values.get(i).nonce(), secret));
            }
            Thread.sleep(1_500); // replication runs again: nothing may come back
            List<String> resurrected = new ArrayList<>();
            for (int i = 0; i < keys.size(); i++) {
                for (OverlayNode n : c.nodes) {
                    List<DhtValue> got = Cluster.await(n.get(keys.get(i)));
                    if (!got.isEmpty()) {
                        resurrected.add("value " + i + " from " + n.id().shortHex());
                    }
                }
            }
            assertTrue(resurrected.isEmpty(), "removed values still returned: " + resurrected);
        }
    }
}
