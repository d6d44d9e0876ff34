package org.p2psip.nat.dtls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.p2psip.nat.dtls.DtlsStats.Counter;

/**
 * A DTLS session whose records travel over an attached {@link LinkPath} (here: a pair of plain UDP sockets on
 * 127.0.0.1, standing for an ICE selected pair), not over the layer's own socket.
 */
@Timeout(60)
class LinkPathTest {
    /** A path over its own UDP socket, read by a thread that hands datagrams to the layer. */
    static final class SocketPath implements LinkPath, AutoCloseable {
        final DatagramSocket socket;
        final InetSocketAddress remote;
        volatile int sent;
        /** Outbound datagrams to drop before sending the rest (a lost first flight). */
        volatile int dropFirst;
        int resendHint;

        SocketPath(DatagramSocket socket, InetSocketAddress remote) {
            this.socket = socket;
            this.remote = remote;
        }

        @Override
        public int handshakeResendMillis() {
            return resendHint;
        }

        @Override
        public InetSocketAddress remote() {
            return remote;
        }

        @Override
        public void send(byte[] buf, int off, int len) throws IOException {
            sent++;
            if (dropFirst > 0) {
                dropFirst--;
                return;
            }
            socket.send(new DatagramPacket(buf, off, len, remote));
        }

        void start(DtlsLinkLayer layer) {
            layer.attachPath(this);
            read(layer);
        }

