package org.p2psip.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.p2psip.node.TestSupport;
import org.p2psip.node.accounts.DigestAccounts;
import org.p2psip.testing.Sipp;
import org.p2psip.testing.Waits;

/**
 * The call API's dialog features over a 2-node loopback overlay (real UDP, both peers' proxies on the path), against
 * real sipp phones registered at B and against the API itself: every retransmitted 2xx is ACKed, a ringing call is
 * cancelled (CANCEL, 487), and re-INVITEs go both ways (hold with a=sendonly answered a=recvonly, a session refresh).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(180)
class P2pSipCallsTest {
    static final String DOMAIN = P2pSipTest.DOMAIN;
    static final String SDP = "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            + "m=audio 40002 RTP/AVP 0\r\n";
    static final String HOLD = SDP.replace("o=alice 1 1", "o=alice 1 2") + "a=sendonly\r\n";

    Path tmp;
    P2pSip a;
    P2pSip b;
    /** What B's application does with calls (set by each test). */
    volatile Consumer<IncomingCall> callsAtB = c -> c.reject(486, "Busy Here");

    @BeforeAll
    void start() throws Exception {
        tmp = Files.createTempDirectory("p2psip-calls");
        Path db = tmp.resolve("b");
        Files.createDirectories(db);
        for (String user : new String[] {"kate", "liam"}) {
            DigestAccounts.put(db.resolve(DigestAccounts.FILE_NAME),
                    DigestAccounts.account(user, DOMAIN, (user + "-secret").toCharArray()));
        }
        a = P2pSipTest.instance(tmp.resolve("a")).build().start().get(60, TimeUnit.SECONDS);
        b = P2pSipTest.instance(db).bootstrap(a.peer().overlayAddress()).build().start().get(60, TimeUnit.SECONDS);
        a.onIncoming(m -> { });
        b.onIncoming(new IncomingListener() {
            @Override
            public void onMessage(IncomingMessage m) {
            }

            @Override
            public void onCall(IncomingCall c) {
                callsAtB.accept(c);
            }
        });
        Waits.until(20_000, () -> Waits.await(a.peer().status()).neighbours() >= 1, "A has a neighbour");
    }

    @AfterAll
    void stop() {
        if (b != null) {
            b.close();
        }
        if (a != null) {
            a.close();
        }
    }

    @Test
    void everyRetransmitted200IsAckedAndReinvitesGoBothWaysWithAPhone() throws Exception {
        Sipp sipp = P2pSipTest.sippIn(tmp, "sipp-kate");
        int port = TestSupport.freeUdpPort();
        Process phone = P2pSipTest.phoneAt(b, sipp, "kate", port, "uas_reack_reinvite.xml");
        BlockingQueue<Reinvite> fromPhone = new LinkedBlockingQueue<>();
        BlockingQueue<CompletableFuture<Void>> acks = new LinkedBlockingQueue<>();
        // the handler is set as the call is established (dependents of answered() run before the next message)
        OutgoingCall call = a.dial("sip:alice@" + DOMAIN, "sip:kate@" + DOMAIN, "application/sdp", SDP).answered()
                .thenApply(c -> {
                    c.onReinvite(r -> {
                        fromPhone.add(r);
                        acks.add(r.accept("application/sdp", SDP));
                    });
                    return c;
                }).get(30, TimeUnit.SECONDS);
        assertTrue(call.answer().contains("m=audio"), call.answer());
        // the phone sent its 200 twice and re-INVITEs only once both ACKs came
        Reinvite refresh = fromPhone.poll(30, TimeUnit.SECONDS);
        if (refresh == null) { // say what the phone saw: its sipp output
            fail("the phone's re-INVITE did not reach the caller's application; the phone's sipp output:\n"
                    + sipp.await(phone, "uas_reack_reinvite.xml", port).output());
        }
        assertTrue(refresh.offer().body().contains("m=audio"), refresh.offer().toString());
        acks.poll(5, TimeUnit.SECONDS).get(30, TimeUnit.SECONDS); // the phone ACKed our 200
        SessionDescription held = call.reinvite("application/sdp", HOLD).get(30, TimeUnit.SECONDS);
        assertTrue(held.body().contains("a=recvonly"), "the phone's answer to the hold: " + held);
        assertEquals("application/sdp", held.contentType());
        call.hangup().get(30, TimeUnit.SECONDS);
        Sipp.assertAllSucceeded(sipp.await(phone, "uas_reack_reinvite.xml", port), 1,
                "kate's phone: 200 sent twice and ACKed twice, re-INVITEs both ways answered and ACKed, the BYE");
    }

    @Test
    void theApiCancelsARingingPhone() throws Exception {
        Sipp sipp = P2pSipTest.sippIn(tmp, "sipp-liam");
        int port = TestSupport.freeUdpPort();
        Process phone = P2pSipTest.phoneAt(b, sipp, "liam", port, "uas_cancel.xml");
        CallAttempt attempt = a.dial("sip:alice@" + DOMAIN, "sip:liam@" + DOMAIN, "application/sdp", SDP);
        assertEquals(180, attempt.ringing().get(30, TimeUnit.SECONDS));
        attempt.cancel().get(30, TimeUnit.SECONDS); // the INVITE's final response came
        assertThrows(CancellationException.class, () -> attempt.answered().get(5, TimeUnit.SECONDS));
        Sipp.assertAllSucceeded(sipp.await(phone, "uas_cancel.xml", port), 1,
                "liam's phone: rang, got the CANCEL, answered 487 and got its ACK");
    }

    @Test
    void aPhoneReinvitesAnApiCallee() throws Exception {
        Sipp sipp = P2pSipTest.sippIn(tmp, "sipp-reinvite");
        String mia = "sip:mia@" + DOMAIN;
        b.register(mia).get(30, TimeUnit.SECONDS);
        BlockingQueue<Reinvite> reinvites = new LinkedBlockingQueue<>();
        BlockingQueue<IncomingCall> calls = new LinkedBlockingQueue<>();
        callsAtB = c -> {
            calls.add(c);
            c.onReinvite(r -> {
                reinvites.add(r);
                r.accept("application/sdp", SDP.replace("alice", "mia") + "a=recvonly\r\n");
            });
            c.answer("application/sdp", SDP.replace("alice", "mia"));
        };
        int port = TestSupport.freeUdpPort();
        Sipp.Result caller = sipp.await(sipp.start("uac_reinvite.xml", a.sipAddress(), port, 1, "-s", "mia",
                "-key", "caller", "nora"), "uac_reinvite.xml", port);
        Sipp.assertAllSucceeded(caller, 1, "nora's call to mia: 200, ACK, re-INVITE answered a=recvonly, ACK, BYE");
        Reinvite r = reinvites.poll(5, TimeUnit.SECONDS);
        assertNotNull(r, "the application saw the re-INVITE");
        assertTrue(r.offer().body().contains("a=sendonly"), r.offer().toString());
        IncomingCall c = calls.poll(5, TimeUnit.SECONDS);
        assertNotNull(c);
        assertTrue(r.call() == c, "the re-INVITE names its call");
        c.ended().get(20, TimeUnit.SECONDS);
    }

    /**
     * A handler set with {@link Call#onReinvite} applies to the very next re-INVITE: each round sets one that refuses
     * with the round's number in its reason, then re-INVITEs at once. (The handler used to be handed over through a
     * task queued on the transaction thread, and Netty runs a loop's ready I/O before its queued tasks: under load
     * the re-INVITE met the previous handler, which made theApiReinvitesAndCancelsTheApi flaky.)
     */
    @Test
    void aNewReinviteHandlerAppliesToTheNextReinvite() throws Exception {
        String kim = "sip:kim@" + DOMAIN;
        b.register(kim).get(30, TimeUnit.SECONDS);
        BlockingQueue<IncomingCall> calls = new LinkedBlockingQueue<>();
        callsAtB = c -> {
            calls.add(c);
            c.answer("application/sdp", "v=0\r\ns=kim\r\n");
        };
        OutgoingCall call = a.call("sip:alice@" + DOMAIN, kim, "application/sdp", "v=0\r\ns=alice\r\n")
                .get(30, TimeUnit.SECONDS);
        IncomingCall in = calls.poll(5, TimeUnit.SECONDS);
        assertNotNull(in);
        for (int round = 1; round <= 30; round++) {
            String reason = "Not Acceptable Here (round " + round + ")";
            in.onReinvite(r -> r.reject(488, reason));
            ExecutionException refused = assertThrows(ExecutionException.class,
                    () -> call.reinvite("application/sdp", "v=0\r\ns=alice again\r\n").get(30, TimeUnit.SECONDS));
            assertTrue(refused.getCause() instanceof CallRefusedException e && e.status() == 488
                    && e.reason().equals(reason), "the refusal of round " + round + ": " + refused);
        }
        call.hangup().get(30, TimeUnit.SECONDS);
        in.ended().get(20, TimeUnit.SECONDS);
    }

    @Test
    void theApiReinvitesAndCancelsTheApi() throws Exception {
        String judy = "sip:judy@" + DOMAIN;
        b.register(judy).get(30, TimeUnit.SECONDS);
        BlockingQueue<IncomingCall> calls = new LinkedBlockingQueue<>();
        BlockingQueue<SessionDescription> offersAtB = new LinkedBlockingQueue<>();
        callsAtB = c -> {
            calls.add(c);
            c.onReinvite(r -> {
                offersAtB.add(r.offer());
                r.accept("application/sdp", "v=0\r\ns=judy held\r\na=recvonly\r\n");
            });
            c.answer("application/sdp", "v=0\r\ns=judy\r\n");
        };
        OutgoingCall call = a.call("sip:alice@" + DOMAIN, judy, "application/sdp", "v=0\r\ns=alice\r\n")
                .get(30, TimeUnit.SECONDS);
        IncomingCall in = calls.poll(5, TimeUnit.SECONDS);
        assertNotNull(in);
        // A holds: B's handler answers
        SessionDescription answer = call.reinvite("application/sdp", "v=0\r\ns=alice hold\r\na=sendonly\r\n")
                .get(30, TimeUnit.SECONDS);
        assertEquals("v=0\r\ns=judy held\r\na=recvonly\r\n", answer.body());
        assertEquals("v=0\r\ns=alice hold\r\na=sendonly\r\n", offersAtB.poll(5, TimeUnit.SECONDS).body());
        // B refreshes the session: A has no handler, so it answers with what it sent last (the hold)
        SessionDescription refreshed = in.reinvite("application/sdp", "v=0\r\ns=judy\r\n").get(30, TimeUnit.SECONDS);
        assertEquals("v=0\r\ns=alice hold\r\na=sendonly\r\n", refreshed.body());
        // B rejects the next one: the call goes on
        in.onReinvite(r -> r.reject(488, "Not Acceptable Here"));
        ExecutionException refused = assertThrows(ExecutionException.class,
                () -> call.reinvite("application/sdp", "v=0\r\ns=video\r\n").get(30, TimeUnit.SECONDS));
        assertTrue(refused.getCause() instanceof CallRefusedException e && e.status() == 488, refused.toString());
        call.hangup().get(30, TimeUnit.SECONDS);
        in.ended().get(20, TimeUnit.SECONDS);
        assertThrows(ExecutionException.class, () -> in.reinvite("application/sdp", "v=0\r\n").get(5,
                TimeUnit.SECONDS), "no re-INVITE once the call is over");

        // a call that only rings is cancelled: B's application sees it end, A's attempt is cancelled
        callsAtB = c -> {
            calls.add(c);
            c.ringing();
        };
        CallAttempt attempt = a.dial("sip:alice@" + DOMAIN, judy, "application/sdp", "v=0\r\ns=alice\r\n");
        assertEquals(180, attempt.ringing().get(30, TimeUnit.SECONDS));
        IncomingCall ringing = calls.poll(5, TimeUnit.SECONDS);
        assertNotNull(ringing);
        attempt.cancel().get(30, TimeUnit.SECONDS);
        ringing.ended().get(20, TimeUnit.SECONDS);
        assertThrows(CancellationException.class, () -> attempt.answered().get(5, TimeUnit.SECONDS));
        assertTrue(ringing.answer("application/sdp", "v=0\r\n").handle((x, e) -> e != null).get(5, TimeUnit.SECONDS),
                "a cancelled call cannot be answered");
        CompletableFuture<Void> late = attempt.cancel();
        late.get(5, TimeUnit.SECONDS); // cancelling what is over is a no-op
    }
}
