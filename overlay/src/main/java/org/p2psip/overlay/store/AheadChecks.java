package org.p2psip.overlay.store;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Store and remove requests whose value-only checks ({@link StoragePolicy#precheckPut}: for signed records, parsing
 * and verifying the signature) run on a worker executor instead of the node's thread, and come back to that thread
 * in arrival order to be applied.
 *
 * <p>Why: verifying a record costs about a hundred microseconds. On the node's thread every ping, lookup and get
 * queued behind it waits, a flood of forged records holds up every other peer, and nodes that share one event loop
 * (a benchmark, an embedded peer) queue behind each other's verifications while the other cores idle. Applying in
 * arrival order keeps what a writer's put-then-remove means, whatever order the checks finish in.
 *
 * <p>Bounded: past {@code maxPending} waiting requests {@link #submit} refuses, and the node answers
 * {@code AGAIN}. Everything but the check itself runs on the node's thread.
 */
public final class AheadChecks {
    /** One waiting request; its fields are touched on the node's thread only. */
    private static final class Pending {
        final Consumer<StoragePolicy.Decision> apply;
        boolean ready;
        StoragePolicy.Decision refusal;

        Pending(Consumer<StoragePolicy.Decision> apply) {
            this.apply = apply;
        }
    }

    private final Executor workers;
    private final Executor nodeThread;
    private final int maxPending;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong shed = new AtomicLong();

    /**
     * @param workers    runs the checks (shared by any number of nodes)
     * @param nodeThread the node's own thread, where requests are applied
     * @param maxPending requests waiting at most; more are refused
     */
    public AheadChecks(Executor workers, Executor nodeThread, int maxPending) {
        if (maxPending < 1) {
            throw new IllegalArgumentException("maxPending must be positive: " + maxPending);
        }
        this.workers = workers;
        this.nodeThread = nodeThread;
        this.maxPending = maxPending;
    }

    /**
     * Runs {@code check} on the workers, then {@code apply} on the node's thread with the check's refusal (null
     * when the check found nothing wrong, failed, or could not run: the store's own checks then decide), after
     * every request submitted before it. Call on the node's thread.
     *
     * @return false, counted, when {@code maxPending} requests already wait; nothing is run then
     */
    public boolean submit(Supplier<StoragePolicy.Decision> check, Consumer<StoragePolicy.Decision> apply) {
        if (pending.size() >= maxPending) {
            shed.incrementAndGet();
            return false;
        }
        Pending p = new Pending(apply);
        pending.add(p);
        try {
            workers.execute(() -> {
                StoragePolicy.Decision d;
                try {
                    d = check.get();
                } catch (RuntimeException e) {
                    d = null; // the store's checkPut meets the same input on the node's thread and answers for it
                }
                StoragePolicy.Decision refusal = d == null || d.accepted() ? null : d;
                try {
                    nodeThread.execute(() -> {
                        p.ready = true;
                        p.refusal = refusal;
                        drain();
                    });
                } catch (RejectedExecutionException closed) {
                    // the node is shutting down: nobody is left to answer
                }
            });
        } catch (RejectedExecutionException e) {
            p.ready = true; // workers shut down: the store checks it all on the node's thread
            drain();
        }
        return true;
    }

    /**
     * Applies a request that has nothing to check ahead ({@link StoragePolicy#checksAhead} false): at once when no
     * request waits, else after those submitted before it, with no thread hand-off either way. Call on the node's
     * thread.
     *
     * @return false, counted, when {@code maxPending} requests already wait; nothing is run then
     */
    public boolean applyInOrder(Consumer<StoragePolicy.Decision> apply) {
        if (pending.isEmpty()) {
            applied.incrementAndGet();
            apply.accept(null);
            return true;
        }
        if (pending.size() >= maxPending) {
            shed.incrementAndGet();
            return false;
        }
        Pending p = new Pending(apply);
        p.ready = true;
        pending.add(p);
        return true;
    }

    /**
     * A pool of {@code threads} daemon threads named {@code name-N} for the checks, with an unbounded queue (each
     * node bounds its own waiting requests). The caller shuts it down.
     */
    public static java.util.concurrent.ExecutorService newWorkers(String name, int threads) {
        AtomicLong n = new AtomicLong();
        return java.util.concurrent.Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    private void drain() {
        while (!pending.isEmpty() && pending.peek().ready) {
            Pending p = pending.poll();
            applied.incrementAndGet();
            p.apply.accept(p.refusal);
        }
    }

    /** Requests waiting for their check or for an earlier one. Node thread. */
    public int pending() {
        return pending.size();
    }

    /** Requests applied after their check. Any thread. */
    public long applied() {
        return applied.get();
    }

    /** Requests refused because {@code maxPending} were waiting. Any thread. */
    public long shed() {
        return shed.get();
    }
}
