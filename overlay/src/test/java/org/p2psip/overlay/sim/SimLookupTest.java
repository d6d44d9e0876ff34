package org.p2psip.overlay.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.WireCodec;

/**
 * Lookup correctness in virtual time over 10,000 nodes, the size the overlay issue names (about 3 minutes and
 * 1.6 GiB of heap here; the module's surefire runs with -Xmx3g). {@code -Dp2psip.sim.nodes=2000} gives a quick run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SimLookupTest {
    private static final int N = Integer.getInteger("p2psip.sim.nodes", 10_000);
    private final SimNetwork net = new SimNetwork(11, 5, 60, 0);
    private final Random rnd = new Random(12);
    private final List<OverlayNode> nodes = new ArrayList<>();
    private OverlayConfig cfg;

    @BeforeAll
    void buildNetwork() {
        cfg = OverlayConfig.defaults().withRateLimit(1024, OverlayConfig.SourceKey.ENDPOINT);
        WireCodec codec = new WireCodec();
        long start = System.nanoTime();
        // the first nodes one by one, then batches joining at the same time, as nodes do in a live network
        int batch = Integer.getInteger("p2psip.sim.batch", 20);
        int nextReport = N / 10;
        while (nodes.size() < N) {
            int size = nodes.size() < 50 ? 1 : Math.min(batch, N - nodes.size());
            List<CompletableFuture<Integer>> joins = new ArrayList<>();
            for (int j = 0; j < size; j++) {
                int i = nodes.size();
                OverlayNode n = new OverlayNode(NodeId.random(rnd), net.newLink(), cfg, new SecretHashPolicy(), codec, rnd).start();
                // bootstrap through one of the first few nodes, as a deployment's seed list would
                joins.add(n.join(i == 0 ? List.of() : List.of(nodes.get(rnd.nextInt(Math.min(i, 5))).contact().address())));
                nodes.add(n);
            }
            for (CompletableFuture<Integer> j : joins) {
                int neighbours = net.await(j, 120_000);
                assertTrue(nodes.size() == 1 || neighbours > 0, "a node joined with no neighbours");
            }
            if (nodes.size() >= nextReport) {
                nextReport += N / 10;
                System.out.printf("SimLookupTest: %d/%d nodes joined, %.1f s real, %d s virtual, heap %d MiB%n", nodes.size(), N,
                        (System.nanoTime() - start) / 1e9, (net.now() - SimNetwork.EPOCH) / 1000,
                        (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20);
            }
        }
        System.out.printf("SimLookupTest: %d nodes joined in %.1f s (virtual %d s)%n", N, (System.nanoTime() - start) / 1e9,
                (net.now() - SimNetwork.EPOCH) / 1000);
    }

    private List<NodeId> trueClosest(NodeId target, int k) {
        List<NodeId> ids = new ArrayList<>(nodes.size());
        for (OverlayNode n : nodes) {
            ids.add(n.id());
        }
        ids.sort((a, b) -> target.compareDistance(a, b));
        return ids.subList(0, k);
    }

    @Test
    void findClosestReturnsTheTrueKClosest() {
        int k = cfg.k();
        int exact = 0;
        int targets = 200;
        List<String> misses = new ArrayList<>();
        for (int t = 0; t < targets; t++) {
            NodeId target = NodeId.random(rnd);
            OverlayNode from = nodes.get(rnd.nextInt(nodes.size()));
            List<Contact> found = net.await(from.findClosest(target, k), 120_000);
            List<NodeId> got = found.stream().map(Contact::id).toList();
            List<NodeId> expected = trueClosest(target, k);
            // the result comes sorted by distance
            List<NodeId> sorted = new ArrayList<>(got);
            sorted.sort((a, b) -> target.compareDistance(a, b));
            assertEquals(sorted, got, "lookup results are sorted by distance");
            if (got.equals(expected)) {
                exact++;
            } else {
                long overlap = got.stream().filter(expected::contains).count();
                misses.add(target.shortHex() + ": " + overlap + "/" + k);
            }
        }
        System.out.printf("SimLookupTest: %d/%d lookups exact over %d nodes; misses %s%n", exact, targets, N, misses);
        assertTrue(exact >= targets * 99 / 100, exact + " of " + targets + " lookups exact; misses: " + misses);
    }

    @Test
    void getFindsEveryValuePut() {
        List<NodeId> keys = new ArrayList<>();
        List<DhtValue> values = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            NodeId key = NodeId.ofName("sip:user" + i + "@sim.example");
            DhtValue v = SecretHashPolicy.value(Bytes.utf8("contact of user " + i), Bytes.EMPTY, net.now() + 3_600_000);
            var r = net.await(nodes.get(rnd.nextInt(nodes.size())).put(key, v), 120_000);
            assertEquals(cfg.replicas(), r.stored(), "replicas that accepted value " + i);
            keys.add(key);
            values.add(v);
        }
        for (int i = 0; i < keys.size(); i++) {
            for (int j = 0; j < 3; j++) {
                List<DhtValue> got = net.await(nodes.get(rnd.nextInt(nodes.size())).get(keys.get(i)), 120_000);
                assertEquals(List.of(values.get(i)), got, "value " + i);
            }
        }
        // the values sit on the replicas closest to their keys
        for (int i = 0; i < 10; i++) {
            NodeId key = keys.get(i);
            List<NodeId> responsible = trueClosest(key, cfg.replicas());
            int holding = 0;
            for (OverlayNode n : nodes) {
                if (responsible.contains(n.id()) && net.await(n.localValues(key), 1000).equals(List.of(values.get(i)))) {
                    holding++;
                }
            }
            assertEquals(cfg.replicas(), holding, "replicas of key " + i + " among the " + cfg.replicas() + " closest nodes");
        }
    }
}
