package org.p2psip.overlay.rpc;

import java.util.PriorityQueue;
import org.p2psip.overlay.runtime.Scheduler;

/** A single-threaded virtual-time scheduler for RPC engine tests: timers run in time order as the test advances. */
final class VirtualClock implements Scheduler {
    private record Task(long at, long seq, Runnable run, boolean[] cancelled) { }

    private final PriorityQueue<Task> queue = new PriorityQueue<>((a, b) -> a.at != b.at ? Long.compare(a.at, b.at)
            : Long.compare(a.seq, b.seq));
    private long now;
    private long seq;

    @Override
    public long nowMillis() {
        return now;
    }

    @Override
    public void execute(Runnable task) {
        task.run();
    }

    @Override
    public Cancellable schedule(Runnable task, long delayMillis) {
        boolean[] cancelled = new boolean[1];
        queue.add(new Task(now + Math.max(0, delayMillis), seq++, task, cancelled));
        return () -> cancelled[0] = true;
    }

    @Override
    public boolean inThread() {
        return true;
    }

    /** Runs every timer due until {@code time}, then sets the clock there. */
    void runUntil(long time) {
        while (!queue.isEmpty() && queue.peek().at <= time) {
            Task t = queue.poll();
            now = t.at;
            if (!t.cancelled[0]) {
                t.run.run();
            }
        }
        now = Math.max(now, time);
    }
}
