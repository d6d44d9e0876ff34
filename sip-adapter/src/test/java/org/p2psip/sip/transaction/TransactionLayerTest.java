package org.p2psip.sip.transaction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.p2psip.sip.message.Rfc4475;
import org.p2psip.sip.message.SipMessage;
import org.p2psip.sip.message.SipParser;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.transport.Source;
import org.p2psip.sip.transport.Target;
import org.p2psip.sip.transport.Transport;

/** The §17 state machines in virtual time, against a transport that records every send. */
class TransactionLayerTest {
    static final InetSocketAddress PEER = new InetSocketAddress(InetAddress.getLoopbackAddress(), 5070);
    static final InetSocketAddress US = new InetSocketAddress(InetAddress.getLoopbackAddress(), 5060);
    static final Source UDP_SRC = new Source(Transport.UDP, PEER, US);
    static final Source TCP_SRC = new Source(Transport.TCP, PEER, US);
    static final Target UDP = new Target(Transport.UDP, PEER);
    static final Target TCP = new Target(Transport.TCP, PEER);

    final ManualTimerService clock = new ManualTimerService();
    final CaptureSender out = new CaptureSender(clock);
    final List<String> events = new ArrayList<>();
    final List<ServerTransaction> serverTxs = new ArrayList<>();
    final List<SipRequest> acksToTu = new ArrayList<>();
    TransactionLayer layer = layer(TimerConfig.DEFAULT);

    TransactionLayer layer(TimerConfig cfg) {
        return new TransactionLayer(out, clock, cfg, new TransactionUser() {
            @Override
            public void onRequest(ServerTransaction tx, SipRequest request) {
                events.add("request " + request.method());
                serverTxs.add(tx);
            }

            @Override
            public void onAck(SipRequest ack, Source source) {
                acksToTu.add(ack);
            }

            @Override
            public void onStrayResponse(SipResponse response, Source source) {
                events.add("stray " + response.status());
            }

            @Override
            public void onServerTimeout(ServerTransaction tx) {
                events.add("server timeout at " + clock.nowMillis());
            }
        });
    }

    final ClientTransaction.Listener listener = new ClientTransaction.Listener() {
        @Override
        public void onResponse(ClientTransaction tx, SipResponse response) {
            events.add("response " + response.status());
        }

        @Override
        public void onTimeout(ClientTransaction tx) {
            events.add("timeout at " + clock.nowMillis());
        }

        @Override
        public void onTransportError(ClientTransaction tx, Throwable cause) {
            events.add("transport error " + cause.getMessage());
        }
    };

    static SipRequest request(String method, String branch, String sentBy) {
        String m = method + " sip:bob@example.com SIP/2.0\r\n"
                + "Via: SIP/2.0/UDP " + sentBy + ";branch=" + branch + "\r\n"
                + "Route: <sip:proxy.example.com;lr>\r\n"
                + "From: <sip:alice@example.com>;tag=a1\r\n"
                + "To: <sip:bob@example.com>\r\n"
                + "Call-ID: call-1@example.com\r\n"
                + "CSeq: 7 " + method + "\r\n"
                + "Max-Forwards: 70\r\n"
                + "Content-Length: 0\r\n\r\n";
        return (SipRequest) new SipParser().parseDatagram(m.getBytes(StandardCharsets.UTF_8));
    }

    static SipRequest request(String method, String branch) {
        return request(method, branch, "alice.example.com:5070");
    }

    static SipResponse response(SipRequest r, int status) {
        return SipResponse.forRequest(r, status, "Reason", "b2");
    }

    static List<Long> ms(long... v) {
        List<Long> l = new ArrayList<>();
        for (long x : v) {
            l.add(x);
        }
        return l;
    }

    void advance(long ms) {
        clock.advance(Duration.ofMillis(ms));
    }

    // ---- INVITE client ----

    @Test
    void inviteClientOverUdpDoublesTimerAUntilTimerB() {
        ClientTransaction tx = layer.sendRequest(request("INVITE", "z9hG4bKa"), UDP, listener);
        assertEquals(TransactionState.CALLING, tx.state());
        advance(40_000);
        assertEquals(ms(0, 500, 1500, 3500, 7500, 15500, 31500), out.times("INVITE"));
        assertEquals(List.of("timeout at 32000"), events);
        assertEquals(TransactionState.TERMINATED, tx.state());
        assertEquals(0, layer.stats().clientTransactions());
        assertEquals(6, layer.stats().retransmissions());
    }

