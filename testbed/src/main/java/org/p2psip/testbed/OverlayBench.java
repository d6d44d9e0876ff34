package org.p2psip.testbed;

import io.netty.channel.EventLoopGroup;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.OpTrace;
import org.p2psip.overlay.link.UdpLinkLayer;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.WireCodec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench overlay}: N real overlay nodes on 127.0.0.1 (one UDP socket each, ephemeral ports) in this
 * JVM on a shared event-loop group; M sequential puts then M sequential gets from random nodes.
 */
@Command(name = "overlay", mixinStandardHelpOptions = true,
        description = "N overlay nodes on 127.0.0.1 (real UDP) in one JVM; times M sequential puts and M sequential gets.")
final class OverlayBench implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--nodes", defaultValue = "200", description = "nodes to start (default ${DEFAULT-VALUE})")
    int nodes;

    @Option(names = "--ops", defaultValue = "300", description = "puts, then as many gets (default ${DEFAULT-VALUE})")
    int ops;

    @Option(names = "--threads", defaultValue = "2", description = "event-loop threads shared by all nodes (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--seed", defaultValue = "1", description = "random seed for ids, keys and node choice (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--warmup", defaultValue = "200",
            description = "JIT warm-up puts and gets on other keys before timing; not counted (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--warmup-max", defaultValue = "3000",
            description = "after --warmup, more warm-up rounds of 100 puts and gets until one compiles for at most --jit-quiet-ms"
                    + " (the JIT is done with the paths), up to this many operations in all (default ${DEFAULT-VALUE})")
    int warmupMax;

    @Option(names = "--jit-quiet-ms", defaultValue = "5",
            description = "JIT compilation time in a warm-up round of 100 puts and gets that counts as quiet (default ${DEFAULT-VALUE})")
    int jitQuietMs;

    @Option(names = "--value-size", defaultValue = "100", description = "bytes per value (default ${DEFAULT-VALUE}, as the OpenDHT script)")
    int valueSize;

    @Option(names = "--join-parallel", defaultValue = "16",
            description = "joins in flight at once; the first 2k nodes join one by one (default ${DEFAULT-VALUE})")
    int joinParallel;

    @Option(names = "--op-timeout", defaultValue = "10", description = "seconds before a put or get counts as failed (default ${DEFAULT-VALUE})")
    int opTimeoutSeconds;

    @Option(names = "--gap-ms", defaultValue = "0",
            description = "idle time before each operation, ms (default ${DEFAULT-VALUE}: back to back); see testbed/README.md,"
                    + " \"The p99 tail\"")
    double gapMs;

    @Option(names = "--timeline", description = "write every timed operation as a CSV line to this file: its start (JVM uptime),"
            + " latency, GCs, JIT, and the CPU waits of the event loops and of the bench thread meanwhile")
    java.nio.file.Path timeline;

    @Option(names = "--gc-before-timing", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "collect garbage once between the warm-up and the timed phase, so the timed phase starts with an"
                    + " empty young generation (default on; --no-gc-before-timing leaves it out)")
    boolean gcBeforeTiming;

    @Override
    public Integer call() throws Exception {
        if (nodes < 2 || ops < 1 || threads < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "need --nodes >= 2, --ops >= 1, --threads >= 1");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Random rnd = new Random(seed);
        OverlayConfig cfg = OverlayConfig.defaults().withRateLimit(0, OverlayConfig.SourceKey.ENDPOINT);
        WireCodec codec = new WireCodec();
        EventLoopGroup group = UdpLinkLayer.newEventLoopGroup(threads);
        List<OverlayNode> all = new ArrayList<>(nodes);
        out.printf("overlay bench: %d nodes on 127.0.0.1 (real UDP), %d event-loop threads, seed %d, max heap %s MiB%n",
                nodes, threads, seed, Stats.mb(Stats.maxHeap()));
        out.flush();
        try {
            long t0 = System.nanoTime();
            for (int i = 0; i < nodes; i++) {
                UdpLinkLayer link = UdpLinkLayer.bind(group, new InetSocketAddress("127.0.0.1", 0), cfg.maxDatagramBytes())
                        .get(10, TimeUnit.SECONDS);
                all.add(new OverlayNode(NodeId.random(rnd), link, cfg, new SecretHashPolicy(), codec, new Random(rnd.nextLong())).start());
            }
            long t1 = System.nanoTime();
            out.printf("started %d nodes in %.1f s%n", nodes, (t1 - t0) / 1e9);
            out.flush();
            join(all, cfg, rnd, err);
            long t2 = System.nanoTime();
            int neighbours = 0;
            for (OverlayNode n : all) {
                neighbours += n.status().get(10, TimeUnit.SECONDS).neighbours();
            }
            out.printf("joined %d nodes in %.1f s (%d in flight at once), %.1f neighbours per node on average%n",
                    nodes, (t2 - t1) / 1e9, joinParallel, neighbours / (double) nodes);
            out.printf("heap used after join: %s MiB (after GC)%n", Stats.mb(Stats.usedHeapAfterGc()));
            out.flush();

            loopTasks = findLoopTasks();
            benchTask = ProcReader.open(java.nio.file.Path.of("/proc/thread-self/schedstat"));
            loadavg = ProcReader.open(java.nio.file.Path.of("/proc/loadavg"));
            out.printf("event-loop threads found for scheduler statistics: %d; threads in this JVM: %d Java, %d in all"
                    + " (GC and JIT included)%n", loopTasks.size(),
                    java.lang.management.ManagementFactory.getThreadMXBean().getThreadCount(), osThreads());
            if (warmup > 0) {
                // Compilations during the timed phase take one of the two cores from the event loops and showed
                // in the slowest operations (see testbed/README.md, "The p99 tail"), so warm up until the JIT is quiet.
                long w0 = System.nanoTime();
                Result w = run(all, rnd, warmup, "warmup", err);
                int done = warmup;
                int found = w.found;
                long roundJit = -1;
                while (done < warmupMax) {
                    long j0 = jitMillis();
                    int n = Math.min(100, warmupMax - done);
                    found += run(all, rnd, n, "warmup", err).found;
                    done += n;
                    roundJit = jitMillis() - j0;
                    if (roundJit <= jitQuietMs) {
                        break;
                    }
                }
                out.printf("warm-up (not counted): %d puts + %d gets on other keys, found=%d/%d, JIT time in the last"
                        + " round of 100: %s, %.1f s%n", done, done, found, done,
                        roundJit < 0 ? "not measured" : roundJit + " ms", (System.nanoTime() - w0) / 1e9);
                out.flush();
            }
            if (gcBeforeTiming) {
                // The warm-up leaves the young generation part full; a young collection in the timed phase then
                // stops every node for tens of ms on this machine. One collection now gives the timed phase an
                // empty young generation, larger than its garbage (printed below), as OpenDHT's C++ has no GC.
                System.gc();
                out.printf("one GC before the timed phase (--no-gc-before-timing to leave it out)%n");
            }
            long gc0 = gcCount();
            long gcMs0 = gcMillis();
            long alloc0 = allocatedBytes();
            long r0 = System.nanoTime();
            Result r = run(all, rnd, ops, "bench", err);
            long alloc = allocatedBytes() - alloc0;
            out.printf("timed: %d sequential puts (%d ok) and %d sequential gets in %.1f s; meanwhile %d GCs (%d ms),"
                            + " %s MiB allocated (%.0f KiB per operation)%n",
                    ops, r.putOk, ops, (System.nanoTime() - r0) / 1e9, gcCount() - gc0, gcMillis() - gcMs0,
                    Stats.mb(alloc), alloc / 1024.0 / (2.0 * ops));
            if (timeline != null) {
                writeTimeline(r);
                out.printf("timeline of the timed operations written to %s%n", timeline);
            }
            out.printf("put_ms p50=%s p90=%s p99=%s max=%s%n", Stats.ms(Stats.percentile(r.putMs, 50)),
                    Stats.ms(Stats.percentile(r.putMs, 90)), Stats.ms(Stats.percentile(r.putMs, 99)), Stats.ms(Stats.percentile(r.putMs, 100)));
            out.printf("get_ms p50=%s p90=%s p99=%s max=%s%n", Stats.ms(Stats.percentile(r.getMs, 50)),
                    Stats.ms(Stats.percentile(r.getMs, 90)), Stats.ms(Stats.percentile(r.getMs, 99)), Stats.ms(Stats.percentile(r.getMs, 100)));
            out.printf("to wake-up of the waiting bench thread: put_ms p50=%s p99=%s get_ms p50=%s p99=%s%n",
                    Stats.ms(Stats.percentile(r.putWokeMs, 50)), Stats.ms(Stats.percentile(r.putWokeMs, 99)),
                    Stats.ms(Stats.percentile(r.getWokeMs, 50)), Stats.ms(Stats.percentile(r.getWokeMs, 99)));
            printTail("put", r.puts, out);
            printTail("get", r.gets, out);
            out.printf("heap used at the end: %s MiB (after GC)%n", Stats.mb(Stats.usedHeapAfterGc()));
            out.printf("nodes=%d put_ms p50=%s p99=%s get_ms p50=%s p99=%s found=%d/%d%n", nodes,
                    Stats.ms(Stats.percentile(r.putMs, 50)), Stats.ms(Stats.percentile(r.putMs, 99)),
                    Stats.ms(Stats.percentile(r.getMs, 50)), Stats.ms(Stats.percentile(r.getMs, 99)), r.found, ops);
            out.flush();
            return 0;
        } finally {
            for (OverlayNode n : all) {
                n.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            loopTasks.forEach(ProcReader::close);
            if (benchTask != null) {
                benchTask.close();
            }
            if (loadavg != null) {
                loadavg.close();
            }
        }
    }

    /**
     * Joins every node: the first one alone, the next 2k one by one through a random joined node, then the
     * rest with up to {@code --join-parallel} joins in flight, each through a random node that has joined.
     */
    private void join(List<OverlayNode> all, OverlayConfig cfg, Random rnd, PrintWriter err) throws Exception {
        all.get(0).join(List.of()).get(10, TimeUnit.SECONDS);
        List<OverlayNode> joined = new CopyOnWriteArrayList<>(List.of(all.get(0)));
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        Semaphore slots = new Semaphore(joinParallel);
        AtomicInteger done = new AtomicInteger(1);
        int step = Math.max(1, all.size() / 10);
        int sequential = Math.min(all.size(), 2 * cfg.k());
        for (int i = 1; i < all.size(); i++) {
            OverlayNode n = all.get(i);
            InetSocketAddress via = joined.get(rnd.nextInt(joined.size())).contact().address();
            if (i < sequential) {
                n.join(List.of(via)).get(60, TimeUnit.SECONDS);
                joined.add(n);
                progress(done.incrementAndGet(), step, all.size(), err);
                continue;
            }
            slots.acquire();
            n.join(List.of(via)).whenComplete((x, e) -> {
                if (e != null) {
                    failures.add(e);
                } else {
                    joined.add(n);
                }
                progress(done.incrementAndGet(), step, all.size(), err);
                slots.release();
            });
        }
        if (!slots.tryAcquire(joinParallel, 120, TimeUnit.SECONDS)) {
            throw new TimeoutException("joins did not finish within 120 s");
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException(failures.size() + " nodes failed to join, e.g. " + failures.peek(), failures.peek());
        }
    }

    /** Progress of a phase on stderr every 10 %, so a long run shows it is alive. */
    private static void opProgress(String prefix, String what, int done, int total, PrintWriter err) {
        if (done % Math.max(1, total / 10) == 0 || done == total) {
            err.printf("%s %s %d/%d%n", prefix, what, done, total);
            err.flush();
        }
    }

    private static void progress(int done, int step, int total, PrintWriter err) {
        if (done % step == 0 || done == total) {
            synchronized (err) {
                err.printf("joined %d/%d (%d%%)%n", done, total, 100L * done / total);
                err.flush();
            }
        }
    }

    private static final class Result {
        final double[] putMs;
        final double[] getMs;
        final double[] putWokeMs;
        final double[] getWokeMs;
        final Sample[] puts;
        final Sample[] gets;
        int putOk;
        int found;

        Result(int n) {
            putMs = new double[n];
            getMs = new double[n];
            putWokeMs = new double[n];
            getWokeMs = new double[n];
            puts = new Sample[n];
            gets = new Sample[n];
        }
    }

    /**
     * One timed operation with its structure: the node's {@link OpTrace}, datagrams sent by all nodes, GC and JIT
     * activity during it, and where its time went (queued before the node's thread ran it, on the node, and the
     * wake-up of the waiting bench thread).
     */
    record Sample(double ms, OpTrace trace, long allDatagrams, long gcs, long jitMillis, long wakeNanos,
                  long loopRunNanos, long loopWaitNanos, long loopSlices, double startUptimeMs, long gcMillis,
                  long benchWaitNanos, long runnableMax, double wokeMs) {
        static final Sample FAILED = new Sample(Double.NaN, null, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Double.NaN);
    }

    /** JVM uptime in ms at {@code nanoTime} 0 of this process's clock, so samples line up with -Xlog's uptime. */
    private final double uptimeBaseMs = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime()
            - System.nanoTime() / 1e6;

    /** Readers of the event-loop threads' scheduler statistics (empty elsewhere than Linux). */
    private List<ProcReader> loopTasks = List.of();
    /** The bench thread's own scheduler statistics: its wait for a CPU after the operation completed. */
    private ProcReader benchTask;
    /** {@code /proc/loadavg}: its fourth field counts the runnable threads of the whole machine right now. */
    private ProcReader loadavg;
    private final long[] procFields = new long[5];
    private final java.util.List<java.lang.management.GarbageCollectorMXBean> gcBeans =
            java.lang.management.ManagementFactory.getGarbageCollectorMXBeans();
    private final java.lang.management.CompilationMXBean jitBean = java.lang.management.ManagementFactory.getCompilationMXBean();

    private static List<ProcReader> findLoopTasks() {
        List<ProcReader> out = new ArrayList<>();
        try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/task"))) {
            for (java.nio.file.Path t : (Iterable<java.nio.file.Path>) tasks::iterator) {
                String comm = java.nio.file.Files.readString(t.resolve("comm")).trim();
                if (comm.startsWith("multiThreadIoEv") || comm.startsWith("epollEventLoop")) {
                    ProcReader r = ProcReader.open(t.resolve("schedstat"));
                    if (r != null) {
                        out.add(r);
                    }
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return List.of();
        }
        return out;
    }

    /** Sums of the event-loop threads' /proc schedstat: on-CPU ns, runnable-but-waiting ns, time slices. */
    private long[] loopSchedstat() {
        long[] sum = new long[3];
        for (ProcReader p : loopTasks) {
            if (p.read(procFields)) {
                for (int i = 0; i < 3; i++) {
                    sum[i] += procFields[i];
                }
            }
        }
        return sum;
    }

    /** The bench thread's time runnable but waiting for a CPU so far, ns (0 where unknown). */
    private long benchRunqNanos() {
        return benchTask != null && benchTask.read(procFields) ? procFields[1] : 0;
    }

    /** Runnable threads on the whole machine now (the fourth field of /proc/loadavg), -1 where unknown. */
    private long runnableNow() {
        return loadavg != null && loadavg.read(procFields) ? procFields[3] : -1;
    }

    private static int osThreads() {
        try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/task"))) {
            return (int) tasks.count();
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Bytes allocated by all live threads so far (HotSpot), 0 where unsupported. */
    private static long allocatedBytes() {
        if (java.lang.management.ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                && t.isThreadAllocatedMemorySupported() && t.isThreadAllocatedMemoryEnabled()) {
            long sum = 0;
            for (long b : t.getThreadAllocatedBytes(t.getAllThreadIds())) {
                sum += Math.max(0, b);
            }
            return sum;
        }
        return 0;
    }

    /** One CSV line per timed operation, for correlating slow ones with GC logs and the machine's load. */
    private void writeTimeline(Result r) throws java.io.IOException {
        try (PrintWriter w = new PrintWriter(java.nio.file.Files.newBufferedWriter(timeline))) {
            w.println("op,i,start_uptime_ms,ms,woke_ms,rounds,gcs,gc_ms,jit_ms,queued_us,node_us,wake_us,loops_cpu_us,"
                    + "loops_runq_us,bench_runq_us,runnable_max");
            for (String kind : List.of("put", "get")) {
                Sample[] ss = kind.equals("put") ? r.puts : r.gets;
                for (int i = 0; i < ss.length; i++) {
                    Sample x = ss[i];
                    if (x == null || x.trace() == null) {
                        w.printf("%s,%d,,failed,,,,,,,,,,,,%n", kind, i);
                        continue;
                    }
                    long queued = x.trace().queuedNanos() / 1000;
                    long wake = x.wakeNanos() / 1000;
                    w.printf(java.util.Locale.ROOT, "%s,%d,%.3f,%.3f,%.3f,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d%n", kind, i,
                            x.startUptimeMs(), x.ms(), x.wokeMs(), x.trace().rounds(), x.gcs(), x.gcMillis(), x.jitMillis(), queued,
                            Math.round(x.ms() * 1000) - queued, wake, x.loopRunNanos() / 1000,
                            x.loopWaitNanos() / 1000, x.benchWaitNanos() / 1000, x.runnableMax());
                }
            }
        }
    }

    private static long allDatagramsOut(List<OverlayNode> all) {
        long n = 0;
        for (OverlayNode o : all) {
            n += o.datagramsOut();
        }
        return n;
    }

    private long gcCount() {
        long n = 0;
        for (var gc : gcBeans) {
            n += Math.max(0, gc.getCollectionCount());
        }
        return n;
    }

    /** Accumulated collection time, ms (for G1 the pauses' time, not its concurrent marking). */
    private long gcMillis() {
        long n = 0;
        for (var gc : gcBeans) {
            n += Math.max(0, gc.getCollectionTime());
        }
        return n;
    }

    private long jitMillis() {
        return jitBean != null && jitBean.isCompilationTimeMonitoringSupported() ? jitBean.getTotalCompilationTime() : 0;
    }

    /** Times one operation and collects its structure; {@link Sample#FAILED} when it failed or timed out. */
    private <T> Sample timed(List<OverlayNode> all, java.util.function.Supplier<CompletableFuture<OpTrace.Traced<T>>> op,
                             java.util.function.Predicate<T> ok, String what, PrintWriter err) {
        if (gapMs > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos((long) (gapMs * 1e6));
        }
        long d0 = allDatagramsOut(all);
        long g0 = gcCount();
        long gm0 = gcMillis();
        long j0 = jitMillis();
        long[] k0 = loopSchedstat();
        long b0 = benchRunqNanos();
        long run0 = runnableNow();
        long s = System.nanoTime();
        try {
            OpTrace.Traced<T> t = op.get().get(opTimeoutSeconds, TimeUnit.SECONDS);
            long e = System.nanoTime();
            long b1 = benchRunqNanos();
            long[] k1 = loopSchedstat();
            long runnable = Math.max(run0, runnableNow());
            if (!ok.test(t.result())) {
                err.printf("%s: value not found%n", what);
                return new Sample((e - s) / 1e6, null, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (e - s) / 1e6);
            }
            // The latency ends when the future completed on the node's thread (as OpenDHT's script times to its done
            // callback); the bench thread's own wake-up after that is kept apart (wokeMs, wake_us).
            return new Sample((t.trace().doneNanos() - s) / 1e6, t.trace(), allDatagramsOut(all) - d0, gcCount() - g0,
                    jitMillis() - j0, e - t.trace().doneNanos(), k1[0] - k0[0], k1[1] - k0[1], k1[2] - k0[2],
                    uptimeBaseMs + s / 1e6, gcMillis() - gm0, b1 - b0, runnable, (e - s) / 1e6);
        } catch (Exception e) {
            err.printf("%s failed: %s%n", what, e);
            return Sample.FAILED;
        }
    }

    /**
     * The slowest 1 % of {@code samples} against the middle 20 % (p40..p60), by structure: rounds, queries,
     * stores, stalls, retransmissions, datagrams of all nodes, GCs and JIT time during the operation, and time
     * queued, on the node's thread and in the bench thread's wake-up.
     */
    static void printTail(String what, Sample[] samples, PrintWriter out) {
        List<Sample> ok = new ArrayList<>();
        for (Sample x : samples) {
            if (x != null && x.trace() != null) {
                ok.add(x);
            }
        }
        if (ok.size() < 10) {
            return;
        }
        ok.sort(java.util.Comparator.comparingDouble(Sample::ms));
        int n = ok.size();
        int tail = Math.max(1, (int) Math.ceil(n / 100.0));
        out.printf("%s structure (slowest %d vs p40..p60): rounds queries stores stalls retx timeouts dgrams_node dgrams_all gcs jit_ms | queued_us node_us wake_us | loops: cpu_us runq_wait_us slices | bench_runq_us runnable_max%n",
                what, tail);
        out.println("  p40..p60 mean  " + mean(ok.subList(n * 2 / 5, Math.max(n * 2 / 5 + 1, n * 3 / 5))));
        out.println("  all mean       " + mean(ok));
        out.println("  slowest 10%    " + mean(ok.subList(n - Math.max(1, n / 10), n)));
        for (int i = n - 1; i >= n - tail - 2 && i >= 0; i--) {
            Sample x = ok.get(i);
            OpTrace t = x.trace();
            long nodeUs = Math.round(x.ms() * 1000 - t.queuedNanos() / 1e3);
            out.printf(java.util.Locale.ROOT, "  %s %7.2f ms  %d %d %d %d %d %d %d %d %d %d | %d %d %d | %d %d %d | %d %d%n",
                    i >= n - tail ? "tail" : "next", x.ms(), t.rounds(), t.queries(), t.stores(), t.stalls(),
                    t.retransmissions(), t.timeouts(), t.datagramsOut() + t.datagramsIn(), x.allDatagrams(), x.gcs(),
                    x.jitMillis(), t.queuedNanos() / 1000, nodeUs, x.wakeNanos() / 1000,
                    x.loopRunNanos() / 1000, x.loopWaitNanos() / 1000, x.loopSlices(), x.benchWaitNanos() / 1000, x.runnableMax());
        }
        java.util.Map<Integer, Integer> rounds = new java.util.TreeMap<>();
        java.util.Map<Integer, Integer> tailRounds = new java.util.TreeMap<>();
        for (int i = 0; i < n; i++) {
            rounds.merge(ok.get(i).trace().rounds(), 1, Integer::sum);
            if (i >= n - Math.max(1, n / 10)) {
                tailRounds.merge(ok.get(i).trace().rounds(), 1, Integer::sum);
            }
        }
        out.println("  rounds: all " + rounds + ", slowest 10% " + tailRounds);
        out.flush();
    }

    private static String mean(List<Sample> s) {
        double[] m = new double[18];
        for (Sample x : s) {
            OpTrace t = x.trace();
            double[] v = {x.ms(), t.rounds(), t.queries(), t.stores(), t.stalls(), t.retransmissions(), t.timeouts(),
                    t.datagramsOut() + t.datagramsIn(), x.allDatagrams(), x.gcs(), x.jitMillis(), t.queuedNanos() / 1e3,
                    x.wakeNanos() / 1e3, x.loopRunNanos() / 1e3, x.loopWaitNanos() / 1e3, x.loopSlices(),
                    x.benchWaitNanos() / 1e3, x.runnableMax()};
            for (int i = 0; i < m.length; i++) {
                m[i] += v[i] / s.size();
            }
        }
        double nodeUs = m[0] * 1000 - m[11];
        return String.format(java.util.Locale.ROOT, "%7.2f ms  %.2f %.1f %.1f %.2f %.2f %.2f %.1f %.1f %.2f %.1f | %.0f %.0f %.0f | %.0f %.0f %.1f | %.0f %.1f",
                m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9], m[10], m[11], nodeUs, m[12], m[13], m[14], m[15],
                m[16], m[17]);
    }

    /** {@code m} sequential puts of distinct keys from random nodes, then {@code m} sequential gets of them from other nodes. */
    private Result run(List<OverlayNode> all, Random rnd, int m, String prefix, PrintWriter err) {
        Result r = new Result(m);
        NodeId[] keys = new NodeId[m];
        DhtValue[] values = new DhtValue[m];
        int[] putters = new int[m];
        long expires = System.currentTimeMillis() + 3_600_000L;
        for (int i = 0; i < m; i++) {
            keys[i] = NodeId.ofName(prefix + "-" + seed + "-" + i + "-" + rnd.nextLong());
            byte[] data = new byte[valueSize];
            rnd.nextBytes(data);
            values[i] = SecretHashPolicy.value(Bytes.wrap(data), Bytes.EMPTY, expires);
            putters[i] = rnd.nextInt(all.size());
            OverlayNode writer = all.get(putters[i]);
            NodeId key = keys[i];
            DhtValue value = values[i];
            long s = System.nanoTime();
            Sample x = timed(all, () -> writer.tracePut(key, value), res -> true, prefix + " put " + i, err);
            if (x != Sample.FAILED) {
                r.putOk++;
            }
            r.puts[i] = x;
            r.putMs[i] = x == Sample.FAILED ? (System.nanoTime() - s) / 1e6 : x.ms();
            r.putWokeMs[i] = x == Sample.FAILED ? r.putMs[i] : x.wokeMs();
            opProgress(prefix, "puts", i + 1, m, err);
        }
        for (int i = 0; i < m; i++) {
            int n = rnd.nextInt(all.size() - 1);
            if (n >= putters[i]) {
                n++; // any node but the writer
            }
            OverlayNode reader = all.get(n);
            NodeId key = keys[i];
            DhtValue value = values[i];
            long s = System.nanoTime();
            Sample x = timed(all, () -> reader.traceGet(key), res -> res.contains(value), prefix + " get " + i, err);
            if (x != Sample.FAILED && x.trace() != null) {
                r.found++;
            }
            r.gets[i] = x;
            r.getMs[i] = x == Sample.FAILED ? (System.nanoTime() - s) / 1e6 : x.ms();
            r.getWokeMs[i] = x == Sample.FAILED ? r.getMs[i] : x.wokeMs();
            opProgress(prefix, "gets", i + 1, m, err);
        }
        err.flush();
        return r;
    }
}
