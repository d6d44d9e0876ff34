package org.p2psip.sip.transaction;

/**
 * Time for the transaction layer: one thread runs all transactions and their timers. {@link EventLoopTimerService}
 * is the real one (a Netty event loop); {@link ManualTimerService} is virtual time for tests and simulations.
 */
public interface TimerService {
    /** A scheduled task that can be called off. */
    interface Cancellable {
        void cancel();
    }

    Cancellable schedule(long delayMillis, Runnable task);

    /** Runs {@code task} on the transaction thread. */
    void execute(Runnable task);

    /** True on the transaction thread. */
    boolean inLoop();

    long nowMillis();
}
