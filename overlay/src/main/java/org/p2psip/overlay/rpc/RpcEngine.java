package org.p2psip.overlay.rpc;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.runtime.Scheduler;
import org.p2psip.overlay.wire.Frame;
import org.p2psip.overlay.wire.Message;

/**
 * Request/reply matching with timeouts and retries. Each request gets a fresh id; a reply counts only
 * if it carries that id and comes from the address the request went to. Used on the node's thread.
 */
public final class RpcEngine {
    private final Scheduler scheduler;
    private final BiConsumer<InetSocketAddress, Frame> sender;
    private final NodeId self;
    private final long attemptTimeoutMillis;
    private final int attempts;
    private final HashMap<Long, Call> pending = new HashMap<>();
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
        /** 0: none; else the call fails at this time, and after its last send it waits until then. */
        final long deadline;
        /** Sequential round trips up to this call's answer: one more than the reply that caused it. */
        final int round = currentRound + 1;
        int sent;
        Scheduler.Cancellable timer;

        Call(long id, InetSocketAddress to, Frame frame, int maxSends, long deadline) {
            this.id = id;
            this.to = to;
            this.frame = frame;
            this.maxSends = maxSends;
            this.deadline = deadline;
        }

        void transmit() {
            sent++;
            sender.accept(to, frame);
            long wait = attemptTimeoutMillis << Math.min(sent - 1, 16);
            if (deadline > 0) {
                long left = deadline - scheduler.nowMillis();
                wait = sent >= maxSends ? left : Math.min(wait, left);
            }
            timer = scheduler.schedule(this::expire, Math.max(1, wait));
        }

        void expire() {
            if (pending.get(id) != this) {
                return;
            }
            if (sent < maxSends && (deadline <= 0 || scheduler.nowMillis() < deadline)) {
                retransmissions++;
                transmit();
                return;
            }
            pending.remove(id);
            timeouts++;
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
     * @param attemptTimeoutMillis wait for the first attempt; each retry waits twice as long
     * @param attempts sends per request, first one included
     */
    public RpcEngine(Scheduler scheduler, NodeId self, BiConsumer<InetSocketAddress, Frame> sender,
                     long attemptTimeoutMillis, int attempts, Random random) {
        this.scheduler = scheduler;
        this.self = self;
        this.sender = sender;
        this.attemptTimeoutMillis = attemptTimeoutMillis;
        this.attempts = attempts;
        this.nextId = random.nextLong();
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
     * waits, and the call fails only at {@code deadlineMillis} (scheduler time), not after the last wait.
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
            return false;
        }
        pending.remove(c.id);
        c.timer.cancel();
        if (c.sent > 1) {
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

    /** Replies to requests that had been sent more than once. */
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
