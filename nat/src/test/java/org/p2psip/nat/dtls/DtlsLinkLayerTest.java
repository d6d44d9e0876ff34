package org.p2psip.nat.dtls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.wire.Frame;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.p2psip.nat.dtls.DtlsStats.Counter;
import org.p2psip.nat.dtls.DtlsTestSupport.Node;
import org.p2psip.nat.dtls.DtlsTestSupport.Received;

/** Sessions, authentication and ordering between real layers on 127.0.0.1. */
@Timeout(60)
class DtlsLinkLayerTest {

    @Test
    void twoLayersExchangeAndAuthenticateEachOther() throws Exception {
        try (DtlsTestSupport s = new DtlsTestSupport()) {
            Node a = s.node(DtlsTestSupport.quick());
            Node b = s.node(DtlsTestSupport.quick());
            // sent before any session exists: queued during the handshake, then delivered
            for (int i = 0; i < 10; i++) {
                a.send(b, "hello " + i);
            }
            Set<String> got = new HashSet<>();
            for (int i = 0; i < 10; i++) {
                Received r = b.take(10_000);
                assertEquals(a.address(), r.from());
                got.add(r.text());
            }
            for (int i = 0; i < 10; i++) {
                assertTrue(got.contains("hello " + i), got.toString());
            }
            b.send(a, "pong");
            Received r = a.take(5_000);
            assertEquals("pong", r.text());
            assertEquals(b.address(), r.from());
            assertEquals(Optional.of(a.identity.id()), b.layer.authenticatedId(a.address()));
            assertEquals(Optional.of(b.identity.id()), a.layer.authenticatedId(b.address()));
            assertEquals(1, a.stat(Counter.HANDSHAKES_COMPLETED));
            assertEquals(1, b.stat(Counter.HANDSHAKES_COMPLETED));
            assertEquals(1, a.layer.sessionCount());
            assertEquals(1, b.layer.sessionCount());
        }
    }

    @Test
    void threeLayersAllPairs() throws Exception {
        try (DtlsTestSupport s = new DtlsTestSupport()) {
            List<Node> nodes = List.of(s.node(DtlsTestSupport.quick()), s.node(DtlsTestSupport.quick()),
                    s.node(DtlsTestSupport.quick()));
            for (Node from : nodes) {
                for (Node to : nodes) {
                    if (from != to) {
                        from.send(to, "from " + from.address().getPort());
                    }
                }
            }
            for (Node to : nodes) {
                Set<String> got = new HashSet<>();
                got.add(to.take(10_000).text());
                got.add(to.take(10_000).text());
                for (Node from : nodes) {
                    if (from != to) {
                        assertTrue(got.contains("from " + from.address().getPort()), got.toString());
                        assertEquals(Optional.of(from.identity.id()), to.layer.authenticatedId(from.address()));
                    }
                }
                assertEquals(2, to.layer.sessionCount());
            }
        }
    }

    @Test
    void simultaneousOpenEndsInOneSessionWithAllDataDelivered() throws Exception {
        for (int round = 0; round < 3; round++) {
            try (DtlsTestSupport s = new DtlsTestSupport()) {
                Node a = s.node(DtlsTestSupport.quick());
                Node b = s.node(DtlsTestSupport.quick());
                UdpRelay relay = s.track(new UdpRelay(a.address(), b.address()));
                relay.mode(UdpRelay.Mode.HOLD);
                a.sendTo(relay.forA(), "from a");
                b.sendTo(relay.forB(), "from b");
                // both ClientHellos are on their way before either side has heard from the other
                DtlsTestSupport.await("both ClientHellos", 5_000, () -> !relay.fromA.isEmpty() && !relay.fromB.isEmpty());
                relay.mode(UdpRelay.Mode.PASS);
                assertEquals("from a", b.take(10_000).text());
                assertEquals("from b", a.take(10_000).text());
                assertEquals(1, a.layer.sessionCount());
                assertEquals(1, b.layer.sessionCount());
                assertEquals(1, a.stat(Counter.SIMULTANEOUS_OPEN_YIELDED) + b.stat(Counter.SIMULTANEOUS_OPEN_YIELDED),
                        "exactly one side yields: " + a.layer.stats() + " / " + b.layer.stats());
                assertEquals(1, a.stat(Counter.SIMULTANEOUS_OPEN_KEPT) + b.stat(Counter.SIMULTANEOUS_OPEN_KEPT));
                assertEquals(1, a.stat(Counter.HANDSHAKES_COMPLETED));
                assertEquals(1, b.stat(Counter.HANDSHAKES_COMPLETED));
                assertEquals(Optional.of(b.identity.id()), a.layer.authenticatedId(relay.forA()));
                assertEquals(Optional.of(a.identity.id()), b.layer.authenticatedId(relay.forB()));
            }
        }
    }