    @Test
    void timersScaleWithAShortT1() {
        layer = layer(new TimerConfig(Duration.ofMillis(100), Duration.ofMillis(400), Duration.ofMillis(500),
                Duration.ofMillis(3200), Duration.ofMillis(200)));
        layer.sendRequest(request("INVITE", "z9hG4bKshort"), UDP, listener);
        layer.sendRequest(request("OPTIONS", "z9hG4bKshort2"), UDP, listener);
        advance(10_000);
        assertEquals(ms(0, 100, 300, 700, 1500, 3100, 6300), out.times("INVITE"));
        assertEquals(ms(0, 100, 300, 700, 1100, 1500, 1900, 2300, 2700, 3100, 3500, 3900, 4300, 4700, 5100, 5500,
                5900, 6300), out.times("OPTIONS"));
        assertEquals(List.of("timeout at 6400", "timeout at 6400"), events);
    }

    @Test
    void inviteClientOverTcpSendsOnceAndTimesOutAfter64T1() {
        layer.sendRequest(request("INVITE", "z9hG4bKtcp"), TCP, listener);
        advance(40_000);
        assertEquals(ms(0), out.times("INVITE"));
        assertEquals(List.of("timeout at 32000"), events);
    }

    @Test
    void inviteClientProvisionalStopsRetransmissionsAndANon2xxIsAckedUntilTimerD() {
        SipRequest invite = request("INVITE", "z9hG4bKb");
        ClientTransaction tx = layer.sendRequest(invite, UDP, listener);
        advance(1000);
        layer.onMessage(response(invite, 180), UDP_SRC);
        assertEquals(TransactionState.PROCEEDING, tx.state());
        advance(60_000); // no Timer A, and no Timer B in Proceeding
        assertEquals(ms(0, 500), out.times("INVITE"));
        assertEquals(TransactionState.PROCEEDING, tx.state());
        SipResponse busy = response(invite, 486);
        layer.onMessage(busy, UDP_SRC);
        assertEquals(TransactionState.COMPLETED, tx.state());
        SipRequest ack = assertInstanceOf(SipRequest.class, out.last());
        assertEquals("ACK", ack.method());
        assertEquals(invite.requestUri(), ack.requestUri());
        assertEquals(1, ack.vias().size());
        assertEquals(invite.topVia(), ack.topVia());
        assertEquals(Optional.of("b2"), ack.to().tag());
        assertEquals(invite.from(), ack.from());
        assertEquals(invite.callId(), ack.callId());
        assertEquals(7, ack.cseq().number());
        assertEquals("ACK", ack.cseq().method());
        assertEquals(invite.routes(), ack.routes());
        layer.onMessage(busy, UDP_SRC); // retransmitted final: ACK again, TU hears nothing
        assertEquals(2, out.times("ACK").size());
        assertEquals(List.of("response 180", "response 486"), events);
        advance(31_999);
        assertEquals(TransactionState.COMPLETED, tx.state());
        advance(1);
        assertEquals(TransactionState.TERMINATED, tx.state());
        layer.onMessage(busy, UDP_SRC);
        assertEquals("stray 486", events.get(events.size() - 1));
    }

    @Test
    void inviteClientAcceptedPasses2xxRetransmissionsToTheTuUntilTimerM() {
        SipRequest invite = request("INVITE", "z9hG4bKc");
        ClientTransaction tx = layer.sendRequest(invite, UDP, listener);
        SipResponse ok = response(invite, 200);
        layer.onMessage(ok, UDP_SRC);
        assertEquals(TransactionState.ACCEPTED, tx.state());
        advance(4000);
        layer.onMessage(ok, UDP_SRC);
        assertEquals(List.of("response 200", "response 200"), events);
        assertEquals(ms(0), out.times("INVITE"));
        assertTrue(out.times("ACK").isEmpty(), "the TU ACKs a 2xx, not the transaction");
        advance(28_000);
        assertEquals(TransactionState.TERMINATED, tx.state());
        layer.onMessage(ok, UDP_SRC);
        assertEquals("stray 200", events.get(2));
    }

    // ---- non-INVITE client ----

