package org.p2psip.nat.lab;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Drains a spawned process's output on a daemon thread (so a chatty daemon never blocks on a full pipe), keeps its
 * last lines for diagnostics, and lets a caller wait for a line.
 */
final class ProcessLog {
    private static final int KEEP = 400;

    private final Process process;
    private final Deque<String> lines = new ArrayDeque<>();
    private long total;
    private boolean ended;

    ProcessLog(Process process, String name) {
        this.process = process;
        Thread t = new Thread(this::drain, "natlab-log-" + name);
        t.setDaemon(true);
        t.start();
    }

    private void drain() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                synchronized (this) {
                    lines.addLast(line);
                    total++;
                    if (lines.size() > KEEP) {
                        lines.removeFirst();
                    }
                    notifyAll();
                }
            }
        } catch (IOException ignored) {
            // process gone
        } finally {
            synchronized (this) {
                ended = true;
                notifyAll();
            }
        }
    }

    /** The last lines (at most 400). */
    synchronized List<String> lines() {
        return new ArrayList<>(lines);
    }

    /**
     * Waits for a line matching {@code match}; fails with the output so far when the process ends, a line matches
     * {@code failure}, or the timeout passes.
     */
    String await(Predicate<String> match, Predicate<String> failure, int timeoutSeconds, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        synchronized (this) {
            while (true) {
                for (String l : lines) {
                    if (failure.test(l)) {
                        throw new LabException(what + " failed: '" + l + "'; its output:\n" + String.join("\n", lines));
                    }
                    if (match.test(l)) {
                        return l;
                    }
                }
                long left = deadline - System.nanoTime();
                if (ended || left <= 0) {
                    throw new LabException(what + (ended ? " ended" : " did not get ready within " + timeoutSeconds
                            + " s") + "; its output:\n" + String.join("\n", lines));
                }
                try {
                    wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new LabException("interrupted while waiting for " + what);
                }
            }
        }
    }
}
