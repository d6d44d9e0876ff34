package org.p2psip.overlay.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtException;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.Frame;
import org.p2psip.overlay.wire.Message;
import org.p2psip.overlay.wire.WireCodec;

/** The rate limit and the store quotas, seen from the wire and the DHT API. */
class RateLimitAndQuotaTest {
    private static final WireCodec CODEC = new WireCodec();

    /** A plain socket that sends PINGs and counts the PONGs that come back. */
    private static final class Pinger implements AutoCloseable {
        final DatagramSocket socket;
        final NodeId id;
        final Set<Long> pending = new HashSet<>();
        long next;

        Pinger(long seed) throws Exception {
            socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
            id = NodeId.random(new Random(seed));
            next = seed << 32;
        }

        void ping(InetSocketAddress to) throws Exception {
            long rid = next++;
            pending.add(rid);
            byte[] d = CODEC.encode(new Frame(false, rid, id, new Message.Ping()));
            socket.send(new DatagramPacket(d, d.length, to));
        }

        /** Reads replies until {@code millis} pass without one; returns the PONGs matched. */
        int drain(int millis) throws Exception {
            socket.setSoTimeout(millis);
            byte[] buf = new byte[2048];
            int pongs = 0;
            while (true) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    socket.receive(p);
                } catch (SocketTimeoutException e) {
                    return pongs;
                }
                Frame f = CODEC.decode(p.getData(), p.getLength());
                if (f.reply() && f.message() instanceof Message.Pong && pending.remove(f.requestId())) {
                    pongs++;
                }
            }
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    @Test
    void aSourceOverItsRateIsDroppedWhileOthersAreServed() throws Exception {
        int limit = 50;
        OverlayConfig cfg = Cluster.LOOPBACK.withRateLimit(limit, OverlayConfig.SourceKey.ENDPOINT);
        try (Cluster c = new Cluster(41); Pinger greedy = new Pinger(1); Pinger polite = new Pinger(2)) {
            OverlayNode node = c.add(NodeId.random(c.rnd), cfg);
            InetSocketAddress to = node.contact().address();
            var before = node.counters();
            long t0 = System.nanoTime();
            int sent = 0;
            int politeSent = 0;
            // greedy: 2,000 pings in bursts for about a second; polite: one ping every 100 ms
            for (int burst = 0; burst < 10; burst++) {
                for (int i = 0; i < 200; i++) {
                    greedy.ping(to);
                    sent++;
                }
                polite.ping(to);
                politeSent++;
                Thread.sleep(100);
            }
            int greedyPongs = greedy.drain(500);
            int politePongs = polite.drain(500);
            double secs = (System.nanoTime() - t0) / 1e9; // until the last reply could have been sent
            var after = node.counters();
            long limited = after.rateLimited() - before.rateLimited();
            long served = after.requestsServed() - before.requestsServed();
            long in = after.datagramsIn() - before.datagramsIn();
            System.out.printf("RateLimitAndQuotaTest: greedy %d/%d answered, polite %d/%d, %d rate-limited in %.1f s%n",
                    greedyPongs, sent, politePongs, politeSent, limited, secs);
            assertEquals(politeSent, politePongs, "the polite source is served in full");
            // a one-second burst allowance plus the refill while requests came in
            int allowed = (int) (limit + limit * secs);
            assertTrue(greedyPongs <= allowed && greedyPongs >= limit, greedyPongs + " pongs for the greedy source, allowance " + allowed);
            assertTrue(served <= allowed + politeSent, served + " requests served");
            assertEquals(in, limited + served, "every datagram that arrived was served or counted as rate-limited");
            assertTrue(limited >= in - allowed - politeSent, limited + " of " + in + " counted as rate-limited");
        }
    }

