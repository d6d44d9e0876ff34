package org.p2psip.testbed;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.PrintWriter;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.p2psip.nat.discovery.FilteringBehavior;
import org.p2psip.nat.discovery.MappingBehavior;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.link.UdpLinkLayer;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.WireCodec;
import org.p2psip.superpeer.SiteNode;
import org.p2psip.superpeer.SitePeer;
import org.p2psip.superpeer.discovery.Ed25519Keys;
import org.p2psip.superpeer.discovery.LanDiscovery;
import org.p2psip.superpeer.discovery.NatInfo;
import org.p2psip.superpeer.discovery.Preference;
import org.p2psip.superpeer.discovery.Role;
import org.p2psip.superpeer.election.ElectionConfig;
import org.p2psip.superpeer.leaf.LeafDht;
import org.p2psip.superpeer.leaf.LeafService;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench election}: a site of N peers on 127.0.0.1 (real UDP, static peer list, default timings: announce every
 * 500 ms, leaf heartbeats every 500 ms) and a bootstrap overlay node, in this JVM. Per run: convergence (start until 2
 * superpeers joined the overlay and every leaf is attached with a standby), records put from leaves, a crash of the
 * superpeer with the most leaves (sockets closed, no goodbye), failover (until each of its leaves has a live primary),
 * refill (until 2 superpeers and every leaf with a standby again), and the records no leaf can read any more.
 */
@Command(name = "election", mixinStandardHelpOptions = true,
        description = "A site of N peers on 127.0.0.1: election convergence, failover after a superpeer crash, records lost.")
