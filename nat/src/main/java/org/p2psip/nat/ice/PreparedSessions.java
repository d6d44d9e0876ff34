package org.p2psip.nat.ice;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one ICE session ready for the next setup, in either role. {@link IceLinks} prepares {@link IceSession}s whose
 * server-reflexive and port-mapped candidates are already gathered ({@link IceSession#prepareAhead}), so the Attach
 * (or its answer) carries them and the peer's checks can start at once; without one the peer learnt them a STUN round
 * trip and a trickle later.
 *
 * <p>Rules: nothing is prepared before the first {@link #take} (a node that never sets up an ICE link keeps no agent
 * and sends no STUN); the next one is prepared in the background when a setup ends ({@link #replenish}), not while it
 * runs, so that preparing (an agent, a STUN round trip, a port mapping) does not compete with the setup's own
 * gathering and checks (in a cold JVM on a loaded machine it delayed a trickled server-reflexive candidate enough
 * for a relayed pair to win); the ready one is replaced by a fresh one every half of {@code maxAgeMillis}, so the NAT
 * bindings its candidates describe are recent, and one older than {@code maxAgeMillis} is never handed out; after
 * {@code idleMillis} without a take the ready one is freed and preparing stops until the next take. A take that finds
 * none ready returns null (the setup gathers its own).
 *
 * @param <S> the session type ({@link IceSession}; tests use a plain object)
 */
final class PreparedSessions<S> implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PreparedSessions.class);

    /** One prepared session and when its preparation ended. */
    private record Ready<S>(S session, long preparedMillis) {
    }

    private final Supplier<S> factory;
    private final Consumer<S> free;
    private final Executor executor;
    private final LongSupplier clock;
    private final long maxAgeMillis;
    private final long idleMillis;
    private final AtomicReference<Ready<S>> ready = new AtomicReference<>();
    private final AtomicBoolean preparing = new AtomicBoolean();
    private final ScheduledFuture<?> refresher;
    private volatile long lastTake = -1;
    private volatile boolean closed;
    private volatile boolean failedBefore;

    /**
     * @param factory opens a session and prepares it (blocking: a STUN round trip, a port mapping); may throw
     * @param free    frees a session that was not handed out
     * @param clock   milliseconds, e.g. {@code System::currentTimeMillis}
     */
    PreparedSessions(Supplier<S> factory, Consumer<S> free, Executor executor, ScheduledExecutorService timer,
            LongSupplier clock, long maxAgeMillis, long idleMillis) {
        if (maxAgeMillis < 2 || idleMillis < 1) {
            throw new IllegalArgumentException("need maxAgeMillis >= 2 and idleMillis >= 1");
        }
        this.factory = factory;
        this.free = free;
        this.executor = executor;
        this.clock = clock;
        this.maxAgeMillis = maxAgeMillis;
        this.idleMillis = idleMillis;
        long period = maxAgeMillis / 2;
        this.refresher = timer.scheduleWithFixedDelay(this::refresh, period, period, TimeUnit.MILLISECONDS);
    }

    /**
     * The ready session (then owned by the caller), or null when none is ready or it is too old. Call
     * {@link #replenish} when the setup ends.
     */
    S take() {
        lastTake = clock.getAsLong();
        Ready<S> r = ready.getAndSet(null);
        if (r == null) {
            return null;
        }
        if (clock.getAsLong() - r.preparedMillis() > maxAgeMillis) {
            free.accept(r.session());
            return null;
        }
        return r.session();
    }

    /** A setup that took (or tried to take) a session ended: prepares the next one, unless one is ready. */
    void replenish() {
        if (lastTake >= 0 && ready.get() == null) {
            prepare();
        }
    }

    /**
     * Frees the ready session, if any: the settings it was gathered with changed (e.g. a relay found later). The next
     * {@link #replenish} or refresh prepares one with the new settings; a preparation already running may still hand
     * in one with the old settings, which the refresh replaces within half the maximum age.
     */
    void discard() {
        Ready<S> r = ready.getAndSet(null);
        if (r != null) {
            free.accept(r.session());
        }
    }

    /** Whether a session is ready now (for tests and status). */
    boolean hasReady() {
        return ready.get() != null;
    }

    /** On the timer: replaces a ready session half its maximum age old; frees it and stops when idle. */
    void refresh() {
        if (closed || lastTake < 0) {
            return;
        }
        long now = clock.getAsLong();
        if (now - lastTake >= idleMillis) {
            Ready<S> r = ready.getAndSet(null);
            if (r != null) {
                LOG.debug("no ICE setup for {} ms: the prepared agent is freed until the next one", now - lastTake);
                free.accept(r.session());
            }
            return;
        }
        Ready<S> r = ready.get();
        if (r == null || now - r.preparedMillis() >= maxAgeMillis / 2) {
            prepare();
        }
    }

    /** Prepares a session in the background, which replaces (and frees) the ready one. */
    private void prepare() {
        if (closed || !preparing.compareAndSet(false, true)) {
            return;
        }
        try {
            executor.execute(() -> {
                try {
                    S s = factory.get();
                    Ready<S> old = ready.getAndSet(new Ready<>(s, clock.getAsLong()));
                    if (old != null) {
                        free.accept(old.session());
                    }
                    if (closed) {
                        Ready<S> left = ready.getAndSet(null);
                        if (left != null) {
                            free.accept(left.session());
                        }
                    }
                    failedBefore = false;
                } catch (RuntimeException e) {
                    if (!failedBefore) {
                        LOG.info("preparing an ICE agent ahead failed (setups gather their own meanwhile): {}",
                                e.toString());
                    }
                    failedBefore = true;
                } finally {
                    preparing.set(false);
                }
            });
        } catch (RejectedExecutionException e) {
            preparing.set(false);
        }
    }

    /** Frees the ready session and stops preparing. */
    @Override
    public void close() {
        closed = true;
        refresher.cancel(false);
        Ready<S> r = ready.getAndSet(null);
        if (r != null) {
            free.accept(r.session());
        }
    }
}