    /**
     * The limit counts requests. A 60 KiB value travels as ~50 fragments; a fragmented reply must not be
     * dropped, and a fragmented request is one request.
     */
    @Test
    void fragmentedFramesCountAsOneRequest() {
        int limit = 20;
        OverlayConfig strict = Cluster.LOOPBACK.withReplicas(1).withRateLimit(limit, OverlayConfig.SourceKey.ENDPOINT);
        try (Cluster c = new Cluster(42)) {
            OverlayNode a = c.add(NodeId.random(c.rnd), strict);
            OverlayNode b = c.add(NodeId.random(c.rnd), strict);
            Random rnd = new Random(43);
            byte[] big = new byte[60 * 1024];
            rnd.nextBytes(big);
            // a key only b is responsible for (replicas = 1)
            NodeId keyAtB = b.id().randomWithPrefix(40, rnd);
            DhtValue v = SecretHashPolicy.value(Bytes.wrap(big), Bytes.EMPTY, System.currentTimeMillis() + 60_000);
            // a fragmented PUT from a to b
            assertEquals(1, Cluster.await(a.put(keyAtB, v)).stored());
            assertEquals(List.of(v), Cluster.await(b.localValues(keyAtB)));
            assertEquals(List.of(), Cluster.await(a.localValues(keyAtB)));
            // a fragmented GET reply from b to a
            assertEquals(List.of(v), Cluster.await(a.get(keyAtB)));
            assertEquals(0, a.counters().rateLimited() + b.counters().rateLimited());
        }
    }

    @Test
    void quotasRefuseWithCapacityAndKeepWhatIsStored() {
        // 5 nodes all replicas of everything; a writer's share is 10,000 bytes and a store 16,000
        OverlayConfig cfg = Cluster.LOOPBACK.withReplicas(5).withStoreQuota(16_000, 10_000);
        try (Cluster c = new Cluster(44).grow(5, cfg)) {
            OverlayNode w1 = c.nodes.get(1);
            OverlayNode w2 = c.nodes.get(2);
            List<NodeId> keys = new ArrayList<>();
            List<DhtValue> stored = new ArrayList<>();
            Random rnd = new Random(45);
            DhtException share = null;
            for (int i = 0; i < 10 && share == null; i++) {
                byte[] d = new byte[3000];
                rnd.nextBytes(d);
                DhtValue v = SecretHashPolicy.value(Bytes.wrap(d), Bytes.EMPTY, System.currentTimeMillis() + 600_000);
                NodeId key = NodeId.ofName("quota-w1-" + i);
                try {
                    assertEquals(5, Cluster.await(w1.put(key, v)).stored());
                    keys.add(key);
                    stored.add(v);
                } catch (DhtException e) {
                    share = e;
                }
            }
            assertEquals(3, stored.size(), "three 3 KB values fit in a 10,000-byte share");
            assertEquals(org.p2psip.overlay.wire.Message.Status.CAPACITY, share.status());
            assertTrue(share.getMessage().contains("share") && share.getMessage().contains("10000"), share.getMessage());

            // another writer still has its share, until the store itself is full
            DhtException full = null;
            for (int i = 0; i < 10 && full == null; i++) {
                byte[] d = new byte[3000];
                rnd.nextBytes(d);
                DhtValue v = SecretHashPolicy.value(Bytes.wrap(d), Bytes.EMPTY, System.currentTimeMillis() + 600_000);
                NodeId key = NodeId.ofName("quota-w2-" + i);
                try {
                    assertEquals(5, Cluster.await(w2.put(key, v)).stored());
                    keys.add(key);
                    stored.add(v);
                } catch (DhtException e) {
                    full = e;
                }
            }
            assertEquals(5, stored.size(), "16,000 bytes hold five 3 KB values");
            assertEquals(org.p2psip.overlay.wire.Message.Status.CAPACITY, full.status());
            assertTrue(full.getMessage().contains("full") && full.getMessage().contains("16000"), full.getMessage());

            // nothing already stored was lost, on any node
            for (int i = 0; i < keys.size(); i++) {
                for (OverlayNode n : c.nodes) {
                    assertEquals(List.of(stored.get(i)), Cluster.await(n.get(keys.get(i))), "value " + i);
                    assertEquals(List.of(stored.get(i)), Cluster.await(n.localValues(keys.get(i))), "value " + i + " held locally");
                }
            }
            // a refused writer's refresh of its own value still works: it needs no more bytes
            DhtValue first = stored.get(0);
            DhtValue refreshed = new DhtValue(first.owner(), first.nonce(), first.data(), first.expiresAtMillis() + 60_000);
            assertEquals(5, Cluster.await(w1.put(keys.get(0), refreshed)).stored());
            assertThrows(DhtException.class, () -> Cluster.await(w1.put(NodeId.ofName("one more"),
                    SecretHashPolicy.value(Bytes.utf8("x".repeat(3000)), Bytes.EMPTY, System.currentTimeMillis() + 60_000))));
        }
    }
}
