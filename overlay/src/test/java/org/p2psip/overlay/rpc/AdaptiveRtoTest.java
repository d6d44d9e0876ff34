package org.p2psip.overlay.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.wire.Frame;
import org.p2psip.overlay.wire.Message;

/**
 * The RPC engine's per-peer retransmission timeout in virtual time: a responder that answers every copy of a
 * request after a fixed delay (or never), and a requester that makes one call after another.
 */
class AdaptiveRtoTest {
    private static final InetSocketAddress PEER = new InetSocketAddress("192.0.2.7", 4000);
    private final VirtualClock clock = new VirtualClock();
    private final NodeId peerId = NodeId.random(new Random(3));
    /** The responder's delay; negative: it is dead. */
    private long delay;
    private int sends;
    private RpcEngine rpc;

    private RpcEngine engine(long attemptTimeout, int attempts) {
        rpc = new RpcEngine(clock, NodeId.random(new Random(1)), (to, f) -> {
            sends++;
            if (delay >= 0) {
                Frame reply = new Frame(true, f.requestId(), peerId, new Message.Pong(to));
                clock.schedule(() -> rpc.onReply(to, reply, () -> { }), delay);
            }
        }, attemptTimeout, attempts, new Random(2));
        return rpc;
    }

    /** Makes one call and runs the clock until it completes; returns the sends it took (negative: it failed). */
    private int oneCall() {
        int before = sends;
        long retrans = rpc.retransmissions();
        CompletableFuture<Frame> f = rpc.call(PEER, new Message.Ping());
        long start = clock.nowMillis();
        while (!f.isDone() && clock.nowMillis() < start + 60_000) {
            clock.runUntil(clock.nowMillis() + 1);
        }
        assertTrue(f.isDone(), "the call neither completed nor failed within 60 s of virtual time");
        assertEquals(sends - before - 1, rpc.retransmissions() - retrans);
        return f.isCompletedExceptionally() ? -(sends - before) : sends - before;
    }

