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

    @Test
    void sessionTravelsOverTheAttachedPathAndDetachingEndsIt() throws Exception {
        try (DtlsTestSupport s = new DtlsTestSupport();
                DatagramSocket sa = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                DatagramSocket sb = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            DtlsTestSupport.Node a = s.node(DtlsTestSupport.quick());
            DtlsTestSupport.Node b = s.node(DtlsTestSupport.quick());
            InetSocketAddress aEnd = (InetSocketAddress) sa.getLocalSocketAddress();
            InetSocketAddress bEnd = (InetSocketAddress) sb.getLocalSocketAddress();
            SocketPath ab = new SocketPath(sa, bEnd);
            SocketPath ba = new SocketPath(sb, aEnd);
            ab.start(a.layer);
            ba.start(b.layer);

            a.sendTo(bEnd, "over the path");
            DtlsTestSupport.Received r = b.take(10_000);
            assertEquals("over the path", r.text());
            assertEquals(aEnd, r.from(), "b knows a by the path's address");
            b.sendTo(aEnd, "and back");
            assertEquals("and back", a.take(10_000).text());
            assertEquals(b.identity.id(), a.layer.authenticatedId(bEnd).orElseThrow());
            assertEquals(a.identity.id(), b.layer.authenticatedId(aEnd).orElseThrow());
            assertTrue(ab.sent > 0 && ba.sent > 0);
            assertEquals(0, a.stat(Counter.NOT_DTLS) + b.stat(Counter.NOT_DTLS));
            assertEquals(java.util.List.of(bEnd), a.layer.pathPeers());

            // the layer's own socket refuses datagrams from an address that has a path
            try (DatagramSocket spoof = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                    DatagramSocket other = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                b.layer.attachPath(new SocketPath(other, (InetSocketAddress) spoof.getLocalSocketAddress()));
                long noSession = b.stat(Counter.NO_SESSION);
                byte[] record = {23, (byte) 0xFE, (byte) 0xFD, 0, 1, 0, 0, 0, 0, 0, 9, 0, 1, 0};
                spoof.send(new DatagramPacket(record, record.length, b.address()));
                DtlsTestSupport.await("the stray record counted", 5_000, () -> b.stat(Counter.NO_SESSION) > noSession);
            }

            b.layer.detachPath(ba);
            DtlsTestSupport.await("b's session over the path closed", 5_000, () -> b.layer.authenticatedId(aEnd).isEmpty());
            assertEquals(1, b.layer.pathPeers().size(), "only the spoof test's path is left");
        }
    }

    /**
     * ICE's roles: the controlled side opens the session over the path at once ({@code openOverPath}), the controlling
     * side waits for it ({@code attachPathForPeer}) even though it has data to send: one handshake, no simultaneous
     * open, no cookie exchange, and both sides' queued data arrives.
     */
    @Test
    void onePeerOpensOverThePathWhileTheOtherWaitsForIt() throws Exception {
        try (DtlsTestSupport s = new DtlsTestSupport();
                DatagramSocket sa = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                DatagramSocket sb = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            DtlsTestSupport.Node a = s.node(DtlsTestSupport.quick());
            DtlsTestSupport.Node b = s.node(DtlsTestSupport.quick());
            InetSocketAddress aEnd = (InetSocketAddress) sa.getLocalSocketAddress();
            InetSocketAddress bEnd = (InetSocketAddress) sb.getLocalSocketAddress();
            SocketPath ab = new SocketPath(sa, bEnd);
            SocketPath ba = new SocketPath(sb, aEnd);
            a.layer.attachPathForPeer(ab, 30_000);
            ab.read(a.layer);
            a.sendTo(bEnd, "waits for b's handshake");
            b.layer.openOverPath(ba);
            ba.read(b.layer);

            DtlsTestSupport.Received r = b.take(10_000);
            assertEquals("waits for b's handshake", r.text());
            assertEquals(aEnd, r.from());
            b.sendTo(aEnd, "and back");
            assertEquals("and back", a.take(10_000).text());
            assertEquals(b.identity.id(), a.layer.authenticatedId(bEnd).orElseThrow());
            assertEquals(a.identity.id(), b.layer.authenticatedId(aEnd).orElseThrow());
            assertEquals(0, a.stat(Counter.HANDSHAKES_STARTED_CLIENT), "the waiting side never opened: " + a.layer.stats());
            assertEquals(1, a.stat(Counter.HANDSHAKES_STARTED_SERVER));
            assertEquals(1, a.stat(Counter.COOKIELESS_OVER_PATH));
            assertEquals(1, b.stat(Counter.HANDSHAKES_STARTED_CLIENT));
            assertEquals(0, a.stat(Counter.PEER_OPEN_FALLBACKS) + a.stat(Counter.SIMULTANEOUS_OPEN_YIELDED)
                    + b.stat(Counter.SIMULTANEOUS_OPEN_YIELDED));
        }
    }

    /** A peer that never opens: the waiting side opens the session itself after the wait. */
    @Test
    void theWaitingSideOpensWhenThePeerDoesNot() throws Exception {
        try (DtlsTestSupport s = new DtlsTestSupport();
                DatagramSocket sa = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                DatagramSocket sb = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            DtlsTestSupport.Node a = s.node(DtlsTestSupport.quick());
            DtlsTestSupport.Node b = s.node(DtlsTestSupport.quick());
            InetSocketAddress aEnd = (InetSocketAddress) sa.getLocalSocketAddress();
            InetSocketAddress bEnd = (InetSocketAddress) sb.getLocalSocketAddress();
            SocketPath ab = new SocketPath(sa, bEnd);
            SocketPath ba = new SocketPath(sb, aEnd);
            a.layer.attachPathForPeer(ab, 300);
            ab.read(a.layer);
            ba.start(b.layer); // attached, but b does not open
            a.sendTo(bEnd, "after the wait");
            assertEquals("after the wait", b.take(10_000).text());
            assertEquals(1, a.stat(Counter.PEER_OPEN_FALLBACKS));
            assertEquals(1, a.stat(Counter.HANDSHAKES_STARTED_CLIENT));
            assertEquals(b.identity.id(), a.layer.authenticatedId(bEnd).orElseThrow());
        }
    }

    /**
     * A path's round-trip-based retransmission timeout applies to handshakes over it: the first ClientHello is lost,
     * and the session still comes up long before the layer's own (here 20 s) first retransmission would resend it.
     */
    @Test
    void aLostFirstFlightIsResentAfterThePathsTimeout() throws Exception {
        DtlsConfig slowResend = DtlsConfig.defaults().withHandshake(30_000, 20_000, 4);
        try (DtlsTestSupport s = new DtlsTestSupport();
                DatagramSocket sa = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                DatagramSocket sb = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            DtlsTestSupport.Node a = s.node(slowResend);
            DtlsTestSupport.Node b = s.node(slowResend);
            InetSocketAddress aEnd = (InetSocketAddress) sa.getLocalSocketAddress();
            InetSocketAddress bEnd = (InetSocketAddress) sb.getLocalSocketAddress();
            SocketPath ab = new SocketPath(sa, bEnd);
            SocketPath ba = new SocketPath(sb, aEnd);
            ba.resendHint = 200;
            ba.dropFirst = 1;
            a.layer.attachPathForPeer(ab, 60_000);
            ab.read(a.layer);
            b.layer.openOverPath(ba);
            ba.read(b.layer);
            b.sendTo(aEnd, "despite the lost ClientHello");
            assertEquals("despite the lost ClientHello", a.take(10_000).text());
            assertTrue(ba.sent >= 2, "the ClientHello was sent again");
        }
    }
}
