package org.p2psip.overlay.rpc;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.link.RttEstimator;
import org.p2psip.overlay.runtime.Scheduler;
import org.p2psip.overlay.wire.Frame;
import org.p2psip.overlay.wire.Message;

/**
 * Request/reply matching with timeouts and retries. Each request gets a fresh id; a reply counts only
 * if it carries that id and comes from the address the request went to. Used on the node's thread.
 *
 * <p><b>Retransmission timeout per peer</b> (RFC 6298 style): the first retransmission of a request comes after
 * the peer's RTO, the smoothed round trip plus four mean deviations (at least {@link #VARIANCE_FLOOR_MILLIS};
 * but no more than {@code max(attemptTimeout, 2 x srtt)}),
 * within [{@code min(}{@value #MIN_RTO_MILLIS}{@code , attemptTimeout)}, {@code max(}{@value #MAX_RTO_MILLIS}
 * {@code , attemptTimeout)}], and each further one after twice the previous wait. A peer never measured starts at
 * the configured {@code attemptTimeoutMillis}. Only requests answered at their first transmission give samples
 * (Karn's rule); when two requests in a row are answered only after a retransmission, the peer's RTO doubles
 * (back-off, kept until a sample of a request sent under it: one such answer is as likely a lost datagram, and
 * backing off then only delays the next loss recovery), so a peer that slowed down is soon given long enough to yield samples again. So a loaded but
 * alive peer is not sent copies of requests it is still working on, and a lost datagram to a quick peer is sent
 * again sooner than after a fixed timeout.
 *
 * <p><b>When a call fails.</b> A call fails after its last transmission's wait, but never before the configured
 * budget, {@code attemptTimeout x (2^attempts - 1)} (1.5 s by default), has passed since its first transmission:
 * a dead peer is reported no later than before. The budget stretches only for a peer that proved alive but slow
 * (its measured RTO, or a back-off earned by an answer that came after a retransmission or after the call's end,
 * exceeds the configured timeout): to the same number of its RTOs, at most {@code (2^attempts - 1) x}
 * {@value #MAX_RTO_MILLIS} ms. A peer that never answers earns no back-off. An answer that comes after its call
 * failed completes nothing, but backs the RTO off to at least the time it took, so a peer slower than the whole
 * budget still gets measured.
 */
public final class RpcEngine {
    /** Lower bound of a peer's RTO (or the configured first-attempt timeout if lower). */
    public static final long MIN_RTO_MILLIS = 200;
    /** Upper bound of a peer's RTO (or the configured first-attempt timeout if higher). */
    public static final long MAX_RTO_MILLIS = 3_000;
    /** Least margin over the smoothed RTT: samples in whole ms, and a loaded event loop's jitter, need room. */
    static final long VARIANCE_FLOOR_MILLIS = MIN_RTO_MILLIS / 2;
    /** Failed calls remembered for their late answers. */
    private static final int MAX_FAILED_REMEMBERED = 256;
    private static final long FAILED_REMEMBERED_MILLIS = 2 * MAX_RTO_MILLIS;

    private final Scheduler scheduler;
    private final BiConsumer<InetSocketAddress, Frame> sender;
    private final Function<InetSocketAddress, RttEstimator> estimators;
    private final NodeId self;
    private final long attemptTimeoutMillis;
    private final int attempts;
    private final long minRto;
    private final long maxRto;
    private final HashMap<Long, Call> pending = new HashMap<>();
    /**
     * Calls that failed recently, by id, so that an answer coming after the call's end still backs the RTO off;
     * in failure order, at most {@link #MAX_FAILED_REMEMBERED} for {@link #FAILED_REMEMBERED_MILLIS}.
     */
    private final LinkedHashMap<Long, Failed> failed = new LinkedHashMap<>();

    private record Failed(InetSocketAddress to, RttEstimator rtt, long rto, long firstSent, long failedAt) { }
    private long nextId;
    private long timeouts;
    private long retransmissions;
    private long retransmittedReplies;
    /** The round of the reply (or timeout) whose continuations run now; 0 outside them. */
    private int currentRound;
    private Throwable cancelled;

    private final class Call {
        final long id;
        final InetSocketAddress to;
        final Frame frame;
        final CompletableFuture<Frame> future = new CompletableFuture<>();
        final int maxSends;
        /** The call fails at this time (scheduler time); after its last send it waits until then. */
        long deadline;
        /** True: {@link #deadline} was given by the caller; false: it follows from the peer's RTO. */
        final boolean fixedDeadline;
        /** Sequential round trips up to this call's answer: one more than the reply that caused it. */
        final int round = currentRound + 1;
        RttEstimator rtt;
        /** The wait after the first transmission; each retransmission waits twice the previous wait. */
        long rto;
        long firstSent;
        int sent;
        Scheduler.Cancellable timer;