    @Test
    void keepalivesHoldAnIdleSessionAndADeadPeerIsClosedThenReopened() throws Exception {
        DtlsConfig cfg = DtlsTestSupport.quick().withKeepalive(200, 1_200);
        try (DtlsTestSupport s = new DtlsTestSupport()) {
            Node a = s.node(cfg);
            Node b = s.node(cfg);
            UdpRelay relay = s.track(new UdpRelay(a.address(), b.address()));
            a.sendTo(relay.forA(), "first");
            assertEquals("first", b.take(10_000).text());
            // idle for 5 dead-peer timeouts: only keepalives cross, and they keep the session
            Thread.sleep(3_000);
            assertTrue(a.layer.authenticatedId(relay.forA()).isPresent(), a.layer.stats().toString());
            assertTrue(b.layer.authenticatedId(relay.forB()).isPresent(), b.layer.stats().toString());
            assertEquals(1, a.stat(Counter.HANDSHAKES_COMPLETED));
            assertEquals(1, b.stat(Counter.HANDSHAKES_COMPLETED));
            assertTrue(a.stat(Counter.KEEPALIVES_SENT) >= 5, a.layer.stats().toString());
            assertTrue(b.stat(Counter.KEEPALIVES_RECEIVED) >= 5, b.layer.stats().toString());
            assertEquals(0, a.stat(Counter.DEAD_PEER_CLOSED) + b.stat(Counter.DEAD_PEER_CLOSED));
            assertTrue(a.inbox.isEmpty() && b.inbox.isEmpty(), "keepalives are not delivered");

            // the path dies (a NAT forgot the binding): both sides close after the dead-peer timeout
            relay.mode(UdpRelay.Mode.DROP);
            DtlsTestSupport.await("both sessions closed", 5_000,
                    () -> a.layer.authenticatedId(relay.forA()).isEmpty() && b.layer.authenticatedId(relay.forB()).isEmpty());
            assertEquals(1, a.stat(Counter.DEAD_PEER_CLOSED));
            assertEquals(1, b.stat(Counter.DEAD_PEER_CLOSED));
            assertEquals(0, a.layer.sessionCount());

            // the next send opens a new session
            relay.mode(UdpRelay.Mode.PASS);
            a.sendTo(relay.forA(), "again");
            assertEquals("again", b.take(10_000).text());
            assertEquals(2, a.stat(Counter.HANDSHAKES_COMPLETED));
            assertEquals(Optional.of(a.identity.id()), b.layer.authenticatedId(relay.forB()));
        }
    }

    @Test
    void aSessionThatCarriesNoDataIsClosedDespiteKeepalives() throws Exception {
        DtlsConfig cfg = DtlsTestSupport.quick().withKeepalive(100, 1_000).withUnusedSessionTimeout(800);
        try (DtlsTestSupport s = new DtlsTestSupport()) {
            Node a = s.node(cfg);
            Node b = s.node(cfg);
            a.send(b, "x");
            assertEquals("x", b.take(10_000).text());
            DtlsTestSupport.await("unused sessions closed", 5_000,
                    () -> a.layer.sessionCount() == 0 && b.layer.sessionCount() == 0);
            assertTrue(a.stat(Counter.UNUSED_CLOSED) + b.stat(Counter.UNUSED_CLOSED) >= 1);
        }
    }

    /** A whole overlay frame: magic, version, kind, request id, sender id, and a body byte. */
    private static byte[] frame(NodeId sender) {
        byte[] d = new byte[Frame.HEADER_BYTES + 1];
        d[0] = (byte) Frame.MAGIC0;
        d[1] = (byte) Frame.MAGIC1;
        d[2] = (byte) Frame.VERSION;
        d[3] = (byte) Frame.KIND_REQUEST;
        sender.copyTo(d, 12);
        d[Frame.HEADER_BYTES] = 42;
        return d;
    }