    @Test
    void nonInviteClientTimerECapsAtT2UntilTimerF() {
        layer.sendRequest(request("OPTIONS", "z9hG4bKd"), UDP, listener);
        advance(40_000);
        assertEquals(ms(0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500), out.times("OPTIONS"));
        assertEquals(List.of("timeout at 32000"), events);
    }

    @Test
    void nonInviteClientProceedingRetransmitsEveryT2AndCompletedAbsorbsUntilTimerK() {
        SipRequest reg = request("REGISTER", "z9hG4bKe");
        ClientTransaction tx = layer.sendRequest(reg, UDP, listener);
        advance(600);
        layer.onMessage(response(reg, 100), UDP_SRC);
        assertEquals(TransactionState.PROCEEDING, tx.state());
        advance(10_000); // next E (due at 1500) fires in Proceeding, then every T2
        assertEquals(ms(0, 500, 1500, 5500, 9500), out.times("REGISTER"));
        layer.onMessage(response(reg, 200), UDP_SRC);
        layer.onMessage(response(reg, 200), UDP_SRC);
        assertEquals(List.of("response 100", "response 200"), events);
        assertEquals(TransactionState.COMPLETED, tx.state());
        assertEquals(1, layer.stats().absorbed());
        advance(4_999);
        assertEquals(TransactionState.COMPLETED, tx.state());
        advance(1);
        assertEquals(TransactionState.TERMINATED, tx.state());
        assertEquals(5, out.times("REGISTER").size());
    }

    @Test
    void nonInviteClientOverTcpEndsRightAfterTheFinal() {
        SipRequest reg = request("REGISTER", "z9hG4bKf");
        ClientTransaction tx = layer.sendRequest(reg, TCP, listener);
        layer.onMessage(response(reg, 200), TCP_SRC);
        clock.runDue();
        assertEquals(TransactionState.TERMINATED, tx.state());
    }

    @Test
    void transportErrorIsReported() {
        out.failWith = new IOException("unreachable");
        ClientTransaction tx = layer.sendRequest(request("OPTIONS", "z9hG4bKg"), UDP, listener);
        clock.runDue();
        assertEquals(List.of("transport error unreachable"), events);
        assertEquals(TransactionState.TERMINATED, tx.state());
    }

    @Test
    void clientRequestsNeedAFreshRfc3261Branch() {
        assertThrows(IllegalArgumentException.class, () -> layer.sendRequest(request("OPTIONS", "old"), UDP, listener));
        assertThrows(IllegalArgumentException.class,
                () -> layer.sendRequest(request("ACK", "z9hG4bKack"), UDP, listener));
        layer.sendRequest(request("OPTIONS", "z9hG4bKdup"), UDP, listener);
        assertThrows(IllegalArgumentException.class,
                () -> layer.sendRequest(request("OPTIONS", "z9hG4bKdup"), UDP, listener));
        assertTrue(Branch.next().startsWith("z9hG4bK"));
    }

    // ---- INVITE server ----

    @Test
    void inviteServerSends100TryingAfter200MsWhenTheTuIsSilent() {
        SipRequest invite = request("INVITE", "z9hG4bKh");
        layer.onMessage(invite, UDP_SRC);
        assertEquals(List.of("request INVITE"), events);
        advance(199);
        assertTrue(out.sent.isEmpty());
        advance(1);
        assertEquals(ms(200), out.times("100"));
        SipResponse trying = (SipResponse) out.last();
        assertTrue(trying.to().tag().isEmpty(), "100 Trying carries no To tag");
        layer.onMessage(invite, UDP_SRC); // retransmission: 100 again, no new TU request
        assertEquals(ms(200, 200), out.times("100"));
        assertEquals(1, events.size());
    }

    @Test
    void inviteServerSendsNo100IfTheTuAnswersFirst() {
        layer.onMessage(request("INVITE", "z9hG4bKi"), UDP_SRC);
        ServerTransaction tx = serverTxs.get(0);
        advance(50);
        tx.respond(180, "Ringing");
        advance(1000);
        assertTrue(out.times("100").isEmpty());
        assertEquals(ms(50), out.times("180"));
        assertEquals(Optional.of(tx.toTag()), ((SipResponse) out.last()).to().tag());
    }

