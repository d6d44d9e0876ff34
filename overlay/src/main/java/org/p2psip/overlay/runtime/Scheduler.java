package org.p2psip.overlay.runtime;

/**
 * The single thread a node's state lives on, and its clock. A node touches its routing table, store and
 * pending calls only from tasks run here, so none of them needs a lock. Real nodes run on a Netty event
 * loop; simulated nodes run in virtual time, which lets the same code be tested with 10,000 nodes.
 */
public interface Scheduler {
    /** Wall-clock time in epoch milliseconds (virtual in a simulation). */
    long nowMillis();

    /** Runs {@code task} on the node's thread, soon. */
    void execute(Runnable task);

    /** Runs {@code task} on the node's thread after {@code delayMillis}. */
    Cancellable schedule(Runnable task, long delayMillis);

    /** True when the caller already runs on the node's thread. */
    boolean inThread();

    /** A scheduled task that may still be cancelled. */
    interface Cancellable {
        void cancel();
    }
}
