package org.p2psip.overlay.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.store.SecretHashPolicy;

/**
 * 60 real nodes on loopback UDP: every value put is found from every node, still after a quarter of the
 * nodes stop, and a restarted node (same id, new socket) rejoins. The tests run in order on one cluster.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LoopbackClusterTest {
    private static final int NODES = 60;
    private static final int VALUES = 100;
    private final OverlayConfig cfg = Cluster.LOOPBACK;
    private Cluster cluster;
    private final List<NodeId> keys = new ArrayList<>();
    private final List<DhtValue> values = new ArrayList<>();

    @BeforeAll
    void start() {
        long t0 = System.nanoTime();
        cluster = new Cluster(21).grow(NODES, cfg);
        System.out.printf("LoopbackClusterTest: %d nodes joined in %.1f s%n", NODES, (System.nanoTime() - t0) / 1e9);
    }

    @AfterAll
    void stop() {
        cluster.close();
    }

    /** Gets every value from every live node; returns the failures. */
    private List<String> getEverywhere(List<OverlayNode> from) {
        List<Supplier<CompletableFuture<List<DhtValue>>>> ops = new ArrayList<>();
        List<String> what = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            for (OverlayNode n : from) {
                NodeId key = keys.get(i);
                ops.add(() -> n.get(key));
                what.add("value " + i + " from " + n.id().shortHex());
            }
        }
        long t0 = System.nanoTime();
        List<CompletableFuture<List<DhtValue>>> results = Cluster.bounded(ops, 48);
        List<String> failures = new ArrayList<>();
        for (int j = 0; j < results.size(); j++) {
            int i = j / from.size();
            CompletableFuture<List<DhtValue>> f = results.get(j);
            if (f.isCompletedExceptionally()) {
                failures.add(what.get(j) + ": " + f.handle((v, e) -> e).join());
            } else if (!f.join().equals(List.of(values.get(i)))) {
                failures.add(what.get(j) + ": got " + f.join());
            }
        }
        System.out.printf("LoopbackClusterTest: %d gets in %.1f s, %d failed%n", results.size(), (System.nanoTime() - t0) / 1e9, failures.size());
        return failures;
    }

    @Test
    @Order(1)
    void everyValueIsFoundFromEveryNode() {
        List<Supplier<CompletableFuture<PutResult>>> puts = new ArrayList<>();
        for (int i = 0; i < VALUES; i++) {
            NodeId key = NodeId.ofName("sip:user" + i + "@loopback.test");
            DhtValue v = SecretHashPolicy.value(Bytes.utf8("sip:user" + i + "@127.0.0.1:" + (5060 + i)), Bytes.EMPTY,
                    System.currentTimeMillis() + 3_600_000);
            keys.add(key);
            values.add(v);
            OverlayNode writer = cluster.random();
            puts.add(() -> writer.put(key, v));
        }
        List<CompletableFuture<PutResult>> results = Cluster.bounded(puts, 16);
        for (int i = 0; i < results.size(); i++) {
            PutResult r = Cluster.await(results.get(i));
            // all replicas normally; one RPC timing out on a loaded machine is tolerated here, the gets below are the test
            assertTrue(r.stored() >= cfg.replicas() - 1, "value " + i + " stored on " + r.stored() + " replicas: " + r.refusals());
        }
        List<String> failures = getEverywhere(cluster.nodes);
        assertTrue(failures.isEmpty(), failures.size() + " gets failed: " + failures.subList(0, Math.min(10, failures.size())));
    }

    @Test
    @Order(2)
    void valuesSurviveLossOfAQuarterOfTheNodes() {
        List<OverlayNode> victims = new ArrayList<>();
        // every fourth node but the bootstrap, so the stopped ones are spread over the key space
        for (int i = 1; i < cluster.nodes.size() && victims.size() < NODES / 4; i += 4) {
            victims.add(cluster.nodes.get(i));
        }
        for (OverlayNode n : victims) {
            n.close();
        }
        cluster.nodes.removeAll(victims);
        assertEquals(NODES - NODES / 4, cluster.nodes.size());
        List<String> failures = getEverywhere(cluster.nodes);
        assertTrue(failures.isEmpty(), failures.size() + " gets failed: " + failures.subList(0, Math.min(10, failures.size())));
        // the survivors still store and find new values
        NodeId key = NodeId.ofName("after-the-loss");
        DhtValue v = SecretHashPolicy.value(Bytes.utf8("still here"), Bytes.EMPTY, System.currentTimeMillis() + 60_000);
        PutResult r = Cluster.await(cluster.random().put(key, v));
        assertTrue(r.stored() >= cfg.replicas() - 1, "stored on " + r.stored() + ": " + r.refusals());
        assertEquals(List.of(v), Cluster.await(cluster.random().get(key)));
    }

    @Test
    @Order(3)
    void restartedNodeRejoinsWithItsIdOnANewSocket() {
        OverlayNode old = cluster.nodes.get(7);
        NodeId id = old.id();
        old.close();
        cluster.nodes.remove(old);
        OverlayNode again = cluster.newNode(id, cfg, 0);
        assertTrue(!again.contact().address().equals(old.contact().address()));
        cluster.joinThroughBootstrap(again);
        cluster.nodes.add(again);
        // it finds the values
        for (int i = 0; i < VALUES; i += 5) {
            assertEquals(List.of(values.get(i)), Cluster.await(again.get(keys.get(i))), "value " + i);
        }
        // and others find it, at its new address
        assertFoundByOthers(again);
    }

    @Test
    @Order(4)
    void restartedNodeRejoinsOnItsOldPort() {
        OverlayNode old = cluster.nodes.get(11);
        NodeId id = old.id();
        int port = old.contact().address().getPort();
        old.close();
        cluster.nodes.remove(old);
        OverlayNode again = cluster.newNode(id, cfg, port);
        assertEquals(port, again.contact().address().getPort());
        cluster.joinThroughBootstrap(again);
        cluster.nodes.add(again);
        for (int i = 1; i < VALUES; i += 5) {
            assertEquals(List.of(values.get(i)), Cluster.await(again.get(keys.get(i))), "value " + i);
        }
        assertFoundByOthers(again);
    }

    private void assertFoundByOthers(OverlayNode node) {
        Contact expected = node.contact();
        Set<String> missing = new HashSet<>();
        int asked = 0;
        for (OverlayNode other : cluster.nodes) {
            if (other == node || asked >= 20) {
                continue;
            }
            asked++;
            List<Contact> found = Cluster.await(other.findClosest(node.id(), cfg.k()));
            if (found.isEmpty() || !found.get(0).equals(expected)) {
                missing.add(other.id().shortHex() + " found " + (found.isEmpty() ? "nothing" : found.get(0)));
            }
        }
        assertTrue(missing.isEmpty(), "nodes that did not find " + expected + ": " + missing);
        // and it serves as a replica: a value at its own id lands on it
        DhtValue v = SecretHashPolicy.value(Bytes.utf8("at " + node.id().shortHex()), Bytes.EMPTY, System.currentTimeMillis() + 60_000);
        Cluster.await(cluster.nodes.get(0).put(node.id(), v));
        assertEquals(List.of(v), Cluster.await(node.localValues(node.id())));
    }
}
