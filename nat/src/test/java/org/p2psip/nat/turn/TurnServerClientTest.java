package org.p2psip.nat.turn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.p2psip.nat.stun.StunAttribute;
import org.p2psip.nat.stun.StunClass;
import org.p2psip.nat.stun.StunCodec;
import org.p2psip.nat.stun.StunMessage;
import org.p2psip.nat.stun.TransactionId;

/** Our TURN client against our TURN server on 127.0.0.1, with a plain UDP socket as the peer. */
class TurnServerClientTest {
    static final InetAddress LO = InetAddress.getLoopbackAddress();
    static final String REALM = "p2psip.test";
    static final Map<String, String> USERS = Map.of("alice", "wonderland", "bob", "builder");

    final List<AutoCloseable> closeMe = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeMe.size() - 1; i >= 0; i--) {
            closeMe.get(i).close();
        }
    }

    TurnServer.Builder builder() {
        return TurnServer.Config.builder(new InetSocketAddress(LO, 0), LO, REALM, CredentialStore.passwords(USERS));
    }

    TurnServer server(TurnServer.Builder b) throws Exception {
        TurnServer s = TurnServer.start(b.build());
        closeMe.add(s);
        return s;
    }

    TurnClient.Config clientConfig(TurnServer s, String user) {
        return TurnClient.Config.of(s.listenAddress(), user, USERS.get(user)).quick(Duration.ofMillis(100));
    }

    TurnClient client(TurnClient.Config c) throws Exception {
        TurnClient t = TurnClient.allocate(c, new InetSocketAddress(LO, 0)).get(5, TimeUnit.SECONDS);
        closeMe.add(t);
        return t;
    }

    /** A peer: a plain UDP socket on loopback. */
    static final class Peer implements AutoCloseable {
        final DatagramSocket socket;

        Peer() throws Exception {
            socket = new DatagramSocket(new InetSocketAddress(LO, 0));
            socket.setSoTimeout(2000);
        }

        InetSocketAddress address() {
            return (InetSocketAddress) socket.getLocalSocketAddress();
        }

        DatagramPacket receive() throws Exception {
            DatagramPacket p = new DatagramPacket(new byte[70_000], 70_000);
            socket.receive(p);
            return p;
        }

        boolean receivesNothing(int ms) throws Exception {
            socket.setSoTimeout(ms);
            try {
                socket.receive(new DatagramPacket(new byte[2048], 2048));
                return false;
            } catch (SocketTimeoutException expected) {
                return true;
            } finally {
                socket.setSoTimeout(2000);
            }
        }

        void send(InetSocketAddress to, byte[] data) throws Exception {
            socket.send(new DatagramPacket(data, data.length, to));
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    Peer peer() throws Exception {
        Peer p = new Peer();
        closeMe.add(p);
        return p;
    }

    record Received(InetSocketAddress peer, byte[] data, boolean viaChannel) {
    }

    static BlockingQueue<Received> inbox(TurnClient c) {
        BlockingQueue<Received> q = new LinkedBlockingQueue<>();
        c.onData((p, d, ch) -> q.add(new Received(p, d, ch)));
        return q;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static void await(BooleanSupplier condition, Duration max, String what) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    static int code(ExecutionException e) {
        return assertInstanceOf(TurnException.class, e.getCause()).code();
    }

    // ---------------------------------------------------------------------------------------- data both ways

    @Test
    void allocatePermitAndExchangeDataViaSendAndDataIndications() throws Exception {
        TurnServer s = server(builder());
        TurnClient c = client(clientConfig(s, "alice"));
        assertEquals(LO, c.relayedAddress().getAddress(), "relayed on the relay IP");
        assertNotEquals(0, c.relayedAddress().getPort());
        assertNotEquals(s.listenAddress().getPort(), c.relayedAddress().getPort());
        assertEquals(c.localAddress(), c.mappedAddress());
        assertEquals(Duration.ofSeconds(600), c.lifetime(), "RFC 8656's default lifetime");
        assertEquals(1, s.stats().challenges(), "the first Allocate got 401 with REALM and NONCE");
        assertEquals(List.of(c.relayedAddress()), s.relayedAddresses());

        Peer peer = peer();
        BlockingQueue<Received> in = inbox(c);
        // Without a permission nothing passes, either way.
        c.send(peer.address(), bytes("too early"));
        assertTrue(peer.receivesNothing(300));
        peer.send(c.relayedAddress(), bytes("unsolicited"));
        await(() -> s.stats().droppedNoPermission() >= 2, Duration.ofSeconds(2), "both drops counted");
        assertNull(in.poll(100, TimeUnit.MILLISECONDS));

        c.createPermission(LO).get(5, TimeUnit.SECONDS);
        c.send(peer.address(), bytes("hello peer"));
        DatagramPacket got = peer.receive();
        assertEquals("hello peer", new String(got.getData(), 0, got.getLength(), StandardCharsets.UTF_8));
        assertEquals(c.relayedAddress(), got.getSocketAddress(), "the peer sees the relayed address");

        peer.send(c.relayedAddress(), bytes("hello client"));
        Received r = in.poll(2, TimeUnit.SECONDS);
        assertEquals("hello client", new String(r.data(), StandardCharsets.UTF_8));
        assertEquals(peer.address(), r.peer());
        assertFalse(r.viaChannel(), "a Data indication");

        byte[] big = new byte[1200];
        new Random(1).nextBytes(big);
        c.send(peer.address(), big);
        got = peer.receive();
        assertArrayEquals(big, java.util.Arrays.copyOf(got.getData(), got.getLength()));
        assertEquals(0, s.stats().malformed());
        assertEquals(0, s.stats().internalErrors());
    }

    @Test
    void channelBindAndChannelDataBothWays() throws Exception {
        TurnServer s = server(builder());
        TurnClient c = client(clientConfig(s, "alice"));
        Peer peer = peer();
        BlockingQueue<Received> in = inbox(c);
        int ch = c.bindChannel(peer.address()).get(5, TimeUnit.SECONDS);
        assertEquals(0x4000, ch);
        assertEquals(ch, c.bindChannel(peer.address()).get(5, TimeUnit.SECONDS), "rebinding refreshes");

        for (int i = 0; i < 20; i++) {
            c.send(peer.address(), bytes("to peer " + i)); // ChannelData: the binding installed the permission
            DatagramPacket got = peer.receive();
            assertEquals("to peer " + i, new String(got.getData(), 0, got.getLength(), StandardCharsets.UTF_8));
            assertEquals(c.relayedAddress(), got.getSocketAddress());
            peer.send(c.relayedAddress(), bytes("to client " + i));
            Received r = in.poll(2, TimeUnit.SECONDS);
            assertEquals("to client " + i, new String(r.data(), StandardCharsets.UTF_8));
            assertTrue(r.viaChannel(), "ChannelData from a bound peer");
            assertEquals(peer.address(), r.peer());
        }
        assertEquals(40, s.stats().channelData());

        // Another port of the same IP has a permission but no channel: Data indications.
        Peer other = peer();
        other.send(c.relayedAddress(), bytes("from another port"));
        Received r = in.poll(2, TimeUnit.SECONDS);
        assertEquals(other.address(), r.peer());
        assertFalse(r.viaChannel());
    }

    @Test
    void twoClientsRelayToEachOther() throws Exception {
        TurnServer s = server(builder());
        TurnClient a = client(clientConfig(s, "alice"));
        TurnClient b = client(clientConfig(s, "bob"));
        BlockingQueue<Received> inB = inbox(b);
        BlockingQueue<Received> inA = inbox(a);
        a.bindChannel(b.relayedAddress()).get(5, TimeUnit.SECONDS);
        b.createPermission(a.relayedAddress().getAddress()).get(5, TimeUnit.SECONDS);
        a.send(b.relayedAddress(), bytes("a to b"));
        Received r = inB.poll(2, TimeUnit.SECONDS);
        assertEquals("a to b", new String(r.data(), StandardCharsets.UTF_8));
        assertEquals(a.relayedAddress(), r.peer());
        b.send(a.relayedAddress(), bytes("b to a"));
        r = inA.poll(2, TimeUnit.SECONDS);
        assertEquals("b to a", new String(r.data(), StandardCharsets.UTF_8));
        assertTrue(r.viaChannel());
    }

    // ---------------------------------------------------------------------------------------- lifetimes

    @Test
    void refreshGrantsLifetimesWithinBoundsAndZeroDeletes() throws Exception {
        TurnServer s = server(builder());
        TurnClient c = client(clientConfig(s, "alice").withLifetime(Duration.ofSeconds(1200)));
        assertEquals(Duration.ofSeconds(1200), c.lifetime());
        assertEquals(Duration.ofSeconds(3600), c.refresh(Duration.ofSeconds(100_000)).get(5, TimeUnit.SECONDS),
                "capped at the maximum");
        assertEquals(Duration.ofSeconds(600), c.refresh(Duration.ofSeconds(30)).get(5, TimeUnit.SECONDS),
                "never below the default");
        assertEquals(Duration.ofSeconds(600), c.refresh(null).get(5, TimeUnit.SECONDS));
        assertEquals(1, s.allocationCount());
        assertEquals(Duration.ZERO, c.refresh(Duration.ZERO).get(5, TimeUnit.SECONDS));
        assertEquals(0, s.allocationCount());
        assertEquals(1, s.stats().allocationsDeleted());
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> c.refresh(null).get(5, TimeUnit.SECONDS));
        assertEquals(437, code(e), "no allocation any more");
        e = assertThrows(ExecutionException.class, () -> c.createPermission(LO).get(5, TimeUnit.SECONDS));
        assertEquals(437, code(e));
    }

    @Test
    void allocationsPermissionsAndChannelsExpire() throws Exception {
        TurnServer s = server(builder()
                .lifetimes(Duration.ofSeconds(2), Duration.ofSeconds(2))
                .permissionLifetime(Duration.ofMillis(600))
                .channelLifetime(Duration.ofMillis(600))
                .channelCooling(Duration.ofMillis(200))
                .sweepInterval(Duration.ofMillis(100)));
        TurnClient c = client(clientConfig(s, "alice").withAutoRefresh(false));
        assertEquals(Duration.ofSeconds(2), c.lifetime());
        Peer p1 = peer();
        Peer p2 = peer();
        BlockingQueue<Received> in = inbox(c);
        c.createPermission(LO).get(5, TimeUnit.SECONDS);
        int ch = c.bindChannel(p2.address()).get(5, TimeUnit.SECONDS);
        c.send(p1.address(), bytes("x"));
        p1.receive();
        c.send(p2.address(), bytes("y"));
        p2.receive();

        Thread.sleep(800); // permissions and the channel have expired; the allocation has not
        long noPermission = s.stats().droppedNoPermission();
        long noChannel = s.stats().droppedNoChannel();
        c.send(p1.address(), bytes("late"));
        c.send(p2.address(), bytes("late")); // ChannelData on the expired channel
        p1.send(c.relayedAddress(), bytes("late"));
        assertTrue(p1.receivesNothing(200));
        assertTrue(p2.receivesNothing(50));
        assertNull(in.poll(100, TimeUnit.MILLISECONDS));
        assertEquals(noPermission + 2, s.stats().droppedNoPermission());
        assertEquals(noChannel + 1, s.stats().droppedNoChannel());
        assertEquals(1, s.allocationCount());

        // The channel number can be bound again once its cooling period is over.
        assertEquals(ch, c.bindChannel(p2.address()).get(5, TimeUnit.SECONDS));

        await(() -> s.allocationCount() == 0, Duration.ofSeconds(3), "the allocation to expire");
        assertEquals(1, s.stats().allocationsExpired());
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> c.createPermission(LO).get(5, TimeUnit.SECONDS));
        assertEquals(437, code(e));
    }

    @Test
    void autoRefreshKeepsAnAllocationAlive() throws Exception {
        TurnServer s = server(builder().lifetimes(Duration.ofSeconds(1), Duration.ofSeconds(1))
                .sweepInterval(Duration.ofMillis(100)));
        TurnClient c = client(clientConfig(s, "alice"));
        Thread.sleep(2500);
        assertEquals(1, s.allocationCount(), "refreshed at half its 1 s lifetime");
        assertEquals(0, s.stats().allocationsExpired());
    }

    // ---------------------------------------------------------------------------------------- authentication

    @Test
    void wrongPasswordGets401() throws Exception {
        TurnServer s = server(builder());
        ExecutionException e = assertThrows(ExecutionException.class, () -> TurnClient.allocate(
                clientConfig(s, "alice").withPassword("looking-glass"), new InetSocketAddress(LO, 0))
                .get(5, TimeUnit.SECONDS));
        assertEquals(401, code(e));
        e = assertThrows(ExecutionException.class, () -> TurnClient.allocate(
                TurnClient.Config.of(s.listenAddress(), "mallory", "x").quick(Duration.ofMillis(100)),
                new InetSocketAddress(LO, 0)).get(5, TimeUnit.SECONDS));
        assertEquals(401, code(e), "unknown user");
        assertEquals(2, s.stats().unauthenticated());
        assertEquals(0, s.allocationCount());
    }

    @Test
    void staleNonceGets438AndTheClientRetries() throws Exception {
        TurnServer s = server(builder().nonceLifetime(Duration.ofMillis(300)));
        TurnClient c = client(clientConfig(s, "alice"));
        Thread.sleep(400);
        c.createPermission(LO).get(5, TimeUnit.SECONDS); // 438, then a retry with the fresh nonce
        assertEquals(1, s.stats().staleNonces());

        // The same by hand: a correctly signed request with an old nonce gets 438 with REALM and a new NONCE.
        try (RawClient raw = new RawClient(s)) {
            StunMessage challenge = raw.call(raw.allocate(), null);
            assertEquals(401, errorCode(challenge));
            String nonce = TurnAttributes.nonce(challenge).orElseThrow();
            assertEquals(REALM, TurnAttributes.realm(challenge).orElseThrow());
            assertFalse(challenge.has(StunAttribute.MessageIntegrity.class), "a challenge is not signed");
            Thread.sleep(400);
            StunMessage stale = raw.call(raw.signed(raw.allocate(), "alice", nonce), raw.key("alice"));
            assertEquals(438, errorCode(stale));
            String fresh = TurnAttributes.nonce(stale).orElseThrow();
            assertNotEquals(nonce, fresh);
            assertEquals(REALM, TurnAttributes.realm(stale).orElseThrow());
            StunMessage ok = raw.call(raw.signed(raw.allocate(), "alice", fresh), raw.key("alice"));
            assertEquals(StunClass.SUCCESS_RESPONSE, ok.messageClass());
            assertEquals(StunCodec.Integrity.VALID, StunCodec.checkIntegrity(ok, raw.key("alice")));
        }
    }

    @Test
    void allocationMismatchAndRetransmissionAndWrongUser() throws Exception {
        TurnServer s = server(builder());
        try (RawClient raw = new RawClient(s)) {
            String nonce = TurnAttributes.nonce(raw.call(raw.allocate(), null)).orElseThrow();
            StunMessage first = raw.signed(raw.allocate(), "alice", nonce);
            StunMessage ok = raw.call(first, raw.key("alice"));
            assertEquals(StunClass.SUCCESS_RESPONSE, ok.messageClass());
            InetSocketAddress relayed = TurnAttributes.xorRelayedAddress(ok).orElseThrow();
            // A retransmission of the same Allocate gets the same answer...
            StunMessage again = raw.call(first, raw.key("alice"));
            assertEquals(StunClass.SUCCESS_RESPONSE, again.messageClass());
            assertEquals(relayed, TurnAttributes.xorRelayedAddress(again).orElseThrow());
            // ...a new one from the same 5-tuple gets 437.
            assertEquals(437, errorCode(raw.call(raw.signed(raw.allocate(), "alice", nonce), raw.key("alice"))));
            // Another user may not touch this allocation.
            StunMessage refresh = raw.signed(StunMessage.builder(StunMessage.REFRESH, StunClass.REQUEST,
                    TransactionId.random()), "bob", nonce);
            assertEquals(441, errorCode(raw.call(refresh, raw.key("bob"))));
            assertEquals(1, s.allocationCount());
        }
    }

    // ---------------------------------------------------------------------------------------- limits

    @Test
    void perUserQuotaGets486() throws Exception {
        TurnServer s = server(builder().maxAllocationsPerUser(2));
        TurnClient a1 = client(clientConfig(s, "alice"));
        client(clientConfig(s, "alice"));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> TurnClient.allocate(clientConfig(s, "alice"), new InetSocketAddress(LO, 0)).get(5, TimeUnit.SECONDS));
        assertEquals(486, code(e));
        assertEquals(1, s.stats().quotaRefused());
        client(clientConfig(s, "bob")); // the quota is per user
        a1.close();
        client(clientConfig(s, "alice")); // a freed slot can be used again
        assertEquals(3, s.allocationCount());
    }

    @Test
    void capacityGets508() throws Exception {
        TurnServer s = server(builder().maxAllocations(1).maxPermissionsPerAllocation(2));
        TurnClient c = client(clientConfig(s, "alice"));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> TurnClient.allocate(clientConfig(s, "bob"), new InetSocketAddress(LO, 0)).get(5, TimeUnit.SECONDS));
        assertEquals(508, code(e));
        c.createPermission(InetAddress.getByName("192.0.2.1"), InetAddress.getByName("192.0.2.2")).get(5, TimeUnit.SECONDS);
        e = assertThrows(ExecutionException.class,
                () -> c.createPermission(InetAddress.getByName("192.0.2.3")).get(5, TimeUnit.SECONDS));
        assertEquals(508, code(e));
    }

    @Test
    void forbiddenPeersGet403AndNothingIsRelayedToThem() throws Exception {
        TurnServer s = server(builder().peerFilter(PeerFilter.denying("192.0.2.0/24")));
        TurnClient c = client(clientConfig(s, "alice"));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> c.createPermission(InetAddress.getByName("192.0.2.7")).get(5, TimeUnit.SECONDS));
        assertEquals(403, code(e));
        // By default the server's own listening address is refused: no relaying into the TURN port.
        assertTrue(s.peerFilter().transports().contains(s.listenAddress()));
        e = assertThrows(ExecutionException.class, () -> c.bindChannel(s.listenAddress()).get(5, TimeUnit.SECONDS));
        assertEquals(403, code(e));
        c.createPermission(LO).get(5, TimeUnit.SECONDS); // loopback itself is allowed (the peers here use it)
        long before = s.stats().forbidden();
        long received = s.stats().received();
        c.send(s.listenAddress(), bytes("loop"));
        await(() -> s.stats().forbidden() == before + 1, Duration.ofSeconds(2), "the Send to be refused");
        assertEquals(received + 1, s.stats().received(), "nothing came back into the listening socket");
    }

    @Test
    void channelNumberRangeAndConflicts() throws Exception {
        TurnServer s = server(builder());
        try (RawClient raw = new RawClient(s)) {
            String nonce = raw.allocateSigned("alice");
            Peer p = peer();
            Peer q = peer();
            assertEquals(400, errorCode(raw.call(raw.channelBind(0x5000, p.address(), nonce), raw.key("alice"))),
                    "0x5000 is reserved by RFC 8656");
            assertEquals(400, errorCode(raw.call(raw.channelBind(0x3FFF, p.address(), nonce), raw.key("alice"))));
            assertEquals(StunClass.SUCCESS_RESPONSE,
                    raw.call(raw.channelBind(0x4FFF, p.address(), nonce), raw.key("alice")).messageClass());
            assertEquals(400, errorCode(raw.call(raw.channelBind(0x4FFF, q.address(), nonce), raw.key("alice"))),
                    "the channel is bound to another peer");
            assertEquals(400, errorCode(raw.call(raw.channelBind(0x4001, p.address(), nonce), raw.key("alice"))),
                    "the peer is bound to another channel");
        }
        TurnServer legacy = server(builder().rfc5766Channels(true));
        try (RawClient raw = new RawClient(legacy)) {
            String nonce = raw.allocateSigned("alice");
            assertEquals(StunClass.SUCCESS_RESPONSE, raw.call(raw.channelBind(0x7FFF,
                    new InetSocketAddress(LO, 9), nonce), raw.key("alice")).messageClass(), "RFC 5766's range");
        }
    }

    @Test
    void evenPortReservationAndTokens() throws Exception {
        TurnServer s = server(builder());
        try (RawClient raw = new RawClient(s); RawClient raw2 = new RawClient(s)) {
            String nonce = TurnAttributes.nonce(raw.call(raw.allocate(), null)).orElseThrow();
            StunMessage ok = raw.call(raw.signed(raw.allocate(TurnAttributes.evenPort(true)), "alice", nonce),
                    raw.key("alice"));
            assertEquals(StunClass.SUCCESS_RESPONSE, ok.messageClass());
            int port = TurnAttributes.xorRelayedAddress(ok).orElseThrow().getPort();
            assertEquals(0, port % 2, "an even port");
            byte[] token = TurnAttributes.reservationToken(ok).orElseThrow();
            StunMessage next = raw2.call(raw2.signed(raw2.allocate(TurnAttributes.reservationToken(token)), "alice",
                    nonce2(raw2)), raw2.key("alice"));
            assertEquals(StunClass.SUCCESS_RESPONSE, next.messageClass());
            assertEquals(port + 1, TurnAttributes.xorRelayedAddress(next).orElseThrow().getPort(), "the reserved port");
        }
        try (RawClient raw = new RawClient(s)) {
            StunMessage bogus = raw.call(raw.signed(raw.allocate(TurnAttributes.reservationToken(new byte[8])), "alice",
                    nonce2(raw)), raw.key("alice"));
            assertEquals(508, errorCode(bogus), "an unknown token");
        }
    }

    static String nonce2(RawClient raw) throws Exception {
        return TurnAttributes.nonce(raw.call(raw.allocate(), null)).orElseThrow();
    }

    // ---------------------------------------------------------------------------------------- hostile input

    @Test
    void hostileInputIsDroppedAndCountedNeverFatal() throws Exception {
        TurnServer s = server(builder());
        TurnClient c = client(clientConfig(s, "alice"));
        Peer peer = peer();
        c.bindChannel(peer.address()).get(5, TimeUnit.SECONDS);
        Random rnd = new Random(42);
        try (RawClient raw = new RawClient(s)) {
            String nonce = raw.allocateSigned("alice");
            byte[] good = StunCodec.encode(raw.channelBind(0x4001, peer.address(), nonce),
                    StunCodec.EncodeOptions.signed(raw.key("alice")));
            List<byte[]> hostile = new ArrayList<>();
            hostile.add(new byte[0]);
            hostile.add(new byte[] {(byte) 0xFF, 1, 2, 3});
            hostile.add(new byte[] {0x40, 0x00, 0x7F, 0x7F, 1, 2}); // ChannelData longer than the datagram
            hostile.add(new byte[] {0x40, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8}); // stray bytes
            hostile.add(new byte[] {0x7F, 0x00, 0x00, 0x01, 1}); // reserved channel range
            hostile.add(new byte[] {0x4A, 0x00, 0x00, 0x01, 1}); // unbound channel
            // A Send indication with a malformed XOR-PEER-ADDRESS.
            TransactionId tid = TransactionId.random();
            hostile.add(StunCodec.encode(StunMessage.builder(StunMessage.SEND, StunClass.INDICATION, tid)
                    .add(new StunAttribute.Raw(0x0012, new byte[] {0, 9, 0, 0, 1, 2, 3, 4}))
                    .add(TurnAttributes.data(new byte[] {1})).build()));
            for (int i = 0; i < 3000; i++) { // mutations of a signed request
                byte[] m = good.clone();
                int flips = 1 + rnd.nextInt(4);
                for (int f = 0; f < flips; f++) {
                    m[rnd.nextInt(m.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
                if (rnd.nextInt(4) == 0) {
                    m = java.util.Arrays.copyOf(m, rnd.nextInt(m.length));
                }
                hostile.add(m);
            }
            long base = s.stats().received();
            for (int i = 0; i < hostile.size(); i++) {
                raw.sendRaw(hostile.get(i));
                if (i % 25 == 24) {
                    Thread.sleep(1); // loopback drops what a busy receiver's buffer cannot hold
                }
            }
            // Wait until the server has read everything that arrived (the count stops growing).
            long last = -1;
            while (s.stats().received() != last) {
                last = s.stats().received();
                Thread.sleep(300);
            }
            assertTrue(last - base > hostile.size() * 3 / 4, "most of the flood arrived: " + (last - base));
        }
        assertTrue(s.stats().malformed() > 2000 * 3 / 4, s.stats().toString());
        assertEquals(0, s.stats().internalErrors(), s.stats().toString());
        // Still serving.
        c.send(peer.address(), bytes("still here"));
        DatagramPacket got = peer.receive();
        assertEquals("still here", new String(got.getData(), 0, got.getLength(), StandardCharsets.UTF_8));
    }

    // ---------------------------------------------------------------------------------------- raw client

    static int errorCode(StunMessage m) {
        assertEquals(StunClass.ERROR_RESPONSE, m.messageClass(), m.toString());
        return m.get(StunAttribute.ErrorCode.class).orElseThrow().code();
    }

    /** Hand-made requests over a plain UDP socket, for the cases our client never produces. */
    static final class RawClient implements AutoCloseable {
        final DatagramSocket socket;
        final InetSocketAddress server;

        RawClient(TurnServer s) throws Exception {
            socket = new DatagramSocket(new InetSocketAddress(LO, 0));
            socket.setSoTimeout(2000);
            server = s.listenAddress();
        }

        byte[] key(String user) {
            return StunCodec.longTermKey(user, REALM, USERS.get(user));
        }

        StunMessage.Builder allocate(StunAttribute... extra) {
            StunMessage.Builder b = StunMessage.builder(StunMessage.ALLOCATE, StunClass.REQUEST, TransactionId.random())
                    .add(TurnAttributes.requestedTransport(17));
            for (StunAttribute a : extra) {
                b.add(a);
            }
            return b;
        }

        StunMessage allocate() {
            return allocate(new StunAttribute[0]).build();
        }

        StunMessage signed(StunMessage.Builder b, String user, String nonce) {
            return b.add(new StunAttribute.Username(user)).add(TurnAttributes.realm(REALM))
                    .add(TurnAttributes.nonce(nonce)).build();
        }

        StunMessage signed(StunMessage m, String user, String nonce) {
            StunMessage.Builder b = StunMessage.builder(m.method(), m.messageClass(), m.transactionId());
            m.attributes().forEach(b::add);
            return signed(b, user, nonce);
        }

        /** Allocates for {@code user}; returns the nonce in use. */
        String allocateSigned(String user) throws Exception {
            String nonce = TurnAttributes.nonce(call(allocate(), null)).orElseThrow();
            assertEquals(StunClass.SUCCESS_RESPONSE, call(signed(allocate(), user, nonce), key(user)).messageClass());
            return nonce;
        }

        StunMessage channelBind(int number, InetSocketAddress peer, String nonce) {
            TransactionId tid = TransactionId.random();
            return signed(StunMessage.builder(StunMessage.CHANNEL_BIND, StunClass.REQUEST, tid)
                    .add(TurnAttributes.channelNumber(number))
                    .add(TurnAttributes.xorPeerAddress(peer, tid)), "alice", nonce);
        }

        void sendRaw(byte[] b) throws Exception {
            socket.send(new DatagramPacket(b, b.length, server));
        }

        /** Sends {@code m} (signed with {@code key} when not null) and returns the response with its id. */
        StunMessage call(StunMessage m, byte[] key) throws Exception {
            sendRaw(StunCodec.encode(m, key == null ? StunCodec.EncodeOptions.fingerprinted()
                    : StunCodec.EncodeOptions.signed(key)));
            while (true) {
                DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
                socket.receive(p);
                StunMessage r = StunCodec.decode(java.util.Arrays.copyOf(p.getData(), p.getLength()));
                if (r.transactionId().equals(m.transactionId())) {
                    return r;
                }
            }
        }

        @Override
        public void close() {
            socket.close();
        }
    }
}
