package org.p2psip.overlay;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.p2psip.overlay.runtime.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Background operations (republish, re-replication) run at most {@code maxInFlight} at a time, the next starting
 * when one completes, and at most {@code perSecond} a second, so that a round over tens of thousands of values is
 * spread out instead of sent in one burst. A burst of a 10,000-user SIP peer's records (30,000 values and more, each
 * a lookup and STOREs of several datagrams) would overflow the nodes' receive buffers, or exceed the neighbours' rate
 * limit per source, and make the users' own gets and puts time out. Used on the node's thread only.
 */
final class PacedWork {
    private static final Logger LOG = LoggerFactory.getLogger(PacedWork.class);

    private final String name;
    private final int maxInFlight;
    private final Scheduler scheduler;
    /** Microseconds between two starts (0: no rate limit). */
    private final long intervalMicros;
    private long nextStartMicros;
    private Scheduler.Cancellable wakeUp;
    private final ArrayDeque<Supplier<CompletableFuture<?>>> queue = new ArrayDeque<>();
    private int inFlight;
    private boolean pumping;
    private boolean stopped;

    /**
     * @param perSecond starts per second at most (0: only {@code maxInFlight} bounds them)
     */
    PacedWork(String name, int maxInFlight, int perSecond, Scheduler scheduler) {
        if (maxInFlight < 1 || perSecond < 0) {
            throw new IllegalArgumentException("need maxInFlight >= 1 and perSecond >= 0");
        }
        this.name = name;
        this.maxInFlight = maxInFlight;
        this.scheduler = scheduler;
        this.intervalMicros = perSecond == 0 ? 0 : Math.max(1, 1_000_000L / perSecond);
    }

    /** True when nothing is queued or running: the previous round is done. */
    boolean idle() {
        return queue.isEmpty() && inFlight == 0;
    }

    /** Operations queued and not started yet. */
    int queued() {
        return queue.size();
    }

    /** Queues {@code op}; it starts once fewer than {@code maxInFlight} are running. */
    void add(Supplier<CompletableFuture<?>> op) {
        if (!stopped) {
            queue.add(op);
            pump();
        }
    }

    /** Drops what is queued and starts nothing more (the node stopped). */
    void stop() {
        stopped = true;
        queue.clear();
        if (wakeUp != null) {
            wakeUp.cancel();
        }
    }

    private void pump() {
        if (pumping) {
            return; // an operation that completed at once: the loop below goes on
        }
        pumping = true;
        try {
            while (inFlight < maxInFlight && !queue.isEmpty() && !stopped) {
                if (intervalMicros > 0) {
                    long now = scheduler.nowMillis() * 1000;
                    if (now < nextStartMicros) {
                        if (wakeUp == null) {
                            wakeUp = scheduler.schedule(() -> {
                                wakeUp = null;
                                pump();
                            }, Math.max(1, (nextStartMicros - now + 999) / 1000));
                        }
                        return;
                    }
                    // no credit for idle time beyond one interval: a new round starts at the rate, not in a burst
                    nextStartMicros = Math.max(nextStartMicros, now - intervalMicros) + intervalMicros;
                }
                Supplier<CompletableFuture<?>> op = queue.poll();
                inFlight++;
                CompletableFuture<?> f;
                try {
                    f = op.get();
                } catch (RuntimeException e) {
                    LOG.debug("{}: an operation failed to start: {}", name, e.toString());
                    f = CompletableFuture.failedFuture(e);
                }
                f.whenComplete((x, e) -> {
                    inFlight--;
                    pump();
                });
            }
        } finally {
            pumping = false;
        }
    }
}
