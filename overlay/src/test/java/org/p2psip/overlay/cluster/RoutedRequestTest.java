package org.p2psip.overlay.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.DhtException;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.OverlayStats;
import org.p2psip.overlay.route.RouteAnswer;
import org.p2psip.overlay.route.RouteMode;
import org.p2psip.overlay.wire.Message.Status;

/**
 * Routed requests on 40 real nodes over loopback UDP with small buckets (k = 4), so a node's routing table holds only
 * a few of the others: requests reach their exact target through intermediate nodes that do not know it, and the
 * answers come back along the same hops.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RoutedRequestTest {
    private static final int NODES = 40;
    private final OverlayConfig cfg = Cluster.LOOPBACK.withReplicas(3).withK(4);
    private Cluster cluster;

    @BeforeAll
    void start() {
        cluster = new Cluster(77).grow(NODES, cfg);
        for (OverlayNode n : cluster.nodes) {
            NodeId me = n.id();
            n.handle("echo", req -> CompletableFuture.completedFuture(
                    Bytes.utf8(me.toHex() + " got '" + req.payload().utf8String() + "' from " + req.origin().toHex()
                            + " after " + req.hops())));
            n.handle("fails", req -> CompletableFuture.failedFuture(new IllegalStateException("the handler broke")));
            n.handle("slow", req -> CompletableFuture.supplyAsync(() -> Bytes.utf8("late " + me.toHex()),
                    CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS)));
        }
    }

    @AfterAll
    void stop() {
        cluster.close();
    }

    @Test
    void requestsReachTheExactTargetThroughNodesThatDoNotKnowIt() {
        int multiHop = 0;
        int hopsTotal = 0;
        long forwardedBefore = forwarded();
        for (int i = 0; i < 120; i++) {
            OverlayNode from = cluster.nodes.get(i % NODES);
            OverlayNode to = cluster.nodes.get((i * 7 + 3) % NODES);
            if (from == to) {
                continue;
            }
            boolean known = Cluster.await(from.neighbours()).stream().anyMatch(c -> c.id().equals(to.id()));
            RouteAnswer a = Cluster.await(from.route(to.id(), "echo", Bytes.utf8("hello " + i)));
            assertEquals(to.id(), a.responder(), "the answer comes from the target");
            assertEquals(to.id().toHex() + " got 'hello " + i + "' from " + from.id().toHex() + " after " + a.hops(),
                    a.payload().utf8String());
            assertTrue(a.hops() >= 1);
            if (known) {
                assertEquals(1, a.hops(), "a target in the routing table is reached in one hop");
            } else {
                assertTrue(a.hops() >= 2, "a target not in the routing table needs an intermediate hop");
                multiHop++;
            }
            hopsTotal += a.hops();
        }
        System.out.printf("RoutedRequestTest: %d routes through intermediate nodes, %d hops in all%n", multiHop, hopsTotal);
        assertTrue(multiHop >= 20, "most targets are beyond the sources' small routing tables: " + multiHop);
        assertTrue(forwarded() - forwardedBefore >= multiHop, "intermediate nodes forwarded the requests");
    }

    @Test
    void closestModeDeliversAtTheNodeClosestToAKey() {
        List<NodeId> ids = cluster.nodes.stream().map(OverlayNode::id).collect(Collectors.toList());
        int exact = 0;
        for (int i = 0; i < 60; i++) {
            NodeId key = NodeId.ofName("routed key " + i);
            NodeId closest = ids.stream().min((a, b) -> key.compareDistance(a, b)).orElseThrow();
            OverlayNode from = cluster.nodes.get(i % NODES);
            RouteAnswer a = Cluster.await(from.route(key, "echo", Bytes.utf8("k" + i), RouteMode.CLOSEST, 5_000));
            if (a.responder().equals(closest)) {
                exact++;
            }
            // never farther than the source itself: greedy steps only get closer
            assertTrue(key.compareDistance(a.responder(), from.id()) <= 0);
        }
        System.out.printf("RoutedRequestTest: closest mode found the closest node for %d of 60 keys%n", exact);
        assertTrue(exact >= 54, "greedy routing reaches the closest node for nearly every key: " + exact + " of 60");
    }

    @Test
    void afterItsLinkClosedATargetIsReachedThroughOtherHops() throws Exception {
        OverlayNode from = cluster.nodes.get(11);
        Contact direct = Cluster.await(from.neighbours()).get(0);
        assertEquals(1, Cluster.await(from.route(direct.id(), "echo", Bytes.utf8("direct"))).hops());
        from.linkClosed(direct.address());
        long end = System.currentTimeMillis() + 10_000;
        while (Cluster.await(from.neighbours()).stream().anyMatch(c -> c.id().equals(direct.id()))
                && System.currentTimeMillis() < end) {
            Thread.sleep(10);
        }
        assertFalse(Cluster.await(from.neighbours()).stream().anyMatch(c -> c.id().equals(direct.id())),
                "the routing entry at the closed link's address is gone");
        RouteAnswer a = Cluster.await(from.route(direct.id(), "echo", Bytes.utf8("around")));
        assertEquals(direct.id(), a.responder());
        assertTrue(a.hops() >= 2, "the request went through another node: " + a.hops() + " hops");
    }

    @Test
    void aNodeRoutesToItselfWithoutHops() {
        OverlayNode n = cluster.nodes.get(5);
        RouteAnswer a = Cluster.await(n.route(n.id(), "echo", Bytes.utf8("me")));
        assertEquals(0, a.hops());
        assertEquals(n.id(), a.responder());
    }

    @Test
    void slowHandlersAnswerThroughTheHops() {
        OverlayNode from = cluster.nodes.get(1);
        OverlayNode to = farthestUnknown(from);
        RouteAnswer a = Cluster.await(from.route(to.id(), "slow", Bytes.EMPTY));
        assertEquals("late " + to.id().toHex(), a.payload().utf8String());
    }

    @Test
    void failuresComeBackWithTheirReasons() {
        OverlayNode from = cluster.nodes.get(2);
        OverlayNode to = farthestUnknown(from);
        long droppedBefore = dropped();
        DhtException unknownApp = failure(from.route(to.id(), "nobody-here", Bytes.EMPTY));
        assertEquals(Status.REFUSED, unknownApp.status());
        assertTrue(unknownApp.getMessage().contains("no handler for application 'nobody-here'"), unknownApp.getMessage());
        assertTrue(dropped() > droppedBefore, "an unknown application id is counted as a drop");

        DhtException broken = failure(from.route(to.id(), "fails", Bytes.EMPTY));
        assertEquals(Status.REFUSED, broken.status());
        assertTrue(broken.getMessage().contains("the handler broke"), broken.getMessage());

        // an id no node has: the request walks until no unvisited contact or the hop limit is left
        DhtException nowhere = failure(from.route(NodeId.ofName("no such node"), "echo", Bytes.EMPTY));
        assertEquals(Status.AGAIN, nowhere.status());
        assertTrue(nowhere.getMessage().contains("hop limit") || nowhere.getMessage().contains("no route"),
                nowhere.getMessage());

        assertThrows(IllegalArgumentException.class, () -> failure(from.route(to.id(), "bad id", Bytes.EMPTY)));
        assertThrows(IllegalArgumentException.class, () -> from.handle("", r -> null));
    }

    private OverlayNode farthestUnknown(OverlayNode from) {
        List<NodeId> known = Cluster.await(from.neighbours()).stream().map(Contact::id).collect(Collectors.toList());
        List<OverlayNode> others = new ArrayList<>(cluster.nodes);
        others.removeIf(n -> n == from || known.contains(n.id()));
        assertFalse(others.isEmpty());
        others.sort(Comparator.comparing(OverlayNode::id, (a, b) -> from.id().compareDistance(a, b)));
        return others.get(others.size() - 1);
    }

    private static DhtException failure(CompletableFuture<?> f) {
        try {
            f.get(20, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause() instanceof CompletionException ce ? ce.getCause() : e.getCause();
            if (c instanceof DhtException d) {
                return d;
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new AssertionError("unexpected failure " + c, c);
        } catch (Exception e) {
            throw new AssertionError("no answer: " + e, e);
        }
        throw new AssertionError("the request succeeded but should have failed");
    }

    private long forwarded() {
        return cluster.nodes.stream().map(OverlayNode::counters).mapToLong(OverlayStats.Snapshot::routedForwarded).sum();
    }

    private long dropped() {
        return cluster.nodes.stream().map(OverlayNode::counters).mapToLong(OverlayStats.Snapshot::routedDropped).sum();
    }
}
