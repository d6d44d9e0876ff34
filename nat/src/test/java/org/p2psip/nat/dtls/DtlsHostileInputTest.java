package org.p2psip.nat.dtls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.tls.DTLSClientProtocol;
import org.bouncycastle.tls.DatagramTransport;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.p2psip.nat.dtls.DtlsStats.Counter;
import org.p2psip.nat.dtls.DtlsTestSupport.Node;

/** Garbage, tampered records and handshake floods are dropped and counted, never fatal, never blocking others. */
@Timeout(60)
class DtlsHostileInputTest {

    private static void sendFrom(DatagramSocket s, byte[] d, InetSocketAddress to) throws IOException {
        s.send(new DatagramPacket(d, d.length, to));
    }

    private static byte[] lastAppRecord(List<byte[]> log) {
        for (int i = log.size() - 1; i >= 0; i--) {
            byte[] d = log.get(i);
            if (d[0] == 23 && d.length > Records.HEADER + 20) {
                return d;
            }
        }
        throw new AssertionError("no application record seen");
    }

    @Test
    void garbageTamperedAndReplayedRecordsAreDroppedAndTheSessionSurvives() throws Exception {
        try (DtlsTestSupport s = new DtlsTestSupport()) {
            Node a = s.node(DtlsTestSupport.quick());
            Node b = s.node(DtlsTestSupport.quick());
            UdpRelay relay = s.track(new UdpRelay(a.address(), b.address()));
            a.sendTo(relay.forA(), "probe with some length to it");
            assertEquals("probe with some length to it", b.take(10_000).text());
            byte[] record = lastAppRecord(relay.fromA);
            Random rnd = new Random(1);
            long in0 = b.stat(Counter.DATAGRAMS_IN);
            long dropped0 = b.stat(Counter.RECORDS_DROPPED);

            // from strangers: garbage of every size, DTLS-looking records without a session, broken ClientHellos
            try (DatagramSocket stranger = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                for (int i = 0; i < 200; i++) {
                    byte[] g = new byte[1 + rnd.nextInt(1500)];
                    rnd.nextBytes(g);
                    g[0] = (byte) (100 + rnd.nextInt(100)); // not a TLS content type
                    sendFrom(stranger, g, b.address());
                }
                for (int i = 0; i < 50; i++) {
                    sendFrom(stranger, record, b.address()); // a valid record, but not from its session's address
                }
                byte[] shortHello = {22, (byte) 0xfe, (byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
                for (int i = 0; i < 20; i++) {
                    sendFrom(stranger, shortHello, b.address());
                }
            }
            // from the peer's own address (the relay): wrong MAC, truncation, replay, forged epoch-0 fatal alert
            byte[] flipped = record.clone();
            flipped[flipped.length - 1] ^= 1;
            byte[] truncated = Arrays.copyOf(record, record.length - 5);
            byte[] headerOnly = Arrays.copyOf(record, Records.HEADER);
            byte[] forgedPayload = record.clone();
            for (int i = Records.HEADER; i < forgedPayload.length; i++) {
                forgedPayload[i] = (byte) rnd.nextInt();
            }
            forgedPayload[10] ^= 0x40; // another sequence number, so the replay window does not hide the MAC check
            byte[] fatalAlert = {21, (byte) 0xfe, (byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 9, 0, 2, 2, 40};
            byte[][] hostile = {flipped, truncated, headerOnly, record, forgedPayload, fatalAlert};
            for (byte[] h : hostile) {
                relay.injectToB(h);
            }
            DtlsTestSupport.await("everything counted", 5_000,
                    () -> b.stat(Counter.DATAGRAMS_IN) - in0 >= 200 + 50 + 20 + hostile.length);
            assertEquals(200, b.stat(Counter.NOT_DTLS));
            assertEquals(50, b.stat(Counter.NO_SESSION));
            assertEquals(20, b.stat(Counter.CLIENT_HELLO_INVALID));
            assertEquals(hostile.length, b.stat(Counter.RECORDS_DROPPED) - dropped0, b.layer.stats().toString());
            assertNull(b.inbox.poll(200, TimeUnit.MILLISECONDS), "nothing hostile is delivered");

            // the session is untouched
            a.sendTo(relay.forA(), "still fine");
            assertEquals("still fine", b.take(5_000).text());
            b.sendTo(relay.forB(), "both ways");
            assertEquals("both ways", a.take(5_000).text());
            assertEquals(1, b.stat(Counter.HANDSHAKES_COMPLETED));
            assertEquals(List.of(relay.forB()), b.layer.establishedPeers());
            assertEquals(0, b.stat(Counter.SESSIONS_CLOSED_BY_PEER));
            // the stranger's records of an unknown session made b try to open one, once (it may have restarted)
            assertEquals(1, b.stat(Counter.RESYNC_HANDSHAKES));
        }
    }

    @Test
    void aFloodOfClientHellosFromManyPortsCostsOnlyRateLimitedCookies() throws Exception {
        DtlsConfig cfg = DtlsTestSupport.quick().withLimits(2_048, 64, 64, 50);
        try (DtlsTestSupport s = new DtlsTestSupport()) {
            Node a = s.node(cfg);
            Node b = s.node(cfg);
            UdpRelay relay = s.track(new UdpRelay(a.address(), b.address()));
            a.sendTo(relay.forA(), "hi");
            assertEquals("hi", b.take(10_000).text());
            byte[] clientHello = relay.fromA.get(0);
            assertTrue(Records.isClientHello(clientHello, clientHello.length));

            int flood = 300;
            long hvrBefore = b.stat(Counter.HELLO_VERIFY_SENT);
            long floodStart = System.nanoTime();
            List<DatagramSocket> spoofed = new ArrayList<>();
            try {
                for (int i = 0; i < flood; i++) {
                    DatagramSocket sock = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                    spoofed.add(sock);
                    sendFrom(sock, clientHello, b.address());
                    if (i == flood / 2) {
                        a.sendTo(relay.forA(), "during the flood");
                    }
                }
                assertEquals("during the flood", b.take(5_000).text());
                DtlsTestSupport.await("all hellos counted", 5_000, () -> b.stat(Counter.HELLO_VERIFY_SENT) - hvrBefore
                        + b.stat(Counter.HELLO_VERIFY_RATE_LIMITED) >= flood);
            } finally {
                spoofed.forEach(DatagramSocket::close);
            }
            long sent = b.stat(Counter.HELLO_VERIFY_SENT) - hvrBefore;
            // 50 cookies/s with a burst of 100: at most the burst plus what the flood's duration refilled (a loaded
            // machine takes seconds to open 300 sockets), plus slack
            double seconds = (System.nanoTime() - floodStart) / 1e9;
            assertTrue(sent <= 2 * 50 + 50 * seconds + 25, "cookies are rate limited: " + sent + " sent in "
                    + String.format("%.2f", seconds) + " s: " + b.layer.stats());
            assertTrue(b.stat(Counter.HELLO_VERIFY_RATE_LIMITED) >= flood - sent - 1, b.layer.stats().toString());
            assertEquals(1, b.layer.sessionCount(), "cookie-less hellos create no state");
            assertEquals(1, b.stat(Counter.HANDSHAKES_STARTED_SERVER), "only the one for a");
        }
    }

    /** A DatagramTransport on a connected socket that lets only the first datagram in (the HelloVerifyRequest). */
    private static final class StallingTransport implements DatagramTransport {
        private final DatagramSocket socket;
        private final AtomicInteger received = new AtomicInteger();

        StallingTransport(DatagramSocket socket) {
            this.socket = socket;
        }

        @Override
        public int getReceiveLimit() {
            return 4096;
        }

        @Override
        public int getSendLimit() {
            return 1400;
        }

        @Override
        public int receive(byte[] buf, int off, int len, int waitMillis) throws IOException {
            if (received.get() > 0) {
                try {
                    Thread.sleep(Math.min(waitMillis, 50));
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
                return -1;
            }
            socket.setSoTimeout(waitMillis);
            DatagramPacket p = new DatagramPacket(buf, off, len);
            try {
                socket.receive(p);
            } catch (java.net.SocketTimeoutException e) {
                return -1;
            }
            received.incrementAndGet();
            return p.getLength();
        }

        @Override
        public void send(byte[] buf, int off, int len) throws IOException {
            socket.send(new DatagramPacket(buf, off, len));
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    @Test
    void halfOpenHandshakesAreBoundedAndDoNotBlockEstablishedPeers() throws Exception {
        DtlsConfig cfg = DtlsConfig.defaults().withHandshake(1_500, 200, 2);
        try (DtlsTestSupport s = new DtlsTestSupport()) {
            Node a = s.node(cfg);
            Node b = s.node(cfg);
            a.send(b, "established");
            assertEquals("established", b.take(10_000).text());

            // clients that return the cookie and then go silent: each holds a server handshake until it times out
            int attackers = 8;
            List<Thread> threads = new ArrayList<>();
            DtlsConfig attackerCfg = DtlsConfig.defaults().withHandshake(3_000, 200, 1);
            for (int i = 0; i < attackers; i++) {
                DatagramSocket sock = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                sock.connect(b.address());
                Thread t = new Thread(() -> {
                    BcTlsCrypto crypto = new BcTlsCrypto(new SecureRandom());
                    try {
                        new DTLSClientProtocol().connect(new NodeTls.Client(crypto, DtlsIdentity.generate(), attackerCfg,
                                attackerCfg.handshakeResendMillis(), why -> { }), new StallingTransport(sock));
                    } catch (IOException | RuntimeException e) {
                        // expected: the handshake times out
                    } finally {
                        sock.close();
                    }
                });
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
            DtlsTestSupport.await("the handshake slots fill and the rest are refused", 10_000,
                    () -> b.stat(Counter.HANDSHAKES_REFUSED) >= 1);
            assertTrue(b.stat(Counter.HANDSHAKES_STARTED_SERVER) >= 2, b.layer.stats().toString());

            // the established peer is served at once meanwhile
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                a.send(b, "ping " + i);
                assertEquals("ping " + i, b.take(2_000).text());
                b.send(a, "pong " + i);
                assertEquals("pong " + i, a.take(2_000).text());
                assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1));
            }
            for (Thread t : threads) {
                t.join(10_000);
            }
            // once the half-open handshakes have timed out, a newcomer gets in
            DtlsTestSupport.await("half-open sessions gone", 10_000, () -> b.layer.sessionCount() == 1);
            Node c = s.node(cfg);
            c.send(b, "newcomer");
            assertEquals("newcomer", b.take(10_000).text());
            assertNotNull(b.layer.authenticatedId(c.address()).orElse(null));
            assertTrue(b.stat(Counter.HANDSHAKES_FAILED) >= 2, b.layer.stats().toString());
        }
    }
}