        Call(long id, InetSocketAddress to, Frame frame, int maxSends, long deadline) {
            this.id = id;
            this.to = to;
            this.frame = frame;
            this.maxSends = maxSends;
            this.deadline = deadline;
            this.fixedDeadline = deadline > 0;
        }

        void transmit() {
            sent++;
            sender.accept(to, frame);
            long now = scheduler.nowMillis();
            if (sent == 1) {
                // after the send: the sender opened the link the estimate lives on
                rtt = estimators.apply(to);
                rto = rtoOf(rtt);
                firstSent = now;
                if (!fixedDeadline) {
                    int n = Math.min(maxSends, 16);
                    long slow = rtt == null ? 0 : Math.min(maxRto, Math.max(rtt.measured() ? measuredRto(rtt) : 0,
                            rtt.backedOffMillis()));
                    deadline = now + Math.max(attemptTimeoutMillis, slow) * ((1L << n) - 1);
                }
            }
            long wait = rto << Math.min(sent - 1, 16);
            long left = deadline - now;
            wait = sent >= maxSends ? left : Math.min(wait, left);
            timer = scheduler.schedule(this::expire, Math.max(1, wait));
        }

        void expire() {
            if (pending.get(id) != this) {
                return;
            }
            if (sent < maxSends && scheduler.nowMillis() < deadline) {
                retransmissions++;
                transmit();
                return;
            }
            pending.remove(id);
            timeouts++;
            if (rtt != null) {
                rememberFailed(id, new Failed(to, rtt, rto, firstSent, scheduler.nowMillis()));
            }
            int outer = currentRound;
            currentRound = round;
            try {
                future.completeExceptionally(new RpcTimeoutException(to, frame.message().getClass().getSimpleName(), sent));
            } finally {
                currentRound = outer;
            }
        }
    }

    /**
     * An engine that keeps the peers' round-trip estimates itself (at most 1,024 peers, least recently used
     * dropped).
     *
     * @param attemptTimeoutMillis wait for the first attempt to a peer not yet measured; see the class comment
     * @param attempts sends per request, first one included
     */
    public RpcEngine(Scheduler scheduler, NodeId self, BiConsumer<InetSocketAddress, Frame> sender,
                     long attemptTimeoutMillis, int attempts, Random random) {
        this(scheduler, self, sender, ownEstimates(1024), attemptTimeoutMillis, attempts, random);
    }

    /**
     * @param estimators the round-trip estimate of a peer (kept with its link), or null when there is none: that
     *                   peer's calls wait as for a peer not yet measured
     */
    public RpcEngine(Scheduler scheduler, NodeId self, BiConsumer<InetSocketAddress, Frame> sender,
                     Function<InetSocketAddress, RttEstimator> estimators, long attemptTimeoutMillis, int attempts,
                     Random random) {
        this.scheduler = scheduler;
        this.self = self;
        this.sender = sender;
        this.estimators = estimators;
        this.attemptTimeoutMillis = attemptTimeoutMillis;
        this.attempts = attempts;
        this.minRto = Math.min(MIN_RTO_MILLIS, attemptTimeoutMillis);
        this.maxRto = Math.max(MAX_RTO_MILLIS, attemptTimeoutMillis);
        this.nextId = random.nextLong();
    }

