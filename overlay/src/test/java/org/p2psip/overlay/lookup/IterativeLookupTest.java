package org.p2psip.overlay.lookup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.routing.RoutingTable;

/** The lookup alone, over a synthetic network of routing tables, with queries answered in random order. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IterativeLookupTest {
    private static final int N = 1000;
    private static final int K = 20;
    private final Random rnd = new Random(91);
    private final List<Contact> all = new ArrayList<>();
    private final Map<NodeId, RoutingTable> tables = new HashMap<>();

    @BeforeAll
    void network() {
        for (int i = 0; i < N; i++) {
            all.add(new Contact(NodeId.random(rnd), new InetSocketAddress("127.0.0.1", 1 + i)));
        }
        for (Contact c : all) {
            RoutingTable t = new RoutingTable(c.id(), K, 0);
            // each node knows a random half of the network, as its buckets allow
            for (Contact o : all) {
                if (rnd.nextBoolean()) {
                    t.seen(o, 0);
                }
            }
            tables.put(c.id(), t);
        }
    }

    /** Answers queries in random order, one at a time, and records concurrency. */
    private final class Net implements IterativeLookup.Querier {
        final ArrayDeque<Runnable> pending = new ArrayDeque<>();
        final Set<NodeId> dead;
        final NodeId target;
        int inFlight;
        int maxInFlight;
        int queries;
        final Set<NodeId> asked = new HashSet<>();

        Net(NodeId target, Set<NodeId> dead) {
            this.target = target;
            this.dead = dead;
        }

        @Override
        public CompletableFuture<List<Contact>> query(Contact node) {
            assertTrue(asked.add(node.id()), "a node is asked once per lookup");
            queries++;
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            CompletableFuture<List<Contact>> f = new CompletableFuture<>();
            pending.add(() -> {
                inFlight--;
                if (dead.contains(node.id())) {
                    f.completeExceptionally(new RuntimeException("timeout"));
                } else {
                    List<Contact> reply = tables.get(node.id()).closest(target, K);
                    f.complete(reply);
                }
            });
            return f;
        }

        void drain() {
            List<Runnable> batch = new ArrayList<>();
            while (!pending.isEmpty()) {
                batch.clear();
                batch.addAll(pending);
                pending.clear();
                // answer in random order
                while (!batch.isEmpty()) {
                    batch.remove(rnd.nextInt(batch.size())).run();
                }
            }
        }
    }

    private List<NodeId> trueClosest(NodeId target, int n, Set<NodeId> excluded) {
        List<NodeId> ids = new ArrayList<>();
        for (Contact c : all) {
            if (!excluded.contains(c.id())) {
                ids.add(c.id());
            }
        }
        ids.sort(target::compareDistance);
        return ids.subList(0, n);
    }

    @Test
    void findsTheTrueClosestWithBoundedQueriesInFlight() {
        int exact = 0;
        for (int q = 0; q < 100; q++) {
            NodeId target = NodeId.random(rnd);
            Contact self = all.get(rnd.nextInt(N));
            Net net = new Net(target, Set.of());
            CompletableFuture<List<Contact>> r = new IterativeLookup(target, K, 3, self, false, net)
                    .run(tables.get(self.id()).closest(target, K));
            net.drain();
            assertTrue(r.isDone(), "the lookup finishes when no query is pending");
            // alpha (3) at a time until the closest set stops improving, then the rest of the K closest at once
            // (beside up to alpha queries to nodes that answers pushed out of the closest)
            assertTrue(net.maxInFlight <= K + 3, "in flight: " + net.maxInFlight);
            List<NodeId> got = r.join().stream().map(Contact::id).toList();
            assertTrue(!got.contains(self.id()), "without includeSelf the node is not in the result");
            if (got.equals(trueClosest(target, K, Set.of(self.id())))) {
                exact++;
            }
        }
        assertTrue(exact >= 99, exact + " of 100 lookups exact");
    }

    @Test
    void deadNodesAreSkippedAndNeverReturned() {
        Set<NodeId> dead = new HashSet<>();
        for (Contact c : all) {
            if (rnd.nextInt(4) == 0) {
                dead.add(c.id());
            }
        }
        int exact = 0;
        for (int q = 0; q < 100; q++) {
            NodeId target = NodeId.random(rnd);
            Contact self;
            do {
                self = all.get(rnd.nextInt(N));
            } while (dead.contains(self.id()));
            Net net = new Net(target, dead);
            CompletableFuture<List<Contact>> r = new IterativeLookup(target, 8, 3, self, true, net)
                    .run(tables.get(self.id()).closest(target, K));
            net.drain();
            List<NodeId> got = r.join().stream().map(Contact::id).toList();
            assertEquals(8, got.size());
            for (NodeId id : got) {
                assertTrue(!dead.contains(id), "a dead node in the result");
            }
            if (got.equals(trueClosest(target, 8, dead))) {
                exact++;
            }
        }
        assertTrue(exact >= 97, exact + " of 100 lookups exact with a quarter of the nodes dead");
    }

    @Test
    void isolatedNodeFinishesWithItself() {
        Contact self = all.get(0);
        Net net = new Net(NodeId.random(rnd), Set.of());
        List<Contact> got = new IterativeLookup(net.target, K, 3, self, true, net).run(List.of()).join();
        assertEquals(List.of(self), got);
        assertEquals(List.of(), new IterativeLookup(net.target, K, 3, self, false, net).run(List.of()).join());
        // every seed dead: the lookup still ends
        Set<NodeId> everyone = new HashSet<>();
        all.forEach(c -> everyone.add(c.id()));
        Net deadNet = new Net(net.target, everyone);
        CompletableFuture<List<Contact>> r = new IterativeLookup(net.target, K, 3, self, false, deadNet)
                .run(tables.get(self.id()).closest(net.target, K));
        deadNet.drain();
        assertEquals(List.of(), r.join());
    }
}
