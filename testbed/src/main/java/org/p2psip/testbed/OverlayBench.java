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

    @Option(names = "--value-size", defaultValue = "100", description = "bytes per value (default ${DEFAULT-VALUE}, as the OpenDHT script)")
    int valueSize;

    @Option(names = "--join-parallel", defaultValue = "16",
            description = "joins in flight at once; the first 2k nodes join one by one (default ${DEFAULT-VALUE})")
    int joinParallel;

    @Option(names = "--op-timeout", defaultValue = "10", description = "seconds before a put or get counts as failed (default ${DEFAULT-VALUE})")
    int opTimeoutSeconds;

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

            if (warmup > 0) {
                long w0 = System.nanoTime();
                Result w = run(all, rnd, warmup, "warmup", err);
                out.printf("warm-up (not counted): %d puts + %d gets on other keys, found=%d/%d, %.1f s%n",
                        warmup, warmup, w.found, warmup, (System.nanoTime() - w0) / 1e9);
                out.flush();
            }
            long r0 = System.nanoTime();
            Result r = run(all, rnd, ops, "bench", err);
            out.printf("timed: %d sequential puts (%d ok) and %d sequential gets in %.1f s%n",
                    ops, r.putOk, ops, (System.nanoTime() - r0) / 1e9);
            out.printf("put_ms p50=%s p90=%s p99=%s max=%s%n", Stats.ms(Stats.percentile(r.putMs, 50)),
                    Stats.ms(Stats.percentile(r.putMs, 90)), Stats.ms(Stats.percentile(r.putMs, 99)), Stats.ms(Stats.percentile(r.putMs, 100)));
            out.printf("get_ms p50=%s p90=%s p99=%s max=%s%n", Stats.ms(Stats.percentile(r.getMs, 50)),
                    Stats.ms(Stats.percentile(r.getMs, 90)), Stats.ms(Stats.percentile(r.getMs, 99)), Stats.ms(Stats.percentile(r.getMs, 100)));
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
        int putOk;
        int found;

        Result(int n) {
            putMs = new double[n];
            getMs = new double[n];
        }
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
            long s = System.nanoTime();
            CompletableFuture<?> f = all.get(putters[i]).put(keys[i], values[i]);
            try {
                f.get(opTimeoutSeconds, TimeUnit.SECONDS);
                r.putOk++;
            } catch (Exception e) {
                err.printf("%s put %d failed: %s%n", prefix, i, e);
            }
            r.putMs[i] = (System.nanoTime() - s) / 1e6;
            opProgress(prefix, "puts", i + 1, m, err);
        }
        for (int i = 0; i < m; i++) {
            int n = rnd.nextInt(all.size() - 1);
            if (n >= putters[i]) {
                n++; // any node but the writer
            }
            long s = System.nanoTime();
            CompletableFuture<List<DhtValue>> f = all.get(n).get(keys[i]);
            try {
                if (f.get(opTimeoutSeconds, TimeUnit.SECONDS).contains(values[i])) {
                    r.found++;
                } else {
                    err.printf("%s get %d: value not found%n", prefix, i);
                }
            } catch (Exception e) {
                err.printf("%s get %d failed: %s%n", prefix, i, e);
            }
            r.getMs[i] = (System.nanoTime() - s) / 1e6;
            opProgress(prefix, "gets", i + 1, m, err);
        }
        err.flush();
        return r;
    }
}
