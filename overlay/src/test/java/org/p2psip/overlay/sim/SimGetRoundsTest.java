package org.p2psip.overlay.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OpTrace;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.WireCodec;

/**
 * The round trips of gets and puts on a 200-node overlay, as {@code bench overlay} runs it (counted by structure
 * in virtual time, so the figures do not depend on the machine). With k-buckets that hold whoever they heard from
 * first, a far bucket's contacts sat together around one refresh target, and lookups for keys elsewhere in its
 * range took a third round trip (here 11 of 150 gets and 18 of 150 puts took 3). Diverse buckets and a lookup that
 * converges once its closest set is as tight as expected (see {@code RoutingTable}, {@code IterativeLookup}) make
 * it 2 (2 gets and 1 put took 3).
 */
class SimGetRoundsTest {
    @Test
    void getsAndPutsTakeTwoRoundTrips() {
        int n = 200;
        int ops = 150;
        SimNetwork net = new SimNetwork(1, 1, 2, 0);
        Random rnd = new Random(1);
        WireCodec codec = new WireCodec();
        OverlayConfig cfg = OverlayConfig.defaults().withRateLimit(0, OverlayConfig.SourceKey.ENDPOINT);
        List<OverlayNode> nodes = new ArrayList<>();
        List<OverlayNode> joined = new ArrayList<>();
        List<CompletableFuture<?>> joins = new ArrayList<>();
        // as bench overlay: the first 2k one by one, the rest 16 at a time, each through a random joined node
        for (int i = 0; i < n; i++) {
            OverlayNode node = new OverlayNode(NodeId.random(rnd), net.newLink(), cfg, new SecretHashPolicy(), codec, rnd).start();
            nodes.add(node);
            if (i == 0) {
                net.await(node.join(List.of()), 60_000);
                joined.add(node);
                continue;
            }
            InetSocketAddress via = joined.get(rnd.nextInt(joined.size())).contact().address();
            if (i <= 2 * cfg.k()) {
                net.await(node.join(List.of(via)), 60_000);
                joined.add(node);
            } else {
                joins.add(node.join(List.of(via)).thenRun(() -> joined.add(node)));
                if (joins.size() % 16 == 0) {
                    net.await(CompletableFuture.allOf(joins.toArray(CompletableFuture[]::new)), 600_000);
                }
            }
        }
        net.await(CompletableFuture.allOf(joins.toArray(CompletableFuture[]::new)), 600_000);
        net.runFor(5_000);

        Map<Integer, Integer> putRounds = new TreeMap<>();
        List<NodeId> keys = new ArrayList<>();
        List<DhtValue> values = new ArrayList<>();
        for (int i = 0; i < ops; i++) {
            NodeId key = NodeId.ofName("rounds " + i);
            DhtValue v = SecretHashPolicy.value(Bytes.utf8("v" + i), Bytes.EMPTY, net.now() + 3_600_000);
            OpTrace.Traced<?> t = net.await(nodes.get(rnd.nextInt(n)).tracePut(key, v), 60_000);
            putRounds.merge(t.trace().rounds(), 1, Integer::sum);
            keys.add(key);
            values.add(v);
        }
        Map<Integer, Integer> getRounds = new TreeMap<>();
        int found = 0;
        for (int i = 0; i < ops; i++) {
            OpTrace.Traced<List<DhtValue>> t = net.await(nodes.get(rnd.nextInt(n)).traceGet(keys.get(i)), 60_000);
            getRounds.merge(t.trace().rounds(), 1, Integer::sum);
            if (t.result().contains(values.get(i))) {
                found++;
            }
        }
        System.out.printf("SimGetRoundsTest: %d nodes, round trips of %d puts %s, of %d gets %s%n", n, ops, putRounds, ops, getRounds);
        assertEquals(ops, found, "gets that found their value");
        int getsBeyond2 = getRounds.entrySet().stream().filter(e -> e.getKey() > 2).mapToInt(Map.Entry::getValue).sum();
        int putsBeyond2 = putRounds.entrySet().stream().filter(e -> e.getKey() > 2).mapToInt(Map.Entry::getValue).sum();
        assertTrue(getsBeyond2 <= ops / 50, "gets over 2 round trips: " + getRounds);
        assertTrue(putsBeyond2 <= ops / 50, "puts over 2 round trips: " + putRounds);
    }
}