    private static Function<InetSocketAddress, RttEstimator> ownEstimates(int max) {
        LinkedHashMap<InetSocketAddress, RttEstimator> map = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<InetSocketAddress, RttEstimator> eldest) {
                return size() > max;
            }
        };
        return a -> map.computeIfAbsent(a, x -> new RttEstimator());
    }

    private void rememberFailed(long id, Failed f) {
        Iterator<Failed> it = failed.values().iterator();
        while (it.hasNext()) {
            Failed oldest = it.next();
            if (failed.size() < MAX_FAILED_REMEMBERED && oldest.failedAt > f.failedAt - FAILED_REMEMBERED_MILLIS) {
                break;
            }
            it.remove();
        }
        failed.put(id, f);
    }

    /**
     * The RTO from the samples alone: smoothed RTT plus four deviations, clamped. The deviation term may not take
     * it past the configured timeout unless the smoothed RTT is over half of that, nor past twice the smoothed RTT:
     * a peer gets few samples in a large overlay, and RFC 6298's first one alone gives three times the RTT (in a
     * simulated 2,000-node overlay with 10..100 ms one-way delays, that put far peers' first retransmission after
     * the configured 500 ms). Slower peers get there by back-off.
     */
    private long measuredRto(RttEstimator r) {
        double v = r.srttMillis() + Math.max(4 * r.rttvarMillis(), VARIANCE_FLOOR_MILLIS);
        v = Math.min(v, Math.max(attemptTimeoutMillis, 2 * r.srttMillis()));
        return Math.max(minRto, Math.min(maxRto, (long) Math.ceil(v)));
    }

    /** The first wait for a call to the peer of {@code r} (null: never measured). */
    private long rtoOf(RttEstimator r) {
        if (r == null || !r.measured()) {
            return r == null ? attemptTimeoutMillis : Math.min(maxRto, Math.max(attemptTimeoutMillis, r.backedOffMillis()));
        }
        return Math.min(maxRto, Math.max(measuredRto(r), r.backedOffMillis()));
    }

    /** The wait before the first retransmission of a request to {@code to} now (for tests and diagnostics). */
    public long rtoMillis(InetSocketAddress to) {
        return rtoOf(estimators.apply(to));
    }

    /**
     * Sends {@code request} to {@code to}; the future completes on the node's thread. After
     * {@link #cancelAll} it fails at once with the same cause.
     */
    public CompletableFuture<Frame> call(InetSocketAddress to, Message.Request request) {
        return call(to, request, attempts, 0);
    }

    /**
     * Like {@link #call(InetSocketAddress, Message.Request)}, for a request whose answer may take long (a routed
     * request waits for every hop after this one): at most {@code sends} transmissions with the usual doubling
     * waits from the peer's RTO, and the call fails only at {@code deadlineMillis} (scheduler time), not after the
     * last wait; 0: the usual budget.
     */
    public CompletableFuture<Frame> call(InetSocketAddress to, Message.Request request, int sends, long deadlineMillis) {
        if (cancelled != null) {
            return CompletableFuture.failedFuture(cancelled);
        }
        long id = nextId++;
        Call c = new Call(id, to, new Frame(false, id, self, request), Math.max(1, sends), deadlineMillis);
        pending.put(id, c);
        c.transmit();
        return c.future;
    }

    /**
     * Completes the matching call, running {@code beforeComplete} first (so the caller's continuations
     * see its effects); false when the reply matches none (late, duplicate or forged).
     */
    public boolean onReply(InetSocketAddress from, Frame reply, Runnable beforeComplete) {
        Call c = pending.get(reply.requestId());
        if (c == null || !c.to.equals(from)) {
            Failed late = failed.get(reply.requestId());
            if (late != null && late.to.equals(from)) {
                // the peer is alive but answered after the call's end: wait at least that long next time
                failed.remove(reply.requestId());
                retransmittedReplies++;
                late.rtt.backOff(Math.min(maxRto, Math.max(2 * late.rto, scheduler.nowMillis() - late.firstSent)),
                        scheduler.nowMillis());
            }
            return false;
        }
        pending.remove(c.id);
        c.timer.cancel();
        if (c.rtt != null) {
            if (c.sent == 1) {
                c.rtt.sample(scheduler.nowMillis() - c.firstSent, c.firstSent);
            } else {
                // Karn: no sample from a retransmitted request; the wait that proved short doubles if it did so
                // twice in a row (once is as likely a lost datagram: backing off then delays the next recovery)
                retransmittedReplies++;
                if (c.rtt.answeredLateAgain()) {
                    c.rtt.backOff(Math.min(maxRto, 2 * c.rto), scheduler.nowMillis());
                }
            }
        } else if (c.sent > 1) {
            retransmittedReplies++;
        }
        int outer = currentRound;
        currentRound = c.round;
        try {
            beforeComplete.run();
            c.future.complete(reply);
        } finally {
            currentRound = outer;
        }
        return true;
    }

    /**
     * Fails every pending call and every later one, when the node stops. The failures run callers'
     * continuations at once, and those may call again (a lookup asks its next candidate), so the pending
     * calls are taken out of the table before any of them is failed.
     */
    public void cancelAll(Throwable cause) {
        cancelled = cause;
        List<Call> calls = new ArrayList<>(pending.values());
        pending.clear();
        for (Call c : calls) {
            c.timer.cancel();
            c.future.completeExceptionally(cause);
        }
    }

    public int pendingCount() {
        return pending.size();
    }

    public long timeouts() {
        return timeouts;
    }

    /** Requests sent again because an attempt went unanswered. */
    public long retransmissions() {
        return retransmissions;
    }

    /**
     * Replies to requests that had been sent more than once, or that came after the call had failed (those
     * complete nothing): no RTT sample, and the peer's RTO backs off.
     */
    public long retransmittedReplies() {
        return retransmittedReplies;
    }

    /**
     * While a reply's (or a timeout's) continuations run, the number of sequential round trips that led to it:
     * a call made outside any reply is round 1, a call made while round r's reply is handled is round r + 1.
     * An operation that completes inside a reply handler took {@code currentRound()} round trips. 0 elsewhere.
     */
    public int currentRound() {
        return currentRound;
    }
}
