package org.p2psip.overlay.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.WireCodec;

/**
 * A writer of thousands of values (a SIP peer's users: certificate, private and contact records) republishes them,
 * and the nodes re-replicate them, under the default rate limit per source: the rounds must stay within what the
 * neighbours accept, else they drop the writer's requests, its users' own gets and puts among them. They were sent
 * in one burst each (every value's lookup and STOREs at once).
 */
class PacedMaintenanceTest {
    @Test
    void republishAndReplicationOfThousandsOfValuesStayWithinTheNeighboursRateLimit() {
        SimNetwork net = new SimNetwork(21, 2, 10, 0);
        Random rnd = new Random(22);
        // the default rate limit (1,024 requests a second per source IP) and quotas; rounds every minute
        OverlayConfig cfg = OverlayConfig.defaults().withMaintenance(15 * 60_000L, 60_000L, 60_000L, 30_000L);
        List<OverlayNode> nodes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            OverlayNode n = new OverlayNode(NodeId.random(rnd), net.newLink(), cfg, new SecretHashPolicy(),
                    new WireCodec(), new Random(rnd.nextLong())).start();
            net.await(n.join(nodes.isEmpty() ? List.of() : List.of(nodes.get(0).contact().address())), 60_000);
            nodes.add(n);
        }
        OverlayNode writer = nodes.get(0);
        int values = 3_000;
        List<NodeId> keys = new ArrayList<>();
        List<DhtValue> stored = new ArrayList<>();
        for (int i = 0; i < values; i += 8) {
            // written 8 at a time, well within the rate limit: only the overlay's own rounds may burst
            List<CompletableFuture<PutResult>> batch = new ArrayList<>();
            for (int j = i; j < Math.min(values, i + 8); j++) {
                NodeId key = NodeId.ofName("sip:user" + j + "@example.net");
                DhtValue v = SecretHashPolicy.value(Bytes.utf8("contact of user" + j), Bytes.EMPTY,
                        net.now() + 3_600_000);
                keys.add(key);
                stored.add(v);
                batch.add(writer.put(key, v));
            }
            for (CompletableFuture<PutResult> f : batch) {
                assertEquals(3, net.await(f, 60_000).stored());
            }
        }
        for (OverlayNode n : nodes) {
            assertEquals(0, n.counters().rateLimited(), "rate-limited before any round");
        }
        // two rounds of republish and re-replication
        net.runFor(150_000);
        for (int i = 0; i < nodes.size(); i++) {
            assertEquals(0, nodes.get(i).counters().rateLimited(),
                    "requests node " + i + " dropped over the rate limit during the maintenance rounds");
        }
        for (int i = 0; i < values; i += 97) {
            assertEquals(List.of(stored.get(i)), net.await(nodes.get(2).get(keys.get(i)), 60_000), "value " + i);
        }
    }

    @Test
    void aValueItsOwnerRemovedThroughAnotherNodeIsNoLongerRepublished() {
        SimNetwork net = new SimNetwork(23, 2, 10, 0);
        Random rnd = new Random(24);
        OverlayConfig cfg = OverlayConfig.defaults().withMaintenance(15 * 60_000L, 60_000L, 60_000L, 30_000L);
        List<OverlayNode> nodes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            OverlayNode n = new OverlayNode(NodeId.random(rnd), net.newLink(), cfg, new SecretHashPolicy(),
                    new WireCodec(), new Random(rnd.nextLong())).start();
            net.await(n.join(nodes.isEmpty() ? List.of() : List.of(nodes.get(0).contact().address())), 60_000);
            nodes.add(n);
        }
        Bytes secret = Bytes.utf8("bob's secret");
        DhtValue v = SecretHashPolicy.value(Bytes.utf8("bob's old binding"), secret, net.now() + 3_600_000);
        NodeId key = NodeId.ofName("sip:bob@example.net");
        net.await(nodes.get(0).put(key, v), 60_000);
        // the owner removes it through another node (a phone that moved to another peer): the writer still has it
        net.await(nodes.get(1).remove(key, v.owner(), v.nonce(), secret), 60_000);
        net.runFor(70_000); // first republish round: every replica refuses it
        assertEquals(1, nodes.get(0).counters().republishDropped());
        long refused = 0;
        for (OverlayNode n : nodes) {
            refused += n.counters().refusedPuts();
        }
        net.runFor(120_000); // two more rounds: it is not sent again
        long refusedLater = 0;
        for (OverlayNode n : nodes) {
            refusedLater += n.counters().refusedPuts();
        }
        assertEquals(refused, refusedLater, "puts refused in later rounds");
        assertEquals(List.of(), net.await(nodes.get(2).get(key), 60_000));
    }
}