    @Test
    void inviteServerRetransmitsANon2xxOnTimerGAndAbsorbsTheAck() {
        SipRequest invite = request("INVITE", "z9hG4bKj");
        layer.onMessage(invite, UDP_SRC);
        ServerTransaction tx = serverTxs.get(0);
        tx.respond(486, "Busy Here");
        assertEquals(TransactionState.COMPLETED, tx.state());
        advance(8000);
        assertEquals(ms(0, 500, 1500, 3500, 7500), out.times("486"));
        layer.onMessage(invite, UDP_SRC); // INVITE retransmission: the final again
        assertEquals(6, out.times("486").size());
        SipRequest ack = request("ACK", "z9hG4bKj");
        layer.onMessage(ack, UDP_SRC);
        assertEquals(TransactionState.CONFIRMED, tx.state());
        layer.onMessage(ack, UDP_SRC); // absorbed
        assertTrue(acksToTu.isEmpty());
        advance(4_999);
        assertEquals(6, out.times("486").size(), "no Timer G in Confirmed");
        assertEquals(TransactionState.CONFIRMED, tx.state());
        advance(1); // Timer I = T4
        assertEquals(TransactionState.TERMINATED, tx.state());
        assertEquals(List.of("request INVITE"), events);
    }

    @Test
    void inviteServerGivesUpOnTimerHWithoutAck() {
        layer.onMessage(request("INVITE", "z9hG4bKk"), UDP_SRC);
        serverTxs.get(0).respond(603, "Decline");
        advance(40_000);
        assertEquals(ms(0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500), out.times("603"));
        assertEquals("server timeout at 32000", events.get(1));
        assertEquals(1, layer.stats().serverTimeouts());
    }

    @Test
    void inviteServerOverTcpDoesNotRetransmitButStillWaitsForTheAck() {
        layer.onMessage(request("INVITE", "z9hG4bKl"), TCP_SRC);
        ServerTransaction tx = serverTxs.get(0);
        tx.respond(486, "Busy Here");
        advance(10_000);
        assertEquals(ms(0), out.times("486"));
        layer.onMessage(request("ACK", "z9hG4bKl"), TCP_SRC);
        clock.runDue();
        assertEquals(TransactionState.TERMINATED, tx.state(), "Timer I is 0 on TCP");
    }

    @Test
    void inviteServerAcceptedAbsorbsInviteRetransmissionsAndLeavesThe2xxAckToTheTu() {
        SipRequest invite = request("INVITE", "z9hG4bKm");
        layer.onMessage(invite, UDP_SRC);
        ServerTransaction tx = serverTxs.get(0);
        tx.respond(200, "OK");
        assertEquals(TransactionState.ACCEPTED, tx.state());
        layer.onMessage(invite, UDP_SRC);
        assertEquals(1, events.size(), "not a new request");
        assertEquals(1, out.times("200").size(), "2xx retransmission is the TU's job");
        tx.respond(200, "OK");
        assertEquals(2, out.times("200").size());
        layer.onMessage(request("ACK", "z9hG4bKother"), UDP_SRC); // an ACK for a 2xx has its own branch
        assertEquals(1, acksToTu.size());
        advance(32_000);
        assertEquals(TransactionState.TERMINATED, tx.state(), "Timer L");
    }

    // ---- non-INVITE server ----

    @Test
    void nonInviteServerAbsorbsWhileTryingAndRepeatsTheFinalUntilTimerJ() {
        SipRequest options = request("OPTIONS", "z9hG4bKn");
        layer.onMessage(options, UDP_SRC);
        layer.onMessage(options, UDP_SRC);
        assertTrue(out.sent.isEmpty(), "nothing to send while Trying");
        ServerTransaction tx = serverTxs.get(0);
        tx.respond(200, "OK");
        layer.onMessage(options, UDP_SRC);
        assertEquals(2, out.times("200").size());
        assertSame(out.sent.get(0).message(), out.sent.get(1).message());
        advance(31_999);
        assertEquals(TransactionState.COMPLETED, tx.state());
        advance(1);
        assertEquals(TransactionState.TERMINATED, tx.state());
        layer.onMessage(options, UDP_SRC);
        assertEquals(List.of("request OPTIONS", "request OPTIONS"), events, "after Timer J it is a new request");
    }

