package org.p2psip.sip.transaction;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.PriorityQueue;

/**
 * Virtual time: tasks run only when {@link #advance} moves the clock past their due time, in due-time order, on the
 * caller's thread. For tests and simulations; not thread-safe.
 */
public final class ManualTimerService implements TimerService {
    private static final class Task implements Cancellable, Comparable<Task> {
        final long due;
        final long seq;
        final Runnable run;
        boolean cancelled;

        Task(long due, long seq, Runnable run) {
            this.due = due;
            this.seq = seq;
            this.run = run;
        }

        @Override
        public void cancel() {
            cancelled = true;
        }

        @Override
        public int compareTo(Task o) {
            return due != o.due ? Long.compare(due, o.due) : Long.compare(seq, o.seq);
        }
    }

    private final PriorityQueue<Task> queue = new PriorityQueue<>();
    private final ArrayDeque<Runnable> immediate = new ArrayDeque<>();
    private long now;
    private long seq;

    @Override
    public Cancellable schedule(long delayMillis, Runnable task) {
        Task t = new Task(now + Math.max(0, delayMillis), seq++, task);
        queue.add(t);
        return t;
    }

    /** Queues {@code task}; it runs at the next {@link #advance} or {@link #runDue}, as on an event loop. */
    @Override
    public void execute(Runnable task) {
        immediate.add(task);
    }

    @Override
    public boolean inLoop() {
        return true;
    }

    @Override
    public long nowMillis() {
        return now;
    }

    /** Moves the clock forward, running every task that falls due, each at its own time. */
    public void advance(Duration d) {
        long until = now + d.toMillis();
        while (true) {
            runImmediate();
            Task t = queue.peek();
            if (t == null || t.due > until) {
                break;
            }
            queue.poll();
            if (!t.cancelled) {
                now = t.due;
                t.run.run();
            }
        }
        now = until;
    }

    /** Runs tasks due now (zero-delay timers). */
    public void runDue() {
        advance(Duration.ZERO);
    }

    /** Scheduled tasks not yet run or cancelled. */
    public int pending() {
        return (int) queue.stream().filter(t -> !t.cancelled).count();
    }

    private void runImmediate() {
        Runnable r;
        while ((r = immediate.poll()) != null) {
            r.run();
        }
    }
}
