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

/** A node that stops gracefully hands its copies to the next responsible node, so the replica count holds. */
class GracefulHandOverTest {
    @Test
    void stoppingReplicaHandsItsValuesToTheNextResponsibleNode() throws Exception {
        int replicas = 2;
        // replication and republish are slow here, so only the hand-over can restore the count in time
        OverlayConfig cfg = Cluster.LOOPBACK.withReplicas(replicas).withMaintenance(60_000, 60_000, 60_000, 1_000);
        try (Cluster c = new Cluster(17).grow(8, cfg)) {
            NodeId key = NodeId.ofName("sip:handover@example.net");
            DhtValue v = SecretHashPolicy.value(Bytes.utf8("kept"), Bytes.EMPTY, System.currentTimeMillis() + 600_000);
            assertEquals(replicas, Cluster.await(c.nodes.get(0).put(key, v)).stored());
            List<OverlayNode> byDistance = new ArrayList<>(c.nodes);
            byDistance.sort(Comparator.comparing(OverlayNode::id, key::compareDistance));
            OverlayNode leaving = byDistance.get(0);
            OverlayNode next = byDistance.get(replicas);
            assertTrue(Cluster.await(next.localValues(key)).isEmpty(), "the third closest holds nothing yet");
            int pushed = Cluster.await(leaving.handOverAll());
            assertTrue(pushed >= 1, "pushes accepted: " + pushed);
            leaving.close();
            c.nodes.remove(leaving);
            assertEquals(List.of(v), Cluster.await(next.localValues(key)), "the next responsible node holds it now");
            assertEquals(List.of(v), Cluster.await(byDistance.get(1).localValues(key)));
        }
    }
}
