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

        SocketPath(DatagramSocket socket, InetSocketAddress remote) {
            this.socket = socket;
            this.remote = remote;
        }

        @Override
        public InetSocketAddress remote() {
            return remote;
        }

        @Override
        public void send(byte[] buf, int off, int len) throws IOException {
            sent++;
            socket.send(new DatagramPacket(buf, off, len, remote));
        }

        void start(DtlsLinkLayer layer) {
            layer.attachPath(this);
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
}
