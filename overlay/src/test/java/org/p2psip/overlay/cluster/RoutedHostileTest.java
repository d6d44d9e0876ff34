package org.p2psip.overlay.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.route.RouteAnswer;
import org.p2psip.overlay.wire.Fragmenter;
import org.p2psip.overlay.wire.Frame;
import org.p2psip.overlay.wire.Message;
import org.p2psip.overlay.wire.Message.Route;
import org.p2psip.overlay.wire.Message.RouteReply;
import org.p2psip.overlay.wire.Message.Status;
import org.p2psip.overlay.wire.WireCodec;

/**
 * Hostile ROUTE requests sent from a raw UDP socket to a real node: loops, forged and repeated via lists, bad hop
 * counts, oversized payloads and unknown application ids are dropped (or refused) and counted, a retransmission is
 * delivered once, and the node keeps routing for honest peers afterwards.
 */
class RoutedHostileTest {
    private final Random rnd = new Random(99);
    private final WireCodec codec = new WireCodec();
    private final NodeId attacker = NodeId.random(rnd);
    private final AtomicInteger delivered = new AtomicInteger();
    private Cluster cluster;
    private OverlayNode victim;
    private DatagramSocket socket;

    @BeforeEach
    void start() throws Exception {
        cluster = new Cluster(5);
        cluster.grow(3, Cluster.LOOPBACK);
        victim = cluster.nodes.get(1);
        victim.handle("echo", r -> {
            delivered.incrementAndGet();
            return CompletableFuture.completedFuture(r.payload());
        });
        socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        socket.setSoTimeout(300);
    }

    @AfterEach
    void stop() {
        socket.close();
        cluster.close();
    }

    private void send(long requestId, Message.Request m) throws Exception {
        byte[] frame = codec.encode(new Frame(false, requestId, attacker, m));
        for (byte[] d : Fragmenter.split(frame, 1200, rnd.nextLong())) {
            socket.send(new DatagramPacket(d, d.length, victim.contact().address()));
        }
    }

    /** The next reply to the attacker, or null when none comes within 300 ms. */
    private RouteReply reply() throws Exception {
        byte[] buf = new byte[65_536];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        while (true) {
            try {
                socket.receive(p);
            } catch (SocketTimeoutException e) {
                return null;
            }
            Frame f = codec.decode(buf, p.getLength());
            if (f.reply() && f.message() instanceof RouteReply r) {
                return r;
            }
        }
    }

    private Route route(NodeId target, List<NodeId> via, int hopLimit, String app, Bytes payload) {
        return new Route(target, rnd.nextLong(), true, hopLimit, 2_000, via, app, payload);
    }

    private static void awaitCount(LongSupplier counter, long atLeast, String what) throws InterruptedException {
        long end = System.currentTimeMillis() + 10_000;
        while (counter.getAsLong() < atLeast && System.currentTimeMillis() < end) {
            Thread.sleep(10);
        }
        assertTrue(counter.getAsLong() >= atLeast, what + ": counter " + counter.getAsLong() + " < " + atLeast);
    }

    @Test
    void hostileRoutesAreDroppedAndCounted() throws Exception {
        LongSupplier dropped = () -> victim.counters().routedDropped();
        LongSupplier malformed = () -> victim.counters().malformed();
        NodeId other = NodeId.random(rnd);

        send(1, route(victim.id(), List.of(attacker, victim.id()), 4, "echo", Bytes.EMPTY)); // forged: last via is not the sender
        awaitCount(dropped, 1, "forged via");
        send(2, route(victim.id(), List.of(victim.id(), attacker), 4, "echo", Bytes.EMPTY)); // a loop through the victim
        awaitCount(dropped, 2, "loop");
        send(3, route(victim.id(), List.of(other, attacker, other, attacker), 4, "echo", Bytes.EMPTY)); // repeated via
        awaitCount(dropped, 3, "repeated via");
        send(4, route(victim.id(), List.of(attacker), 4, "unknown-app", Bytes.EMPTY));
        RouteReply refused = reply();
        assertEquals(Status.REFUSED, refused.status(), "an unknown application id is refused: " + refused);
        awaitCount(dropped, 4, "unknown application id");
        assertEquals(0, delivered.get(), "nothing hostile reached the handler");
        assertEquals(null, reply(), "dropped requests get no answer");

        long before = malformed.getAsLong();
        send(5, route(victim.id(), List.of(attacker), 0, "echo", Bytes.EMPTY)); // hop limit 0
        send(6, route(victim.id(), List.of(attacker), WireCodec.MAX_HOPS + 1, "echo", Bytes.EMPTY));
        send(7, route(victim.id(), List.of(attacker), 4, "echo", Bytes.wrap(new byte[WireCodec.MAX_ROUTED_PAYLOAD_BYTES + 1])));
        List<NodeId> tooLong = new ArrayList<>();
        for (int i = 0; i < WireCodec.MAX_HOPS; i++) {
            tooLong.add(NodeId.random(rnd));
        }
        tooLong.add(attacker);
        send(8, route(victim.id(), tooLong, 4, "echo", Bytes.EMPTY));
        send(9, route(victim.id(), List.of(attacker), 4, "bad app", Bytes.EMPTY));
        awaitCount(malformed, before + 5, "malformed routes");
        assertEquals(0, delivered.get());

        // hop limit 1 at a node that is not the target: not forwarded, answered with the reason
        send(10, route(other, List.of(attacker), 1, "echo", Bytes.EMPTY));
        RouteReply limit = reply();
        assertEquals(Status.AGAIN, limit.status());
        assertTrue(limit.reason().contains("hop limit"), limit.reason());

        // the node still routes for honest peers
        OverlayNode honest = cluster.nodes.get(2);
        RouteAnswer a = Cluster.await(honest.route(victim.id(), "echo", Bytes.utf8("still here")));
        assertEquals("still here", a.payload().utf8String());
        assertEquals(1, delivered.get());
    }

    @Test
    void aRetransmittedRequestIsDeliveredOnceAndAnsweredEachTime() throws Exception {
        Route r = route(victim.id(), List.of(attacker), 4, "echo", Bytes.utf8("once"));
        send(42, r);
        RouteReply first = reply();
        send(42, r); // the same request again, as a retransmission after a lost answer
        RouteReply second = reply();
        assertEquals(Status.OK, first.status());
        assertEquals(first, second);
        assertEquals("once", second.payload().utf8String());
        assertEquals(1, delivered.get(), "delivered once");
        assertEquals(1, victim.counters().routedDelivered());
    }
}