    @Test
    void aFrameClaimingAnotherIdThanTheAuthenticatedOneClosesTheSession() throws Exception {
        try (DtlsTestSupport s = new DtlsTestSupport()) {
            Node a = s.node(DtlsTestSupport.quick());
            Node b = s.node(DtlsTestSupport.quick());
            a.layer.send(b.address(), frame(a.identity.id()));
            Received ok = b.take(10_000);
            assertEquals(Frame.HEADER_BYTES + 1, ok.data().length);
            assertEquals(Optional.of(a.identity.id()), b.layer.authenticatedId(a.address()));

            NodeId other = NodeId.random(new Random(7));
            long handshakes = b.stat(Counter.HANDSHAKES_COMPLETED);
            // An impostor keeps trying; so does this one, in case one UDP datagram of a loaded machine is lost.
            for (int attempt = 0; attempt < 3 && b.stat(Counter.IMPOSTOR_FRAMES) == 0; attempt++) {
                a.layer.send(b.address(), frame(other));
                long end = System.currentTimeMillis() + 3_000;
                while (b.stat(Counter.IMPOSTOR_FRAMES) == 0 && System.currentTimeMillis() < end) {
                    Thread.sleep(10);
                }
            }
            // The session that carried the frame ends: it is gone, or (when a's side reopens at once) replaced by a
            // new handshake; polling could miss the short moment between the two.
            DtlsTestSupport.await("b closes the session", 5_000, () -> b.layer.authenticatedId(a.address()).isEmpty()
                    || b.stat(Counter.HANDSHAKES_COMPLETED) > handshakes);
            assertEquals(1, b.stat(Counter.IMPOSTOR_FRAMES));
            assertNull(b.inbox.poll(300, TimeUnit.MILLISECONDS), "the impostor frame is not delivered");

            // the overlay's check for reassembled frames: same rule through acceptSender
            a.layer.send(b.address(), frame(a.identity.id()));
            b.take(10_000);
            InetSocketAddressHolder h = new InetSocketAddressHolder(a.address());
            assertTrue(b.layer.acceptSender(h.address, a.identity.id()));
            long handshakesBefore = b.stat(Counter.HANDSHAKES_COMPLETED);
            assertFalse(b.layer.acceptSender(h.address, other));
            DtlsTestSupport.await("closed again", 5_000, () -> b.layer.authenticatedId(a.address()).isEmpty()
                    || b.stat(Counter.HANDSHAKES_COMPLETED) > handshakesBefore);
            assertEquals(2, b.stat(Counter.IMPOSTOR_FRAMES));
        }
    }

    private record InetSocketAddressHolder(java.net.InetSocketAddress address) { }

    @Test
    void aCertificateNotSelfSignedByItsKeyIsRefusedEitherWay() throws Exception {
        Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(new java.security.SecureRandom());
        Ed25519PrivateKeyParameters other = new Ed25519PrivateKeyParameters(new java.security.SecureRandom());
        // the subject key is the one the node signs the handshake with, but another key signed the certificate
        DtlsIdentity forged = DtlsIdentity.withCertificate(key.getEncoded(), DtlsIdentity.certificate(key, other, "forged"));
        try (DtlsTestSupport s = new DtlsTestSupport()) {
            Node bad = s.node(forged, DtlsTestSupport.quick());
            Node good = s.node(DtlsTestSupport.quick());
            bad.send(good, "let me in");      // bad is the client
            // bad may retry its handshake while these run, so each wait is for "at least", never "exactly".
            DtlsTestSupport.await("good refuses the client", 10_000, () -> good.stat(Counter.AUTH_FAILURES) >= 1);
            DtlsTestSupport.await("the first handshake ends", 10_000, () -> good.stat(Counter.HANDSHAKES_FAILED) >= 1);
            // Now good is the client and bad the server. A datagram sent while a refused handshake from bad still
            // winds down waits for it and is dropped with it, so good sends again until it starts its own handshake.
            for (int attempt = 0; attempt < 5 && good.stat(Counter.HANDSHAKES_STARTED_CLIENT) == 0; attempt++) {
                good.send(bad, "hello?");
                long end = System.currentTimeMillis() + 2_000;
                while (good.stat(Counter.HANDSHAKES_STARTED_CLIENT) == 0 && System.currentTimeMillis() < end) {
                    Thread.sleep(10);
                }
            }
            assertTrue(good.stat(Counter.HANDSHAKES_STARTED_CLIENT) >= 1, "good started a handshake as the client");
            // Every handshake good took part in, either way, ends refused: none completes.
            DtlsTestSupport.await("handshakes fail", 10_000, () -> good.stat(Counter.HANDSHAKES_FAILED)
                    >= good.stat(Counter.HANDSHAKES_STARTED_CLIENT) + good.stat(Counter.HANDSHAKES_STARTED_SERVER));
            assertTrue(good.stat(Counter.AUTH_FAILURES) >= 2, "good refused bad as a client and as a server");
            assertNull(good.inbox.poll(200, TimeUnit.MILLISECONDS));
            assertTrue(good.layer.authenticatedId(bad.address()).isEmpty());
            assertTrue(bad.layer.authenticatedId(good.address()).isEmpty());
            assertEquals(0, good.stat(Counter.HANDSHAKES_COMPLETED));
        }
    }

