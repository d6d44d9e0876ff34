package org.p2psip.testbed;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;

/** Small helpers shared by the benchmarks. */
final class Stats {
    private Stats() { }

    /** Nearest-rank percentile: the smallest sample with at least p% of the samples at or below it. */
    static double percentile(double[] samples, double p) {
        if (samples.length == 0) {
            return Double.NaN;
        }
        double[] s = samples.clone();
        Arrays.sort(s);
        int rank = (int) Math.ceil(p / 100.0 * s.length);
        return s[Math.max(1, Math.min(s.length, rank)) - 1];
    }

    static String ms(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    static String pct(long ok, long total) {
        return total == 0 ? "n/a" : String.format(Locale.ROOT, "%.2f%%", 100.0 * ok / total);
    }

    /** Heap in use after a few full collections, in bytes. */
    static long usedHeapAfterGc() {
        var mem = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            used = Math.min(used, mem.getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / (1024.0 * 1024.0));
    }

    static long maxHeap() {
        return Runtime.getRuntime().maxMemory();
    }
}