    private long failureTime() {
        CompletableFuture<Frame> f = rpc.call(PEER, new Message.Ping());
        long start = clock.nowMillis();
        while (!f.isDone()) {
            clock.runUntil(clock.nowMillis() + 1);
        }
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, f::get);
        assertTrue(e.getCause() instanceof RpcTimeoutException, e.toString());
        return clock.nowMillis() - start;
    }

    @Test
    void slowResponderRaisesTheRtoUntilNoRequestIsSentTwice() {
        engine(100, 3);
        delay = 300;
        int retransmitted = 0;
        for (int i = 0; i < 10; i++) {
            int s = oneCall();
            assertTrue(s > 0, "call " + i + " failed");
            retransmitted += s - 1;
        }
        assertTrue(retransmitted >= 1, "the first calls, at the configured 100 ms, should have been sent again");
        assertTrue(rpc.rtoMillis(PEER) > 300, "RTO " + rpc.rtoMillis(PEER) + " ms for a 300 ms responder");
        long before = rpc.retransmissions();
        for (int i = 0; i < 30; i++) {
            assertEquals(1, oneCall(), "call " + i + " after the RTO adapted was sent more than once");
        }
        assertEquals(before, rpc.retransmissions());
        assertTrue(rpc.rtoMillis(PEER) > 300 && rpc.rtoMillis(PEER) <= RpcEngine.MAX_RTO_MILLIS, rpc.rtoMillis(PEER) + " ms");
    }

    @Test
    void quickResponderGetsTheMinimumRtoAndNoRetransmissions() {
        engine(500, 2);
        delay = 1;
        assertEquals(500, rpc.rtoMillis(PEER), "a peer never measured starts at the configured timeout");
        for (int i = 0; i < 20; i++) {
            assertEquals(1, oneCall());
        }
        assertEquals(RpcEngine.MIN_RTO_MILLIS, rpc.rtoMillis(PEER));
        assertEquals(0, rpc.retransmissions());
    }

    @Test
    void karnsRuleTakesNoSampleFromARetransmittedRequestAndBacksOffWhenItHappensTwiceInARow() {
        engine(100, 3);
        delay = 150;
        assertEquals(2, oneCall(), "answered after the retransmission at 100 ms");
        assertEquals(1, rpc.retransmittedReplies());
        // no sample: the 150 ms could belong to either copy; once may be a lost datagram: no back-off yet
        assertEquals(100, rpc.rtoMillis(PEER));
        assertEquals(2, oneCall());
        // twice in a row: the 100 ms that proved short doubles
        assertEquals(200, rpc.rtoMillis(PEER));
        assertEquals(1, oneCall(), "answered within the backed-off RTO");
        // now measured: srtt 150, rttvar 75 -> 150 + 300, at most twice the smoothed RTT
        assertEquals(300, rpc.rtoMillis(PEER));
        assertEquals(2, rpc.retransmittedReplies());
    }

    @Test
    void oneAnswerAfterARetransmissionBetweenSamplesIsTakenForALossNotASlowPeer() {
        engine(500, 2);
        delay = 1;
        for (int i = 0; i < 5; i++) {
            oneCall();
        }
        assertEquals(200, rpc.rtoMillis(PEER));
        delay = 250;
        assertEquals(2, oneCall());
        delay = 1;
        assertEquals(1, oneCall());
        delay = 250;
        assertEquals(2, oneCall());
        assertEquals(200, rpc.rtoMillis(PEER), "isolated late answers backed the RTO off");
    }

    @Test
    void quickAnswersToRequestsSentBeforeABackOffDoNotClearIt() {
        engine(100, 3);
        delay = 150;
        assertEquals(2, oneCall()); // the first late answer: no back-off yet
        CompletableFuture<Frame> slow = rpc.call(PEER, new Message.Ping()); // sent again at +100, answered at +150
        long t0 = clock.nowMillis();
        clock.runUntil(t0 + 140);
        delay = 20;
        CompletableFuture<Frame> quick = rpc.call(PEER, new Message.Ping()); // sent at +140, answered at +160
        clock.runUntil(t0 + 170);
        assertTrue(slow.isDone() && quick.isDone());
        assertEquals(200, rpc.rtoMillis(PEER), "the quick answer to a request sent before the back-off cleared it");
        assertEquals(1, oneCall());
        // srtt 20 (two samples of 20 ms), rttvar 7.5: 20 + the 100 ms floor, but at most the configured 100 ms
        assertEquals(100, rpc.rtoMillis(PEER));
    }

    @Test
    void aFirstSampleBelowHalfTheConfiguredTimeoutDoesNotRaiseTheRtoAboveIt() {
        engine(500, 2);
        delay = 200; // RFC 6298 alone: 200 + 4 x 100 = 600
        assertEquals(1, oneCall());
        assertEquals(500, rpc.rtoMillis(PEER));
        delay = 400;
        for (int i = 0; i < 10; i++) {
            oneCall();
        }
        assertTrue(rpc.rtoMillis(PEER) > 500, "a 400 ms peer: " + rpc.rtoMillis(PEER));
    }

    @Test
    void deadPeerIsReportedWithinTheConfiguredBudget() {
        engine(500, 2);
        delay = -1;
        assertEquals(1500, failureTime(), "500 + 1000 ms, as with fixed timeouts");
        // a quick peer (RTO 200 ms) that dies: sent again sooner, but still reported at the budget, not earlier
        delay = 1;
        for (int i = 0; i < 10; i++) {
            oneCall();
        }
        assertEquals(200, rpc.rtoMillis(PEER));
        delay = -1;
        int s0 = sends;
        assertEquals(1500, failureTime());
        assertEquals(2, sends - s0);
        // a back-off (answers only after retransmissions) does not stretch the budget either
        delay = 250;
        oneCall();
        oneCall();
        assertEquals(400, rpc.rtoMillis(PEER));
        delay = -1;
        assertEquals(1500, failureTime());
    }

    @Test
    void peerMeasuredSlowerThanTheBudgetGetsItsOwnRtosBeforeFailing() {
        engine(200, 2);
        delay = 700;
        for (int i = 0; i < 20; i++) {
            oneCall();
        }
        long rto = rpc.rtoMillis(PEER);
        assertTrue(rto > 700, rto + " ms");
        assertEquals(1, oneCall(), "a 700 ms peer answers at the first send once measured");
        delay = -1;
        long t = failureTime();
        assertTrue(t >= 3 * 700 && t <= 3 * RpcEngine.MAX_RTO_MILLIS, "failed after " + t + " ms");
        assertFalse(t == 600);
    }
}