    @Test
    void aCertificateForAnotherKeyFailsTheHandshake() throws Exception {
        Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(new java.security.SecureRandom());
        Ed25519PrivateKeyParameters victim = new Ed25519PrivateKeyParameters(new java.security.SecureRandom());
        // a valid self-signed certificate of somebody else's key, presented without that key
        DtlsIdentity thief = DtlsIdentity.withCertificate(key.getEncoded(), DtlsIdentity.selfSigned(victim));
        try (DtlsTestSupport s = new DtlsTestSupport()) {
            Node bad = s.node(thief, DtlsTestSupport.quick());
            Node good = s.node(DtlsTestSupport.quick());
            bad.send(good, "I am the victim");
            DtlsTestSupport.await("the handshake fails", 10_000, () -> good.stat(Counter.HANDSHAKES_FAILED) >= 1);
            good.send(bad, "and you?");
            DtlsTestSupport.await("the handshake fails again", 10_000, () -> good.stat(Counter.HANDSHAKES_FAILED) >= 2);
            assertNull(good.inbox.poll(200, TimeUnit.MILLISECONDS));
            assertEquals(0, good.stat(Counter.HANDSHAKES_COMPLETED));
            assertTrue(good.layer.authenticatedId(bad.address()).isEmpty());
        }
    }

    @Test
    void aRestartedPeerGetsANewSessionWhoeverSendsFirst() throws Exception {
        DtlsConfig cfg = DtlsTestSupport.quick();
        try (DtlsTestSupport s = new DtlsTestSupport()) {
            Node a = s.node(cfg);
            Node b = s.node(cfg);
            a.send(b, "before");
            assertEquals("before", b.take(10_000).text());

            // b restarts on the same port without telling a (no close_notify reaches a): a's session is stale
            java.net.InetSocketAddress bAddress = b.address();
            Node b2 = restart(s, b, cfg);
            b2.send(a, "I am back");     // the restarted side sends first: its ClientHello replaces a's session
            assertEquals("I am back", a.take(10_000).text());
            assertEquals(Optional.of(b.identity.id()), a.layer.authenticatedId(bAddress));
            a.send(b2, "welcome");
            assertEquals("welcome", b2.take(5_000).text());

            // again, but the stale side sends first: b3 sees records of a session it does not have and opens one
            Node b3 = restart(s, b2, cfg);
            a.send(b3, "lost");          // dropped by b3, which starts a handshake towards a
            DtlsTestSupport.await("b3 opens a session to a", 10_000, () -> b3.layer.authenticatedId(a.address()).isPresent());
            assertEquals(1, b3.stat(Counter.RESYNC_HANDSHAKES));
            DtlsTestSupport.await("a's session replaced", 5_000, () -> a.layer.establishedPeers().contains(bAddress));
            a.send(b3, "found");
            assertEquals("found", b3.take(5_000).text());
        }
    }

    /** Closes {@code n}'s layer as a crash would (no close_notify), and binds a new one on its port with its key. */
    private static Node restart(DtlsTestSupport s, Node n, DtlsConfig cfg) throws Exception {
        java.net.InetSocketAddress addr = n.address();
        n.layer.abort();
        return s.node(n.identity, cfg, addr);
    }
}