    @Test
    void aChallengeKeepsNoStateAndARetransmissionIsChallengedAgainWithTheSameToTag() {
        SipRequest register = request("REGISTER", "z9hG4bKc");
        layer.onMessage(register, UDP_SRC);
        ServerTransaction tx = serverTxs.get(0);
        tx.respond(401, "Unauthorized");
        assertEquals(TransactionState.TERMINATED, tx.state(), "RFC 3261 8.2.7: no Completed state for a challenge");
        assertEquals(0, layer.stats().serverTransactions());
        assertEquals(1, layer.stats().statelessChallenges());
        layer.onMessage(register, UDP_SRC);
        assertEquals(2, serverTxs.size(), "the retransmission is a new request: it gets a fresh challenge");
        assertEquals(tx.toTag(), serverTxs.get(1).toTag(), "with the same To tag, derived from the transaction");
        assertTrue(tx.toTag().length() == 13 && tx.toTag().matches("[0-9a-f]+"), tx.toTag());
        assertNotEquals(tx.toTag(), new TransactionLayer(out, clock, TimerConfig.DEFAULT, (t, r) -> { }).toTagFor(tx.key),
                "another layer (process) derives other tags");
        serverTxs.get(1).respond(200, "OK");
        assertEquals(TransactionState.COMPLETED, serverTxs.get(1).state(), "other answers keep their Timer J state");
        SipRequest kept = serverTxs.get(1).request();
        assertTrue(kept.headers().all("Route").isEmpty() && kept.headers().all("Max-Forwards").isEmpty(),
                "a completed transaction keeps only what responses copy: " + kept.headers());
        assertEquals(register.callId(), kept.callId());
        assertEquals(register.cseq(), kept.cseq());
        assertEquals(register.headers().all("Via"), kept.headers().all("Via"));
        layer.onMessage(register, UDP_SRC);
        assertEquals(2, out.times("200").size(), "and still answers a retransmission with its 200");
    }

    @Test
    void nonInviteServerProceedingRepeatsTheProvisional() {
        SipRequest reg = request("REGISTER", "z9hG4bKo");
        layer.onMessage(reg, UDP_SRC);
        serverTxs.get(0).respond(100, "Trying");
        layer.onMessage(reg, UDP_SRC);
        assertEquals(2, out.times("100").size());
        serverTxs.get(0).respond(200, "OK");
        serverTxs.get(0).respond(500, "too late"); // ignored in Completed
        assertEquals(1, out.times("200").size());
        assertTrue(out.times("500").isEmpty());
    }

    @Test
    void nonInviteServerOverTcpEndsAtOnce() {
        layer.onMessage(request("OPTIONS", "z9hG4bKp"), TCP_SRC);
        serverTxs.get(0).respond(200, "OK");
        clock.runDue();
        assertEquals(0, layer.stats().serverTransactions());
    }

    // ---- matching ----

    @Test
    void cancelHasItsOwnTransactionAndFindsTheInvite() {
        layer.onMessage(request("INVITE", "z9hG4bKq"), UDP_SRC);
        SipRequest cancel = request("CANCEL", "z9hG4bKq");
        layer.onMessage(cancel, UDP_SRC);
        assertEquals(List.of("request INVITE", "request CANCEL"), events);
        assertSame(serverTxs.get(0), layer.findInvite(cancel).orElseThrow());
        assertTrue(layer.findInvite(request("CANCEL", "z9hG4bKnone")).isEmpty());
    }

    @Test
    void sameBranchFromAnotherSentByIsAnotherTransaction() {
        layer.onMessage(request("OPTIONS", "z9hG4bKr", "a.example.com"), UDP_SRC);
        layer.onMessage(request("OPTIONS", "z9hG4bKr", "b.example.com"), UDP_SRC);
        assertEquals(2, events.size());
    }

    @Test
    void rfc4475BadbranchFallsBackToRfc2543Matching() {
        SipRequest r = (SipRequest) new SipParser().parseDatagram(Rfc4475.load("semantic", "badbranch"));
        layer.onMessage(r, UDP_SRC);
        layer.onMessage(r, UDP_SRC);
        assertEquals(1, events.size());
        assertTrue(TransactionKeys.server(r).startsWith("2543|"));
        assertEquals(1, layer.stats().absorbed());
    }

