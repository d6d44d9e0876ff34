package org.p2psip.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.p2psip.node.TestSupport;
import org.p2psip.node.accounts.DigestAccounts;
import org.p2psip.node.sip.SipOptions;
import org.p2psip.testing.Sipp;
import org.p2psip.storage.PrivateKeyRecord;

/**
 * Two {@link P2pSip} instances on a 2-node loopback overlay (real UDP, the node's verifying storage policy): the
 * applications register AORs as signed contact records, look them up, exchange MESSAGEs through the real SIP path
 * (the caller's peer's proxy, the DHT lookup, the callee's peer), leave a MESSAGE offline that is delivered at the
 * next registration, follow presence, and talk to real sipp phones (a phone receives an API MESSAGE; a phone calls an
 * API AOR, which answers and gets the BYE).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(180)
class P2pSipTest {
    static final String DOMAIN = "p2p.test";
    static final PrivateKeyRecord.KdfParams TEST_KDF = new PrivateKeyRecord.KdfParams(1024, 1, 1);

    Path tmp;
    P2pSip a;
    P2pSip b;
    final BlockingQueue<IncomingRequest> atA = new LinkedBlockingQueue<>();
    final BlockingQueue<IncomingRequest> atB = new LinkedBlockingQueue<>();
    final BlockingQueue<org.p2psip.node.event.PeerEvent> eventsAtB = new LinkedBlockingQueue<>();
    /** What B's application does with calls (set by the test that calls). */
    volatile java.util.function.Consumer<IncomingCall> callsAtB = c -> c.reject(486, "Busy Here");

    static P2pSip.Builder instance(Path dir) {
        return P2pSip.builder().dataDir(dir).bindAddress(TestSupport.localhost()).port(0)
                .sip(new SipOptions(0, List.of(DOMAIN), null, null).withAlgorithms(List.of("MD5"))
                        .withKeyKdf(TEST_KDF))
                .peer(p -> p.controlPort(0).xmlrpcPort(0).metricsPort(0).config(TestSupport.CONFIG));
    }

    @BeforeAll
    void start() throws Exception {
        tmp = Files.createTempDirectory("p2psip-api");
        Path db = tmp.resolve("b");
        Files.createDirectories(db);
        // a phone account at B, for the sipp phone of the interop test
        DigestAccounts.put(db.resolve(DigestAccounts.FILE_NAME),
                DigestAccounts.account("erin", DOMAIN, "erin-secret".toCharArray()));
        DigestAccounts.put(db.resolve(DigestAccounts.FILE_NAME),
                DigestAccounts.account("ivan", DOMAIN, "ivan-secret".toCharArray()));
        a = instance(tmp.resolve("a")).build().start().get(60, TimeUnit.SECONDS);
        b = instance(db).bootstrap(a.peer().overlayAddress()).listener(eventsAtB::add).build().start()
                .get(60, TimeUnit.SECONDS);
        a.onIncoming(new Collect(atA, c -> c.reject(603, "Decline")));
        b.onIncoming(new Collect(atB, c -> callsAtB.accept(c)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (a.peer().status().get(10, TimeUnit.SECONDS).neighbours() < 1) {
            assertTrue(System.nanoTime() < deadline, "A has no neighbour within 20 s");
            Thread.sleep(100);
        }
    }

    @AfterAll
    void stop() throws Exception {
        if (b != null) {
            b.close();
        }
        if (a != null) {
            a.close();
        }
    }

    /** Puts every request in a queue; calls go to {@code calls}. */
    record Collect(BlockingQueue<IncomingRequest> q, java.util.function.Consumer<IncomingCall> calls)
            implements IncomingListener {
        @Override
        public void onMessage(IncomingMessage m) {
            q.add(m);
        }

        @Override
        public void onCall(IncomingCall c) {
            q.add(c);
            calls.accept(c);
        }
    }

    private static IncomingMessage nextMessage(BlockingQueue<IncomingRequest> q, String to) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            IncomingRequest r = q.poll(200, TimeUnit.MILLISECONDS);
            if (r instanceof IncomingMessage m && m.to().equals(to)) {
                return m;
            }
        }
        throw new AssertionError("no MESSAGE for " + to + " within 20 s");
    }

    @Test
    void linkEventsReachTheApplication() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            org.p2psip.node.event.PeerEvent e = eventsAtB.poll(200, TimeUnit.MILLISECONDS);
            if (e instanceof org.p2psip.node.event.PeerEvent.LinkUp up && up.peer().equals(a.peer().id())) {
                return;
            }
        }
        throw new AssertionError("B's application saw no LinkUp to A within 20 s");
    }

    @Test
    void registerLookupAndMessage() throws Exception {
        Registration alice = a.register("sip:alice@" + DOMAIN).get(30, TimeUnit.SECONDS);
        Registration bob = b.register("bob@" + DOMAIN).get(30, TimeUnit.SECONDS);
        assertEquals("sip:bob@" + DOMAIN, bob.aor());
        assertTrue(alice.contact().contains(":" + a.sipAddress().getPort()), alice.contact());

        List<ContactInfo> found = a.lookup("sip:bob@" + DOMAIN).get(30, TimeUnit.SECONDS);
        assertEquals(1, found.size(), "bob's one contact, read from the DHT at A: " + found);
        assertTrue(found.get(0).contact().contains("@127.0.0.1:" + b.sipAddress().getPort()), found.toString());
        assertTrue(found.get(0).peer().contains(":" + b.sipAddress().getPort()), "registered by B's SIP: " + found);

        MessageResult r = a.sendMessage("sip:alice@" + DOMAIN, "sip:bob@" + DOMAIN, "text/plain", "hello bob")
                .get(30, TimeUnit.SECONDS);
        assertEquals(200, r.status(), r.toString());
        assertTrue(r.delivered());
        IncomingMessage m = nextMessage(atB, "sip:bob@" + DOMAIN);
        assertEquals("hello bob", m.text());
        assertTrue(m.from().contains("sip:alice@" + DOMAIN), m.from());
        assertEquals("text/plain", m.contentType());

        // figures, printed (not asserted): MESSAGE round trips A → B's listener → 200, through both proxies and a lookup
        int rounds = 20;
        long[] ms = new long[rounds];
        for (int i = 0; i < rounds; i++) {
            long t0 = System.nanoTime();
            assertEquals(200, a.sendMessage("sip:alice@" + DOMAIN, "sip:bob@" + DOMAIN, "text/plain", "n" + i)
                    .get(30, TimeUnit.SECONDS).status());
            ms[i] = (System.nanoTime() - t0) / 1_000_000;
            nextMessage(atB, "sip:bob@" + DOMAIN);
        }
        java.util.Arrays.sort(ms);
        System.out.printf("api MESSAGE round trip over loopback: n=%d p50=%d ms max=%d ms%n", rounds, ms[rounds / 2],
                ms[rounds - 1]);

        // the other way, and to an AOR nobody knows
        assertEquals(200, b.sendMessage("sip:bob@" + DOMAIN, "sip:alice@" + DOMAIN, "text/plain", "hi alice")
                .get(30, TimeUnit.SECONDS).status());
        assertEquals("hi alice", nextMessage(atA, "sip:alice@" + DOMAIN).text());
        assertEquals(404, a.sendMessage("sip:alice@" + DOMAIN, "sip:nobody@" + DOMAIN, "text/plain", "?")
                .get(30, TimeUnit.SECONDS).status());
    }

    @Test
    void registrationIsRefreshedBeforeItExpires() throws Exception {
        String hugo = "sip:hugo@" + DOMAIN;
        Registration first = b.register(hugo, java.time.Duration.ofSeconds(4)).get(30, TimeUnit.SECONDS);
        // without the refresh (at 2/3 of 4 s) the record would be gone 4 s after the first put, for good
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<ContactInfo> later = List.of();
        while (System.nanoTime() < deadline) {
            later = a.lookup(hugo).get(30, TimeUnit.SECONDS);
            if (!later.isEmpty() && later.get(0).expires().isAfter(first.expires().plusSeconds(4))) {
                break;
            }
            Thread.sleep(500);
        }
        assertEquals(1, later.size(), "hugo's record is still there, refreshed: " + later);
        assertTrue(later.get(0).expires().isAfter(first.expires().plusSeconds(4)),
                "refreshed at least twice: " + later + " vs first expiry " + first.expires());
        b.unregister(hugo).get(30, TimeUnit.SECONDS);
        assertTrue(a.lookup(hugo).get(30, TimeUnit.SECONDS).isEmpty(), "unregistered: no contact left");
    }

    @Test
    void offlineMessageIsDeliveredAtRegistration() throws Exception {
        String carol = "sip:carol@" + DOMAIN;
        b.register(carol).get(30, TimeUnit.SECONDS); // carol's certificate is published: a known user
        b.unregister(carol).get(30, TimeUnit.SECONDS);
        assertTrue(a.lookup(carol).get(30, TimeUnit.SECONDS).isEmpty(), "carol has no live contact");

        MessageResult r = a.sendMessage("sip:alice@" + DOMAIN, carol, "text/plain", "while you were away")
                .get(30, TimeUnit.SECONDS);
        assertEquals(202, r.status(), r.toString());
        assertTrue(r.storedOffline());
        assertTrue(atB.stream().noneMatch(x -> x.to().equals(carol)), "not delivered before carol registers");

        b.register(carol).get(30, TimeUnit.SECONDS);
        IncomingMessage m = nextMessage(atB, carol);
        assertEquals("while you were away", m.text());
        assertTrue(m.from().contains("sip:alice@" + DOMAIN), m.from());
    }

    @Test
    void presenceFollowsRegistrations() throws Exception {
        String dave = "sip:dave@" + DOMAIN;
        BlockingQueue<PresenceState> states = new LinkedBlockingQueue<>();
        PresenceWatch w = a.subscribePresence("sip:alice@" + DOMAIN, dave, states::add).get(30, TimeUnit.SECONDS);
        assertEquals(dave, w.presentity());
        PresenceState first = states.poll(20, TimeUnit.SECONDS);
        assertNotNull(first, "the first NOTIFY");
        assertFalse(first.open(), "dave is not registered yet: " + first);

        b.register(dave).get(30, TimeUnit.SECONDS);
        awaitState(states, true, false);
        b.unregister(dave).get(30, TimeUnit.SECONDS);
        awaitState(states, false, false);
        w.cancel().get(30, TimeUnit.SECONDS);
        awaitState(states, false, true);
    }

    @Test
    void theApplicationMayWatchMoreThanOnePhoneMay() throws Exception {
        // a phone's address may hold 32 subscriptions at a peer; the application (the peer's own socket) more
        int n = 40;
        java.util.concurrent.atomic.AtomicInteger closed = new java.util.concurrent.atomic.AtomicInteger();
        List<java.util.concurrent.CompletableFuture<PresenceWatch>> subs = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            subs.add(a.subscribePresence("sip:alice@" + DOMAIN, "sip:buddy" + i + "@" + DOMAIN, s -> {
                if (!s.open() && !s.terminated()) {
                    closed.incrementAndGet();
                }
            }));
        }
        List<PresenceWatch> watches = new java.util.ArrayList<>();
        for (var f : subs) {
            watches.add(f.get(30, TimeUnit.SECONDS));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (closed.get() < n && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(n, closed.get(), "every subscription was accepted and notified");
        for (PresenceWatch w : watches) {
            w.cancel().get(30, TimeUnit.SECONDS);
        }
    }

    private static void awaitState(BlockingQueue<PresenceState> states, boolean open, boolean terminated)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            PresenceState s = states.poll(200, TimeUnit.MILLISECONDS);
            if (s != null && s.open() == open && s.terminated() == terminated) {
                return;
            }
        }
        throw new AssertionError("no presence " + (open ? "open" : "closed") + (terminated ? " (terminated)" : "")
                + " within 20 s");
    }

    /** sipp with its files in a fresh directory {@code name} below {@code tmp}. */
    static Sipp sippIn(Path tmp, String name) throws Exception {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        return Sipp.require(dir, DOMAIN);
    }

    /**
     * Registers a sipp phone for {@code user} (password {@code user-secret}, an account of {@code at}) at
     * {@code at} from 127.0.0.1:{@code port}, then starts {@code scenario} there as its UAS, listening once this returns.
     */
    static Process phoneAt(P2pSip at, Sipp sipp, String user, int port, String scenario) throws Exception {
        Process reg = sipp.start("register_auth.xml", at.sipAddress(), port, 1, "-s", user, "-au", user, "-ap",
                user + "-secret");
        Sipp.assertAllSucceeded(sipp.await(reg, "register_auth.xml", port), 1, user + "'s phone registers");
        return sipp.startUas(scenario, port, 1);
    }

    @Test
    void sippPhoneAtOnePeerGetsAMessageFromTheApiAtTheOther() throws Exception {
        Sipp sipp = sippIn(tmp, "sipp-message");
        int erinPort = TestSupport.freeUdpPort();
        Process phone = phoneAt(b, sipp, "erin", erinPort, "uas_message.xml");
        MessageResult r = a.sendMessage("sip:alice@" + DOMAIN, "sip:erin@" + DOMAIN, "text/plain", "to your phone")
                .get(30, TimeUnit.SECONDS);
        assertEquals(200, r.status(), "the phone's 200 came back through both peers: " + r);
        Sipp.assertAllSucceeded(sipp.await(phone, "uas_message.xml", erinPort), 1, "erin's phone got the MESSAGE");
    }

    @Test
    void theApiCallsTheApi() throws Exception {
        String judy = "sip:judy@" + DOMAIN;
        b.register(judy).get(30, TimeUnit.SECONDS);
        BlockingQueue<IncomingCall> calls = new LinkedBlockingQueue<>();
        BlockingQueue<java.util.concurrent.CompletableFuture<Void>> acks = new LinkedBlockingQueue<>();
        callsAtB = c -> {
            calls.add(c);
            acks.add(c.answer("application/sdp", "v=0\r\ns=judy\r\n"));
        };
        OutgoingCall call = a.call("sip:alice@" + DOMAIN, judy, "application/sdp", "v=0\r\ns=alice\r\n")
                .get(30, TimeUnit.SECONDS);
        assertEquals("v=0\r\ns=judy\r\n", call.answer());
        IncomingCall in = calls.poll(5, TimeUnit.SECONDS);
        assertNotNull(in);
        assertEquals("v=0\r\ns=alice\r\n", in.offer());
        acks.poll(5, TimeUnit.SECONDS).get(20, TimeUnit.SECONDS); // alice's ACK reached judy through both peers
        call.hangup().get(30, TimeUnit.SECONDS); // the BYE's 200 came back
        in.ended().get(20, TimeUnit.SECONDS);
        assertTrue(call.ended().isDone());

        // a refusal is a CallRefusedException with the status
        callsAtB = c -> c.reject(486, "Busy Here");
        Throwable refused = a.call("sip:alice@" + DOMAIN, judy, "application/sdp", "v=0\r\n")
                .handle((x, e) -> e).get(30, TimeUnit.SECONDS);
        assertTrue(SipEndpoint.unwrap(refused) instanceof CallRefusedException r && r.status() == 486,
                String.valueOf(refused));
    }

    @Test
    void theApiCallsASippPhoneThatAnswersAndGetsTheBye() throws Exception {
        Sipp sipp = sippIn(tmp, "sipp-ivan");
        int port = TestSupport.freeUdpPort();
        Process phone = phoneAt(b, sipp, "ivan", port, "uas_call.xml");
        OutgoingCall call = a.call("sip:alice@" + DOMAIN, "sip:ivan@" + DOMAIN, "application/sdp",
                "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                        + "m=audio 40002 RTP/AVP 0\r\n").get(30, TimeUnit.SECONDS);
        Thread.sleep(200);
        call.hangup().get(30, TimeUnit.SECONDS);
        Sipp.assertAllSucceeded(sipp.await(phone, "uas_call.xml", port), 1,
                "ivan's phone: INVITE, 180, 200, the ACK and the BYE from the API, through both peers");
    }

    @Test
    void sippPhoneCallsAnApiAorWhichAnswers() throws Exception {
        Sipp sipp = sippIn(tmp, "sipp-call");
        String frank = "sip:frank@" + DOMAIN;
        b.register(frank).get(30, TimeUnit.SECONDS);
        BlockingQueue<IncomingCall> calls = new LinkedBlockingQueue<>();
        BlockingQueue<java.util.concurrent.CompletableFuture<Void>> answers = new LinkedBlockingQueue<>();
        callsAtB = c -> {
            calls.add(c);
            c.ringing();
            answers.add(c.answer("application/sdp", "v=0\r\no=frank 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                    + "t=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"));
        };
        int port = TestSupport.freeUdpPort();
        // a phone (not registered: the proxy does not authenticate outgoing requests) calls frank through A
        Sipp.Result caller = sipp.await(sipp.start("uac_call.xml", a.sipAddress(), port, 1, "-s", "frank",
                "-key", "caller", "gina"), "uac_call.xml", port);
        Sipp.assertAllSucceeded(caller, 1, "gina's call to frank: 180, 200, ACK, BYE answered 200");
        IncomingCall c = calls.poll(5, TimeUnit.SECONDS);
        assertNotNull(c, "the application saw the INVITE");
        assertEquals(frank, c.to());
        assertTrue(c.offer().contains("m=audio"), c.offer());
        answers.poll(5, TimeUnit.SECONDS).get(20, TimeUnit.SECONDS); // the caller's ACK arrived
        assertTrue(c.answer("application/sdp", "").handle((x, e) -> e != null).get(5, TimeUnit.SECONDS),
                "a second answer is refused");
        c.ended().get(20, TimeUnit.SECONDS); // the caller's BYE ended it
    }
}
