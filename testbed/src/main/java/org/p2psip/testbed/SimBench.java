package org.p2psip.testbed;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.sim.SimNetwork;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.WireCodec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench sim}: the real {@link OverlayNode} code on a {@link SimNetwork} in virtual time. Measures
 * lookup hops and correctness against the true k closest live nodes, and get success, optionally under
 * continuous churn.
 */
@Command(name = "sim", mixinStandardHelpOptions = true,
        description = "OverlayNodes on a virtual-time simulated network: lookup hops and correctness, get success, churn.")
final class SimBench implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--nodes", defaultValue = "10000", description = "nodes (default ${DEFAULT-VALUE})")
    int nodes;

    @Option(names = "--ops", defaultValue = "1000", description = "lookups, puts and gets of each phase (default ${DEFAULT-VALUE})")
    int ops;

    @Option(names = "--churn", description = "replace half the nodes every 10 virtual minutes, at a steady rate, while getting")
    boolean churn;

    @Option(names = "--churn-minutes", defaultValue = "20", description = "virtual minutes of churn (default ${DEFAULT-VALUE})")
    int churnMinutes;

    @Option(names = "--churn-gets", defaultValue = "-1", description = "gets spread over the churn (default: 2 x --ops)")
    int churnGets;

    @Option(names = "--seed", defaultValue = "1", description = "random seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--min-latency", defaultValue = "10", description = "one-way latency lower bound, ms (default ${DEFAULT-VALUE})")
    long minLatency;

    @Option(names = "--max-latency", defaultValue = "100", description = "one-way latency upper bound, ms (default ${DEFAULT-VALUE})")
    long maxLatency;

    @Option(names = "--loss", defaultValue = "0", description = "fraction of datagrams lost, 0..1 (default ${DEFAULT-VALUE})")
    double loss;

    @Option(names = "--join-wave", defaultValue = "500",
            description = "most nodes joining at once while the overlay is built; waves double up to this (default ${DEFAULT-VALUE})")
    int joinWave;

    @Option(names = "--settle-seconds", defaultValue = "60", description = "virtual seconds of quiet after building (default ${DEFAULT-VALUE})")
    int settleSeconds;

    @Option(names = "--spacing-ms", defaultValue = "20", description = "virtual ms between operations started in a phase (default ${DEFAULT-VALUE})")
    int spacingMs;

    private static final int JOIN_TRIES = 3;

    private SimNetwork net;
    private Random rnd;
    private OverlayConfig cfg;
    private final WireCodec codec = new WireCodec();
    /** Live nodes that have joined: the ones operations start from and the truth lookups are checked against. */
    private final List<OverlayNode> live = new ArrayList<>();
    /** Nodes with a benchmark operation in flight: churn does not kill them, so no operation loses its requester. */
    private final Map<OverlayNode, Integer> busy = new HashMap<>();
    /** Virtual ms each join under churn took. */
    private final List<Double> joinMs = new ArrayList<>();
    private PrintWriter out;
    private PrintWriter err;

    @Override
    public Integer call() {
        if (nodes < 2 || ops < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "need --nodes >= 2 and --ops >= 1");
        }
        out = spec.commandLine().getOut();
        err = spec.commandLine().getErr();
        net = new SimNetwork(seed, minLatency, maxLatency, loss);
        rnd = new Random(seed + 1);
        cfg = OverlayConfig.defaults().withRateLimit(1024, OverlayConfig.SourceKey.ENDPOINT);
        long wall0 = System.nanoTime();
        out.printf("sim bench: %d nodes, latency %d-%d ms, loss %.3f, k=%d alpha=%d replicas=%d, seed %d, churn %s%n",
                nodes, minLatency, maxLatency, loss, cfg.k(), cfg.alpha(), cfg.replicas(), seed, churn ? "on" : "off");
        out.flush();

        build();
        long vt = net.now() - SimNetwork.EPOCH;
        out.printf("built: %d nodes joined in %.1f s virtual, %.1f s real; heap used %s MiB%n", live.size(), vt / 1e3,
                (System.nanoTime() - wall0) / 1e9, Stats.mb(Stats.usedHeapAfterGc()));
        out.flush();
        net.runFor(settleSeconds * 1000L);

        LookupStats stable = lookups(ops);
        out.printf("lookups (stable, %d): hops p50=%d p90=%d p99=%d max=%d, exact k-closest %s, mean overlap with true k closest %.2f%%,"
                        + " queries per lookup p50=%d%n", stable.n(), stable.hop(50), stable.hop(90), stable.hop(99), stable.hop(100),
                Stats.pct(stable.exact, stable.n()), 100.0 * stable.overlap / Math.max(1, stable.n()), stable.query(50));
        out.flush();

        List<NodeId> keys = new ArrayList<>();
        List<DhtValue> values = new ArrayList<>();
        puts(keys, values);

        GetStats got;
        LookupStats churned = null;
        if (!churn) {
            got = gets(keys, values, ops);
            out.printf("gets (stable): %d/%d found (%s), latency p50=%.0f p99=%.0f ms virtual%n", got.found, got.done,
                    Stats.pct(got.found, got.done), got.ms(50), got.ms(99));
        } else {
            long t0 = System.nanoTime();
            ChurnResult cr = churn(keys, values);
            got = cr.gets;
            churned = cr.lookups;
            out.printf("churn: %d minutes virtual (%.1f s real), %d nodes killed, %d joined (%d joins failed), one replacement every %d ms;"
                            + " %d live at the end%n", churnMinutes, (System.nanoTime() - t0) / 1e9, cr.killed, cr.joined, cr.joinFailures,
                    cr.intervalMs, live.size());
            double[] jm = joinMs.stream().mapToDouble(d -> d).toArray();
            out.printf("joins under churn: p50=%.0f p99=%.0f ms virtual (ping, own-id lookup, then one lookup per bucket)%n",
                    Stats.percentile(jm, 50), Stats.percentile(jm, 99));
            out.printf("gets under churn: %d/%d found (%s), latency p50=%.0f p99=%.0f ms virtual%n", got.found, got.done,
                    Stats.pct(got.found, got.done), got.ms(50), got.ms(99));
            out.printf("lookups under churn (%d): hops p50=%d p99=%d, exact k-closest %s, mean overlap with true k closest %.2f%%"
                            + " (truth taken when each lookup ends, so nodes that joined meanwhile count against it)%n",
                    churned.n(), churned.hop(50), churned.hop(99), Stats.pct(churned.exact, churned.n()),
                    100.0 * churned.overlap / Math.max(1, churned.n()));
        }
        out.printf("network: %d datagrams delivered, %d lost; %.1f s real in all; heap used %s MiB%n", net.delivered(), net.lost(),
                (System.nanoTime() - wall0) / 1e9, Stats.mb(Stats.usedHeapAfterGc()));
        out.printf("sim nodes=%d hops p50=%d p99=%d lookup_correct=%s get_success=%s churn=%s%n", nodes, stable.hop(50),
                stable.hop(99), Stats.pct(stable.exact, stable.n()), Stats.pct(got.found, got.done), churn ? "on" : "off");
        out.flush();
        for (OverlayNode n : live) {
            n.close();
        }
        net.runFor(1);
        return 0;
    }

    private OverlayNode newNode() {
        return new OverlayNode(NodeId.random(rnd), net.newLink(), cfg, new SecretHashPolicy(), codec, new Random(rnd.nextLong())).start();
    }

    /** The first node alone, then waves that double in size up to {@code --join-wave}, each through random joined nodes. */
    private void build() {
        OverlayNode first = newNode();
        net.await(first.join(List.of()), 1_000);
        live.add(first);
        int step = Math.max(1, nodes / 10);
        int nextReport = step;
        long lastReportNanos = System.nanoTime();
        long lastReportDatagrams = net.delivered();
        long lastReportGc = gcMillis();
        int lastReportNodes = live.size();
        while (live.size() < nodes) {
            int wave = Math.min(nodes - live.size(), Math.min(joinWave, live.size()));
            List<OverlayNode> fresh = new ArrayList<>(wave);
            List<CompletableFuture<Integer>> joins = new ArrayList<>(wave);
            for (int i = 0; i < wave; i++) {
                OverlayNode n = newNode();
                fresh.add(n);
                joins.add(joinWithRetry(n, JOIN_TRIES));
            }
            net.await(CompletableFuture.allOf(joins.toArray(CompletableFuture[]::new)), 600_000);
            live.addAll(fresh);
            if (live.size() >= nextReport) {
                // the join cost: real time, datagrams and GC time per joined node since the last report
                long t = System.nanoTime();
                long d = net.delivered();
                long gc = gcMillis();
                int joinedSince = live.size() - lastReportNodes;
                err.printf("joined %d/%d (%d%%) at %.1f s virtual; since the last report %.1f ms real, %.0f datagrams"
                                + " and %.1f ms GC per join%n", live.size(), nodes, 100L * live.size() / nodes,
                        (net.now() - SimNetwork.EPOCH) / 1e3, (t - lastReportNanos) / 1e6 / joinedSince,
                        (d - lastReportDatagrams) / (double) joinedSince, (gc - lastReportGc) / (double) joinedSince);
                lastReportNanos = t;
                lastReportDatagrams = d;
                lastReportGc = gc;
                lastReportNodes = live.size();
                err.flush();
                while (nextReport <= live.size()) {
                    nextReport += step;
                }
            }
        }
    }

    /** Milliseconds spent in garbage collection by this JVM so far. */
    private static long gcMillis() {
        long ms = 0;
        for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
            ms += Math.max(0, gc.getCollectionTime());
        }
        return ms;
    }

    /** Joins through a random live node; with loss a bootstrap's ping can go unanswered, so up to {@code tries} of them. */
    private CompletableFuture<Integer> joinWithRetry(OverlayNode n, int tries) {
        CompletableFuture<Integer> f = n.join(List.of(randomLive().contact().address()));
        return tries <= 1 ? f : f.exceptionallyCompose(e -> joinWithRetry(n, tries - 1));
    }

    private OverlayNode randomLive() {
        return live.get(rnd.nextInt(live.size()));
    }

    private void hold(OverlayNode n) {
        busy.merge(n, 1, Integer::sum);
    }

    private void release(OverlayNode n) {
        busy.computeIfPresent(n, (k, v) -> v == 1 ? null : v - 1);
    }

    /** Hops, exactness and overlap of lookups. */
    private static final class LookupStats {
        final List<Integer> hops = new ArrayList<>();
        final List<Integer> queries = new ArrayList<>();
        int exact;
        double overlap;
        int failed;

        int n() {
            return hops.size();
        }

        int hop(double p) {
            return (int) Stats.percentile(hops.stream().mapToDouble(i -> i).toArray(), p);
        }

        int query(double p) {
            return (int) Stats.percentile(queries.stream().mapToDouble(i -> i).toArray(), p);
        }
    }

    /** Starts a traced lookup of a random target from a random live node; records it against the truth when it ends. */
    private void startLookup(LookupStats s, List<CompletableFuture<?>> pending) {
        OverlayNode from = randomLive();
        NodeId target = NodeId.random(rnd);
        hold(from);
        pending.add(from.traceClosest(target, cfg.k()).whenComplete((t, e) -> {
            release(from);
            if (e != null) {
                s.failed++;
                return;
            }
            Set<NodeId> truth = trueClosest(target, cfg.k());
            int hit = 0;
            for (Contact c : t.closest()) {
                if (truth.contains(c.id())) {
                    hit++;
                }
            }
            s.hops.add(t.hops());
            s.queries.add(t.queries());
            s.overlap += hit / (double) truth.size();
            if (hit == truth.size() && t.closest().size() == truth.size()) {
                s.exact++;
            }
        }));
    }

    private LookupStats lookups(int count) {
        LookupStats s = new LookupStats();
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            startLookup(s, pending);
            net.runFor(spacingMs);
        }
        net.await(CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)), 600_000);
        return s;
    }

    /** The ids of the {@code n} live nodes closest to {@code target}. */
    private Set<NodeId> trueClosest(NodeId target, int n) {
        NodeId[] best = new NodeId[Math.min(n, live.size())];
        int size = 0;
        for (OverlayNode node : live) {
            NodeId id = node.id();
            if (size == best.length && target.compareDistance(id, best[size - 1]) >= 0) {
                continue;
            }
            int i = size == best.length ? size - 1 : size++;
            while (i > 0 && target.compareDistance(id, best[i - 1]) < 0) {
                best[i] = best[i - 1];
                i--;
            }
            best[i] = id;
        }
        return new HashSet<>(List.of(best));
    }

    private void puts(List<NodeId> keys, List<DhtValue> values) {
        long expires = net.now() + 24 * 3_600_000L;
        int[] ok = new int[1];
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (int i = 0; i < ops; i++) {
            NodeId key = NodeId.ofName("sim-" + seed + "-" + i);
            byte[] data = new byte[100];
            rnd.nextBytes(data);
            DhtValue v = SecretHashPolicy.value(Bytes.wrap(data), Bytes.EMPTY, expires);
            OverlayNode from = randomLive();
            hold(from);
            pending.add(from.put(key, v).whenComplete((r, e) -> {
                release(from);
                if (e == null) {
                    ok[0]++;
                    keys.add(key);
                    values.add(v);
                }
            }));
            net.runFor(spacingMs);
        }
        net.await(CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).exceptionally(x -> null), 600_000);
        long extra = 0;
        for (OverlayNode n : live) {
            extra += n.counters().extraCopies();
        }
        out.printf("puts: %d/%d stored; %d copies beyond the replicas (early STOREs to nodes a later answer pushed out)%n",
                ok[0], ops, extra);
        out.flush();
    }

    /** Outcome of gets: how many found the value, how many ended, and their latencies in virtual ms. */
    private static final class GetStats {
        long found;
        long done;
        final List<Double> ms = new ArrayList<>();

        double ms(double p) {
            return Stats.percentile(ms.stream().mapToDouble(d -> d).toArray(), p);
        }
    }

    /** Starts a get of {@code key} from a random live node; counts it in {@code counts} when it ends. */
    private CompletableFuture<?> startGet(NodeId key, DhtValue value, GetStats counts) {
        OverlayNode from = randomLive();
        hold(from);
        long start = net.now();
        return from.get(key).handle((vs, e) -> {
            release(from);
            counts.done++;
            counts.ms.add((double) (net.now() - start));
            if (e == null && vs.contains(value)) {
                counts.found++;
            } else if (counts.done - counts.found <= 10) {
                err.printf("get of %s at %.1f s virtual failed: %s%n", key.shortHex(), (net.now() - SimNetwork.EPOCH) / 1e3,
                        e != null ? e.toString() : "value not found (" + vs.size() + " values)");
                err.flush();
            }
            return null;
        });
    }

    private GetStats gets(List<NodeId> keys, List<DhtValue> values, int count) {
        GetStats counts = new GetStats();
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (int i = 0; i < count && !keys.isEmpty(); i++) {
            int j = i % keys.size();
            pending.add(startGet(keys.get(j), values.get(j), counts));
            net.runFor(spacingMs);
        }
        net.await(CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)), 600_000);
        return counts;
    }

    private record ChurnResult(GetStats gets, LookupStats lookups, int killed, int joined, int joinFailures, long intervalMs) { }

    /**
     * Continuous churn: every {@code 600,000 / (nodes / 2)} ms one random live node (not one with a benchmark
     * operation in flight) is killed and a new node joins through a random live node, so half the nodes are
     * replaced every 10 virtual minutes. Meanwhile gets of the stored values and lookups run at steady rates.
     */
    private ChurnResult churn(List<NodeId> keys, List<DhtValue> values) {
        long duration = churnMinutes * 60_000L;
        long interval = Math.max(1, 600_000L / Math.max(1, nodes / 2));
        int getCount = churnGets >= 0 ? churnGets : 2 * ops;
        long getEvery = Math.max(1, duration / Math.max(1, getCount));
        long lookupEvery = Math.max(1, duration / ops);
        long start = net.now();
        long end = start + duration;
        long nextChurn = start + interval;
        long nextGet = start + getEvery / 2;
        long nextLookup = start + lookupEvery / 2;
        long nextReport = start + 60_000;
        int[] killed = new int[1];
        int[] joined = new int[1];
        int[] joinFailures = new int[1];
        int gets = 0;
        GetStats counts = new GetStats();
        LookupStats ls = new LookupStats();
        List<CompletableFuture<?>> pending = new ArrayList<>();
        while (true) {
            long next = Math.min(nextChurn, Math.min(nextGet, nextLookup));
            if (next >= end) {
                break;
            }
            net.runUntil(next);
            if (next == nextChurn) {
                replaceOne(killed, joined, joinFailures);
                nextChurn += interval;
            }
            if (next == nextGet) {
                if (gets < getCount && !keys.isEmpty()) {
                    int j = rnd.nextInt(keys.size());
                    pending.add(startGet(keys.get(j), values.get(j), counts));
                    gets++;
                }
                nextGet += getEvery;
            }
            if (next == nextLookup) {
                startLookup(ls, pending);
                nextLookup += lookupEvery;
            }
            if (net.now() >= nextReport) {
                err.printf("churn %d/%d min: killed %d, joined %d, live %d, gets %d/%d found%n", (net.now() - start) / 60_000,
                        churnMinutes, killed[0], joined[0], live.size(), counts.found, counts.done);
                err.flush();
                nextReport += 60_000;
            }
        }
        net.runUntil(end);
        net.await(CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)), 600_000);
        return new ChurnResult(counts, ls, killed[0], joined[0], joinFailures[0], interval);
    }

    private void replaceOne(int[] killed, int[] joined, int[] joinFailures) {
        for (int tries = 0; tries < 100 && live.size() > 1; tries++) {
            int i = rnd.nextInt(live.size());
            OverlayNode victim = live.get(i);
            if (busy.containsKey(victim)) {
                continue;
            }
            live.set(i, live.get(live.size() - 1));
            live.remove(live.size() - 1);
            victim.close();
            killed[0]++;
            break;
        }
        OverlayNode n = newNode();
        long start = net.now();
        joinWithRetry(n, JOIN_TRIES).whenComplete((x, e) -> {
            if (e == null) {
                joinMs.add((double) (net.now() - start));
                live.add(n);
                joined[0]++;
            } else {
                joinFailures[0]++;
                n.close();
            }
        });
    }
}
