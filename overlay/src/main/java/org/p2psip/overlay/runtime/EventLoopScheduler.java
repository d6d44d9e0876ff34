package org.p2psip.overlay.runtime;

import io.netty.channel.EventLoop;
import java.util.concurrent.TimeUnit;

/** A {@link Scheduler} on a Netty event loop, with the system clock. */
public final class EventLoopScheduler implements Scheduler {
    private final EventLoop loop;

    public EventLoopScheduler(EventLoop loop) {
        this.loop = loop;
    }

    @Override
    public long nowMillis() {
        return System.currentTimeMillis();
    }

    @Override
    public void execute(Runnable task) {
        loop.execute(task);
    }

    @Override
    public Cancellable schedule(Runnable task, long delayMillis) {
        var f = loop.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
        return () -> f.cancel(false);
    }

    @Override
    public boolean inThread() {
        return loop.inEventLoop();
    }
}
