package org.p2psip.sip.transaction;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** Transaction time on one Netty event loop (its thread runs every transaction and timer). */
public final class EventLoopTimerService implements TimerService {
    private final EventExecutor loop;

    public EventLoopTimerService(EventExecutor loop) {
        this.loop = loop;
    }

    @Override
    public Cancellable schedule(long delayMillis, Runnable task) {
        ScheduledFuture<?> f = loop.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
        return () -> f.cancel(false);
    }

    @Override
    public void execute(Runnable task) {
        loop.execute(task);
    }

    @Override
    public boolean inLoop() {
        return loop.inEventLoop();
    }

    @Override
    public long nowMillis() {
        return System.nanoTime() / 1_000_000;
    }
}
