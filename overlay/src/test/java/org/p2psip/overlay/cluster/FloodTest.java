package org.p2psip.overlay.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.NodeStatus;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.OverlayStats;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.HostileDatagrams;

/**
 * One node of a 20-node loopback cluster serves a put/get workload while a plain socket sends it
 * 100,000 hostile datagrams: no operation may fail, the node keeps serving, and the drops are counted.
 */
class FloodTest {
    private static final int DATAGRAMS = 100_000;
    private static final int ROUNDS_AFTER = 20;

    @Test
    void nodeKeepsServingUnderAFloodOfHostileDatagrams() throws Exception {
        OverlayConfig cfg = OverlayConfig.defaults()
                .withRateLimit(1_000_000, OverlayConfig.SourceKey.ENDPOINT)
                .withTimeouts(200, 2);
        try (Cluster cluster = new Cluster(31).grow(20, cfg)) {
            OverlayNode target = cluster.nodes.get(5);
            InetSocketAddress addr = target.contact().address();
            OverlayStats.Snapshot before = target.counters();

            InetSocketAddress[] floodAddr = new InetSocketAddress[1];
            AtomicBoolean flooding = new AtomicBoolean(true);
            AtomicReference<Throwable> floodError = new AtomicReference<>();
            int[] sent = new int[1];
            double[] floodSecs = new double[1];
            long t0 = System.nanoTime();
            Thread flood = new Thread(() -> {
                HostileDatagrams gen = new HostileDatagrams(32, target.id());
                try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                    floodAddr[0] = (InetSocketAddress) s.getLocalSocketAddress();
                    for (int i = 0; i < DATAGRAMS; i++) {
                        byte[] d = gen.next(i);
                        s.send(new DatagramPacket(d, d.length, addr));
                        sent[0]++;
                        if (i % 25 == 24) {
                            Thread.sleep(1); // pace the flood (~5 s) so the socket buffer does not drop most of it
                        }
                    }
                } catch (Throwable t) {
                    floodError.set(t);
                } finally {
                    floodSecs[0] = (System.nanoTime() - t0) / 1e9;
                    flooding.set(false);
                }
            }, "flood");
            flood.start();

            // The workload: keys near the target's id, so it is a replica of each and serves every op.
            int ops = 0;
            List<String> failures = new ArrayList<>();
            int round = 0;
            int roundsDuringFlood = 0;
            long afterFlood = 0;
            int roundsAfter = 0;
            while (roundsAfter < ROUNDS_AFTER) {
                if (flooding.get()) {
                    roundsDuringFlood++;
                } else if (roundsAfter++ == 0) {
                    afterFlood = System.nanoTime();
                }
                NodeId key = target.id().randomWithPrefix(24, cluster.rnd);
                DhtValue v = SecretHashPolicy.value(Bytes.utf8("flood round " + round), Bytes.EMPTY, System.currentTimeMillis() + 600_000);
                OverlayNode writer = round % 2 == 0 ? target : cluster.random();
                OverlayNode reader = round % 2 == 0 ? cluster.random() : target;
                try {
                    Cluster.await(writer.put(key, v)); // a put no replica accepted throws
                    ops++;
                    List<DhtValue> got = Cluster.await(reader.get(key));
                    ops++;
                    if (!got.equals(List.of(v))) {
                        failures.add("round " + round + ": get returned " + got);
                    }
                    if (!Cluster.await(target.localValues(key)).equals(List.of(v))) {
                        failures.add("round " + round + ": the target does not hold the value");
                    }
                } catch (RuntimeException e) {
                    failures.add("round " + round + ": " + e);
                }
                round++;
            }
            double afterSecs = (System.nanoTime() - afterFlood) / 1e9;
            long atFloodAddress = Cluster.await(target.neighbours()).stream().filter(c -> c.address().equals(floodAddr[0])).count();
            flood.join();
            double secs = floodSecs[0];
            OverlayStats.Snapshot after = target.counters();
            System.out.printf("FloodTest: %d datagrams in %.1f s; %d ops (%d rounds during the flood, %d after in %.1f s);"
                    + " malformed +%d, in +%d, dropped streams +%d, unmatched +%d; %d neighbours at the flood address%n",
                    sent[0], secs, ops, roundsDuringFlood, ROUNDS_AFTER, afterSecs, after.malformed() - before.malformed(), after.datagramsIn() - before.datagramsIn(),
                    after.fragmentStreamsDropped() - before.fragmentStreamsDropped(), after.unmatchedReplies() - before.unmatchedReplies(), atFloodAddress);

            assertEquals(null, floodError.get());
            assertEquals(DATAGRAMS, sent[0]);
            assertTrue(failures.isEmpty(), failures.size() + " of " + ops + " operations failed: " + failures);
            assertTrue(roundsDuringFlood >= 3, "workload ran " + roundsDuringFlood + " rounds during the flood");
            // made-up ids sent from the flood socket must not clog the routing table and slow every lookup
            assertTrue(atFloodAddress <= 1, atFloodAddress + " routing table entries at the flood socket's address");
            assertTrue(afterSecs < 15, ROUNDS_AFTER + " rounds after the flood took " + afterSecs + " s");
            long malformed = after.malformed() - before.malformed();
            // most datagrams are malformed by construction; the kernel may drop some of the burst
            assertTrue(malformed >= DATAGRAMS / 2, "only " + malformed + " malformed datagrams counted");
            assertTrue(after.fragmentStreamsDropped() > before.fragmentStreamsDropped(), "never-completing streams are dropped");

            // the node still serves after the flood
            NodeStatus st = Cluster.await(target.status());
            assertTrue(st.joined());
            NodeId key = target.id().randomWithPrefix(30, cluster.rnd);
            DhtValue v = SecretHashPolicy.value(Bytes.utf8("after the flood"), Bytes.EMPTY, System.currentTimeMillis() + 60_000);
            Cluster.await(cluster.nodes.get(0).put(key, v));
            assertEquals(List.of(v), Cluster.await(target.localValues(key)));
            assertEquals(List.of(v), Cluster.await(cluster.nodes.get(1).get(key)));
            CompletableFuture<List<DhtValue>> own = target.get(key);
            assertEquals(List.of(v), Cluster.await(own));
        }
    }
}