final class ElectionBench implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--peers", defaultValue = "10", description = "peers in the site (default ${DEFAULT-VALUE})")
    int peers;

    @Option(names = "--runs", defaultValue = "5", description = "repetitions (default ${DEFAULT-VALUE})")
    int runs;

    @Option(names = "--records", defaultValue = "20", description = "records put before the crash (default ${DEFAULT-VALUE})")
    int records;

    @Option(names = "--warmup-runs", defaultValue = "1",
            description = "runs before the counted ones, so class loading and the JIT do not count (default ${DEFAULT-VALUE})")
    int warmupRuns;

    @Option(names = "--timeout", defaultValue = "60", description = "seconds each phase may take (default ${DEFAULT-VALUE})")
    int timeoutSeconds;

    static final InetAddress LO = InetAddress.getLoopbackAddress();

    @Override
    public Integer call() throws Exception {
        if (peers < 3 || runs < 1 || records < 1 || warmupRuns < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "need --peers >= 3, --runs >= 1, --records >= 1, --warmup-runs >= 0");
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("election bench: %d peers on 127.0.0.1 (real UDP), %d runs, %d records%n", peers, runs, records);
        out.flush();
        for (int w = 0; w < warmupRuns; w++) {
            long[] res = run(runs + w);
            out.printf("warm-up run (not counted): converged %d ms, failover %d ms, refill %d ms%n", res[0], res[1],
                    res[2]);
            out.flush();
        }
        double[] converge = new double[runs];
        double[] failover = new double[runs];
        double[] refill = new double[runs];
        long lost = 0;
        for (int r = 0; r < runs; r++) {
            long[] res = run(r);
            converge[r] = res[0];
            failover[r] = res[1];
            refill[r] = res[2];
            lost += res[3];
            out.printf("run %d: converged %d ms, failover %d ms, refill %d ms, records lost %d/%d%n", r + 1, res[0],
                    res[1], res[2], res[3], records);
            out.flush();
        }
        out.printf("election peers=%d runs=%d converge_ms p50=%s max=%s failover_ms p50=%s max=%s refill_ms p50=%s "
                        + "max=%s records_lost=%d%n", peers, runs, Stats.ms(Stats.percentile(converge, 50)),
                Stats.ms(Stats.percentile(converge, 100)), Stats.ms(Stats.percentile(failover, 50)),
                Stats.ms(Stats.percentile(failover, 100)), Stats.ms(Stats.percentile(refill, 50)),
                Stats.ms(Stats.percentile(refill, 100)), lost);
        return 0;
    }

    /** One run: {convergence ms, failover ms, refill ms, records lost}. */
    private long[] run(int index) throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        OverlayConfig overlay = OverlayConfig.defaults().withRateLimit(0, OverlayConfig.SourceKey.ENDPOINT)
                .withTimeouts(200, 2);
        EventLoopGroup links = UdpLinkLayer.newEventLoopGroup(2);
        EventLoopGroup lan = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        List<SitePeer> site = Collections.synchronizedList(new ArrayList<>());
        OverlayNode boot = null;
        try {
            boot = new OverlayNode(NodeId.random(new Random(index)), UdpLinkLayer.bind(links, new InetSocketAddress(LO, 0),
                    overlay.maxDatagramBytes()).get(10, TimeUnit.SECONDS), overlay, new SecretHashPolicy(),
                    new WireCodec(), new Random(index)).start();
            boot.join(List.of()).get(10, TimeUnit.SECONDS);
            List<InetSocketAddress> disc = new ArrayList<>();
            List<DatagramSocket> holds = new ArrayList<>();
            for (int i = 0; i < peers; i++) {
                DatagramSocket s = new DatagramSocket(0, LO);
                holds.add(s);
                disc.add(new InetSocketAddress(LO, s.getLocalPort()));
            }
            holds.forEach(DatagramSocket::close);
            SitePeer.Config cfg = new SitePeer.Config(SiteNode.Config.defaults(), List.of(boot.contact().address()),
                    overlay, LeafService.Config.defaults(), LeafDht.Config.defaults());
            InetSocketAddress reflexive = new InetSocketAddress(InetAddress.getByName("198.51.100.7"), 40000);
            NatInfo nat = NatInfo.behindNat(MappingBehavior.ENDPOINT_INDEPENDENT,
                    FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT);
            long t0 = System.nanoTime();
            for (int i = 0; i < peers; i++) {
                int cpu = 100 + (900 * i) / peers;
                List<InetSocketAddress> others = new ArrayList<>(disc);
                others.remove(i);
                site.add(SitePeer.start(links, lan, Ed25519Keys.generate(), new InetSocketAddress(LO, 0),
                        a -> new SiteNode.SelfInfo(List.of(a), 24, reflexive, nat, Preference.AUTO, cpu, 1024, 10_000),
                        LanDiscovery.Config.staticOnly(disc.get(i), others), cfg, SecretHashPolicy::new, new WireCodec()));
            }
            until(() -> settled(site, peers), "convergence");
            long converged = ms(t0);

            List<NodeId> keys = new ArrayList<>();
            List<DhtValue> values = new ArrayList<>();
            List<SitePeer> leaves = leaves(site);
            for (int i = 0; i < records; i++) {
                NodeId k = NodeId.ofName("sip:bench" + index + "-" + i + "@example.net");
                DhtValue v = SecretHashPolicy.value(Bytes.utf8("contact " + i), Bytes.EMPTY,
                        System.currentTimeMillis() + 600_000);
                leaves.get(i % leaves.size()).put(k, v).get(timeoutSeconds, TimeUnit.SECONDS);
                keys.add(k);
                values.add(v);
            }
            Map<NodeId, Long> load = leaves.stream().collect(Collectors.groupingBy(
                    l -> l.leafDht().primary().orElseThrow().id(), Collectors.counting()));
            NodeId busiest = Collections.max(load.entrySet(), Map.Entry.comparingByValue()).getKey();
            SitePeer victim = site.stream().filter(p -> p.id().equals(busiest)).findFirst().orElseThrow();
            List<SitePeer> orphans = leaves.stream()
                    .filter(l -> l.leafDht().primary().orElseThrow().id().equals(busiest)).toList();
            long crash = System.nanoTime();
            victim.crash();
            site.remove(victim);
            until(() -> orphans.stream().allMatch(l -> l.role() == Role.SUPERPEER || l.leafDht() != null
                    && l.leafDht().primary().map(p -> !p.id().equals(busiest)).orElse(false)), "failover");
            long failedOver = ms(crash);
            until(() -> settled(site, peers - 1), "refill");
            long refilled = ms(crash);
            long lost = 0;
            List<CompletableFuture<List<DhtValue>>> gets = new ArrayList<>();
            List<SitePeer> now = leaves(site);
            for (int i = 0; i < records; i++) {
                gets.add(now.get(i % now.size()).get(keys.get(i)));
            }
            for (int i = 0; i < records; i++) {
                if (!gets.get(i).get(timeoutSeconds, TimeUnit.SECONDS).contains(values.get(i))) {
                    lost++;
                }
            }
            return new long[] {converged, failedOver, refilled, lost};
        } finally {
            err.printf("run %d: stopping %d peers%n", index + 1, site.size());
            site.forEach(SitePeer::crash);
            if (boot != null) {
                boot.close();
            }
            links.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            lan.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static long ms(long since) {
        return (System.nanoTime() - since) / 1_000_000;
    }

    private static List<SitePeer> leaves(List<SitePeer> site) {
        return List.copyOf(site).stream().filter(p -> p.role() == Role.LEAF && p.leafDht() != null).toList();
    }

    private static boolean settled(List<SitePeer> site, int n) {
        List<SitePeer> all = List.copyOf(site);
        List<NodeId> sps = all.stream().filter(p -> p.role() == Role.SUPERPEER && p.overlayNode() != null
                && p.overlayNode().isJoined()).map(SitePeer::id).toList();
        List<SitePeer> leaves = leaves(all);
        return sps.size() == 2 && leaves.size() == n - 2 && leaves.stream().allMatch(l ->
                l.leafDht().primary().map(r -> sps.contains(r.id())).orElse(false)
                        && l.leafDht().standby().map(r -> sps.contains(r.id())).orElse(false));
    }

    private void until(BooleanSupplier cond, String phase) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (System.nanoTime() < end) {
            if (cond.getAsBoolean()) {
                return;
            }
            Thread.sleep(10);
        }
        throw new IllegalStateException("the " + phase + " phase did not finish within " + timeoutSeconds
                + " s; raise --timeout or look at the log");
    }
}
