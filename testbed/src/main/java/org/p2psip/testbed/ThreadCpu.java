package org.p2psip.testbed;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * This JVM's CPU time per thread between two calls of {@link #next}: shows which thread a bench round saturates (one
 * at most a core's worth while the process as a whole has CPU to spare means that thread is the bottleneck, not the
 * total work). Threads are told apart by name; thread pools' workers each count on their own.
 */
final class ThreadCpu {
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final Map<Long, Long> last = new HashMap<>();
    private final int top;

    /** @param top how many of the busiest threads a line names */
    ThreadCpu(int top) {
        this.top = top;
        if (threads.isThreadCpuTimeSupported() && !threads.isThreadCpuTimeEnabled()) {
            threads.setThreadCpuTimeEnabled(true);
        }
        snapshot(new HashMap<>());
    }

    private record Busy(String name, long nanos) { }

    /**
     * The busiest threads since the previous call: per thread its CPU per scenario (of {@code scenarios}) and its share
     * of one core over {@code seconds}; empty when this JVM does not measure thread CPU time.
     */
    String next(long scenarios, double seconds) {
        if (!threads.isThreadCpuTimeSupported()) {
            return "";
        }
        Map<Long, String> names = new HashMap<>();
        Map<Long, Long> now = new HashMap<>();
        for (ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (t != null) {
                names.put(t.getThreadId(), t.getThreadName());
            }
        }
        snapshot(now);
        List<Busy> busy = new ArrayList<>();
        now.forEach((id, nanos) -> {
            long delta = nanos - last.getOrDefault(id, 0L);
            if (delta > 0 && names.containsKey(id)) {
                busy.add(new Busy(names.get(id), delta));
            }
        });
        last.clear();
        last.putAll(now);
        busy.sort((a, b) -> Long.compare(b.nanos(), a.nanos()));
        StringBuilder b = new StringBuilder();
        for (Busy t : busy.subList(0, Math.min(top, busy.size()))) {
            if (!b.isEmpty()) {
                b.append(", ");
            }
            b.append(String.format("%s %.0f us (%.0f %%)", t.name(), t.nanos() / 1e3 / Math.max(1, scenarios),
                    100.0 * t.nanos() / 1e9 / Math.max(seconds, 1e-3)));
        }
        return b.toString();
    }

    private void snapshot(Map<Long, Long> into) {
        if (!threads.isThreadCpuTimeSupported()) {
            return;
        }
        for (long id : threads.getAllThreadIds()) {
            long t = threads.getThreadCpuTime(id);
            if (t >= 0) {
                into.put(id, t);
            }
        }
    }
}