    @Test
    void rfc4475Inv2543IsAnsweredAndItsAckMatches() {
        byte[] bytes = Rfc4475.load("semantic", "inv2543");
        SipRequest invite = (SipRequest) new SipParser().parseDatagram(bytes);
        layer.onMessage(invite, UDP_SRC);
        ServerTransaction tx = serverTxs.get(0);
        tx.respond(486, "Busy Here");
        String ack = "ACK sip:UserB@example.com SIP/2.0\r\nVia: SIP/2.0/UDP iftgw.example.com\r\n"
                + "From: <sip:+13035551111@ift.client.example.net;user=phone>\r\n"
                + "To: sip:+16505552222@ss1.example.net;user=phone;tag=" + tx.toTag() + "\r\n"
                + "Call-ID: inv2543.1717@ift.client.example.com\r\nCSeq: 56 ACK\r\n\r\n";
        layer.onMessage(new SipParser().parseDatagram(ack.getBytes(StandardCharsets.UTF_8)), UDP_SRC);
        assertEquals(TransactionState.CONFIRMED, tx.state());
    }

    @Test
    void atTheBoundTheOldestAnsweredTransactionMakesRoom() {
        layer = new TransactionLayer(out, clock, TimerConfig.DEFAULT, (tx, r) -> serverTxs.add(tx), 2);
        SipRequest first = request("OPTIONS", "z9hG4bKe1");
        layer.onMessage(first, UDP_SRC);
        serverTxs.get(0).respond(200, "OK");
        advance(1_000);
        layer.onMessage(request("OPTIONS", "z9hG4bKe2"), UDP_SRC);
        serverTxs.get(1).respond(200, "OK");
        layer.onMessage(request("OPTIONS", "z9hG4bKe3"), UDP_SRC);
        assertEquals(3, serverTxs.size(), "the third request got a transaction");
        assertEquals(TransactionState.TERMINATED, serverTxs.get(0).state(), "the oldest answered one made room");
        assertEquals(TransactionState.COMPLETED, serverTxs.get(1).state());
        assertTrue(out.times("503").isEmpty());
        assertEquals(1, layer.stats().evictedCompleted());
        assertEquals(0, layer.stats().overload());
        assertEquals(2, layer.stats().serverTransactions());
        // its retransmission is now a new request: with both places taken by an answered and an unanswered one, the
        // answered one goes
        layer.onMessage(first, UDP_SRC);
        assertEquals(4, serverTxs.size());
        assertEquals(TransactionState.TERMINATED, serverTxs.get(1).state());
        assertEquals(2, layer.stats().evictedCompleted());
    }

    @Test
    void transactionsStillWaitingForTheirAnswerAreNeverEnded() {
        layer = new TransactionLayer(out, clock, TimerConfig.DEFAULT, (tx, r) -> serverTxs.add(tx), 2);
        layer.onMessage(request("OPTIONS", "z9hG4bKw1"), UDP_SRC);
        serverTxs.get(0).respond(200, "OK");
        advance(40_000); // Timer J ended it: nothing answered is left to make room
        layer.onMessage(request("OPTIONS", "z9hG4bKw2"), UDP_SRC);
        layer.onMessage(request("INVITE", "z9hG4bKw3"), UDP_SRC);
        serverTxs.get(2).respond(486, "Busy Here"); // a completed INVITE transaction waits for its ACK: kept
        layer.onMessage(request("OPTIONS", "z9hG4bKw4"), UDP_SRC);
        assertEquals(503, ((SipResponse) out.last()).status());
        assertEquals(3, serverTxs.size());
        assertEquals(TransactionState.TRYING, serverTxs.get(1).state());
        assertEquals(TransactionState.COMPLETED, serverTxs.get(2).state());
        assertEquals(1, layer.stats().overload());
        assertEquals(0, layer.stats().evictedCompleted());
    }

    @Test
    void overloadGets503() {
        layer = new TransactionLayer(out, clock, TimerConfig.DEFAULT, (tx, r) -> { }, 1);
        layer.onMessage(request("OPTIONS", "z9hG4bKs1"), UDP_SRC);
        layer.onMessage(request("OPTIONS", "z9hG4bKs2"), UDP_SRC);
        SipMessage last = out.last();
        assertEquals(503, ((SipResponse) last).status());
        assertEquals(Optional.of("5"), last.headers().first("Retry-After"));
        assertEquals(1, layer.stats().overload());
    }
}