        /** Hands what arrives from {@link #remote} to {@code layer} (the caller attached the path). */
        void read(DtlsLinkLayer layer) {
            Thread t = new Thread(() -> {
                byte[] b = new byte[65535];
                while (!socket.isClosed()) {
                    DatagramPacket p = new DatagramPacket(b, b.length);
                    try {
                        socket.receive(p);
                    } catch (IOException e) {
                        return;
                    }
                    if (remote.equals(p.getSocketAddress())) {
                        layer.receiveFromPath(this, Arrays.copyOf(p.getData(), p.getLength()));
                    }
                }
            });
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    /**
     * Two nodes, each with a UDP socket on 127.0.0.1 and a {@link SocketPath} from it to the other's socket; the
     * paths are neither attached nor read yet (each test does that its way).
     */
    static final class TwoNodes implements AutoCloseable {
        final DtlsTestSupport support = new DtlsTestSupport();
        final DtlsTestSupport.Node a;
        final DtlsTestSupport.Node b;
        /** The addresses of a's and b's path sockets. */
        final InetSocketAddress aEnd;
        final InetSocketAddress bEnd;
        /** a's path to b, b's path to a. */
        final SocketPath ab;
        final SocketPath ba;

        TwoNodes(DtlsConfig config) throws Exception {
            DatagramSocket sa = null;
            DatagramSocket sb = null;
            try {
                sa = new DatagramSocket(DtlsTestSupport.ANY_LOOPBACK);
                sb = new DatagramSocket(DtlsTestSupport.ANY_LOOPBACK);
                a = support.node(config);
                b = support.node(config);
            } catch (Exception e) { // nothing of a half-made fixture stays open
                if (sa != null) {
                    sa.close();
                }
                if (sb != null) {
                    sb.close();
                }
                support.close();
                throw e;
            }
            aEnd = (InetSocketAddress) sa.getLocalSocketAddress();
            bEnd = (InetSocketAddress) sb.getLocalSocketAddress();
            ab = new SocketPath(sa, bEnd);
            ba = new SocketPath(sb, aEnd);
        }

        @Override
        public void close() {
            ba.close();
            ab.close();
            support.close();
        }
    }

    @Test
    void sessionTravelsOverTheAttachedPathAndDetachingEndsIt() throws Exception {
        try (TwoNodes t = new TwoNodes(DtlsTestSupport.quick())) {
            t.ab.start(t.a.layer);
            t.ba.start(t.b.layer);

            t.a.sendTo(t.bEnd, "over the path");
            DtlsTestSupport.Received r = t.b.take(10_000);
            assertEquals("over the path", r.text());
            assertEquals(t.aEnd, r.from(), "b knows a by the path's address");
            t.b.sendTo(t.aEnd, "and back");
            assertEquals("and back", t.a.take(10_000).text());
            assertEquals(t.b.identity.id(), t.a.layer.authenticatedId(t.bEnd).orElseThrow());
            assertEquals(t.a.identity.id(), t.b.layer.authenticatedId(t.aEnd).orElseThrow());
            assertTrue(t.ab.sent > 0 && t.ba.sent > 0);
            assertEquals(0, t.a.stat(Counter.NOT_DTLS) + t.b.stat(Counter.NOT_DTLS));
            assertEquals(java.util.List.of(t.bEnd), t.a.layer.pathPeers());

            // the layer's own socket refuses datagrams from an address that has a path
            try (DatagramSocket spoof = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                    DatagramSocket other = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                t.b.layer.attachPath(new SocketPath(other, (InetSocketAddress) spoof.getLocalSocketAddress()));
                long noSession = t.b.stat(Counter.NO_SESSION);
                byte[] record = {23, (byte) 0xFE, (byte) 0xFD, 0, 1, 0, 0, 0, 0, 0, 9, 0, 1, 0};
                spoof.send(new DatagramPacket(record, record.length, t.b.address()));
                DtlsTestSupport.await("the stray record counted", 5_000,
                        () -> t.b.stat(Counter.NO_SESSION) > noSession);
            }

            t.b.layer.detachPath(t.ba);
            DtlsTestSupport.await("b's session over the path closed", 5_000,
                    () -> t.b.layer.authenticatedId(t.aEnd).isEmpty());
            assertEquals(1, t.b.layer.pathPeers().size(), "only the spoof test's path is left");
        }
    }

    /**
     * ICE's roles: the controlled side opens the session over the path at once ({@code openOverPath}), the controlling
     * side waits for it ({@code attachPathForPeer}) even though it has data to send: one handshake, no simultaneous
     * open, no cookie exchange, and both sides' queued data arrives.
     */
    @Test
    void onePeerOpensOverThePathWhileTheOtherWaitsForIt() throws Exception {
        try (TwoNodes t = new TwoNodes(DtlsTestSupport.quick())) {
            t.a.layer.attachPathForPeer(t.ab, 30_000);
            t.ab.read(t.a.layer);
            t.a.sendTo(t.bEnd, "waits for b's handshake");
            t.b.layer.openOverPath(t.ba);
            t.ba.read(t.b.layer);

            DtlsTestSupport.Received r = t.b.take(10_000);
            assertEquals("waits for b's handshake", r.text());
            assertEquals(t.aEnd, r.from());
            t.b.sendTo(t.aEnd, "and back");
            assertEquals("and back", t.a.take(10_000).text());
            assertEquals(t.b.identity.id(), t.a.layer.authenticatedId(t.bEnd).orElseThrow());
            assertEquals(t.a.identity.id(), t.b.layer.authenticatedId(t.aEnd).orElseThrow());
            assertEquals(0, t.a.stat(Counter.HANDSHAKES_STARTED_CLIENT),
                    "the waiting side never opened: " + t.a.layer.stats());
            assertEquals(1, t.a.stat(Counter.HANDSHAKES_STARTED_SERVER));
            assertEquals(1, t.a.stat(Counter.COOKIELESS_OVER_PATH));
            assertEquals(1, t.b.stat(Counter.HANDSHAKES_STARTED_CLIENT));
            assertEquals(0, t.a.stat(Counter.PEER_OPEN_FALLBACKS) + t.a.stat(Counter.SIMULTANEOUS_OPEN_YIELDED)
                    + t.b.stat(Counter.SIMULTANEOUS_OPEN_YIELDED));
        }
    }

    /** A peer that never opens: the waiting side opens the session itself after the wait. */
    @Test
    void theWaitingSideOpensWhenThePeerDoesNot() throws Exception {
        try (TwoNodes t = new TwoNodes(DtlsTestSupport.quick())) {
            t.a.layer.attachPathForPeer(t.ab, 300);
            t.ab.read(t.a.layer);
            t.ba.start(t.b.layer); // attached, but b does not open
            t.a.sendTo(t.bEnd, "after the wait");
            assertEquals("after the wait", t.b.take(10_000).text());
            assertEquals(1, t.a.stat(Counter.PEER_OPEN_FALLBACKS));
            assertEquals(1, t.a.stat(Counter.HANDSHAKES_STARTED_CLIENT));
            assertEquals(t.b.identity.id(), t.a.layer.authenticatedId(t.bEnd).orElseThrow());
        }
    }

    /**
     * A path's round-trip-based retransmission timeout applies to handshakes over it: the first ClientHello is lost,
     * and the session still comes up long before the layer's own (here 20 s) first retransmission would resend it.
     */
    @Test
    void aLostFirstFlightIsResentAfterThePathsTimeout() throws Exception {
        DtlsConfig slowResend = DtlsConfig.defaults().withHandshake(30_000, 20_000, 4);
        try (TwoNodes t = new TwoNodes(slowResend)) {
            t.ba.resendHint = 200;
            t.ba.dropFirst = 1;
            t.a.layer.attachPathForPeer(t.ab, 60_000);
            t.ab.read(t.a.layer);
            t.b.layer.openOverPath(t.ba);
            t.ba.read(t.b.layer);
            t.b.sendTo(t.aEnd, "despite the lost ClientHello");
            assertEquals("despite the lost ClientHello", t.a.take(10_000).text());
            assertTrue(t.ba.sent >= 2, "the ClientHello was sent again");
        }
    }
}
