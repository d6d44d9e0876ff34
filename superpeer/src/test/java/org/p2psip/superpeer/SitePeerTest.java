package org.p2psip.superpeer;

import static org.p2psip.testing.Waits.await;
import static org.p2psip.testing.Waits.until;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.p2psip.nat.discovery.FilteringBehavior;
import org.p2psip.nat.discovery.MappingBehavior;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.ValueEvent;
import org.p2psip.overlay.link.UdpLinkLayer;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.WireCodec;
import org.p2psip.superpeer.discovery.Ed25519Keys;
import org.p2psip.superpeer.discovery.LanDiscovery;
import org.p2psip.superpeer.discovery.NatInfo;
import org.p2psip.superpeer.discovery.Preference;
import org.p2psip.superpeer.discovery.Role;
import org.p2psip.superpeer.election.ElectionConfig;
import org.p2psip.superpeer.leaf.LeafDht;
import org.p2psip.superpeer.leaf.LeafService;

/**
 * The whole site on 127.0.0.1 with real sockets: a public bootstrap overlay node and five site peers (static peer
 * list). The election seats two superpeers, which join the overlay; the three leaves attach with a standby; leaves
 * exchange records through the {@code Dht} API. A superpeer crashes: its leaves are served again, the election seats
 * a former leaf, which joins the overlay and serves leaves, and no record is lost; the same after a graceful stop.
 */
class SitePeerTest {
    static final InetAddress LO = InetAddress.getLoopbackAddress();
    static final OverlayConfig OVERLAY = OverlayConfig.defaults().withRateLimit(0, OverlayConfig.SourceKey.ENDPOINT)
            .withTimeouts(200, 2);
    final EventLoopGroup group = UdpLinkLayer.newEventLoopGroup(2);
    final EventLoopGroup lan = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    final List<SitePeer> peers = new CopyOnWriteArrayList<>();
    OverlayNode bootstrap;

    @AfterEach
    void tearDown() {
        peers.forEach(SitePeer::crash);
        if (bootstrap != null) {
            bootstrap.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        lan.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    List<SitePeer> superpeers() {
        return peers.stream().filter(p -> p.role() == Role.SUPERPEER && p.overlayNode() != null
                && p.overlayNode().isJoined()).toList();
    }

    List<SitePeer> leaves() {
        return peers.stream().filter(p -> p.role() == Role.LEAF).toList();
    }

    boolean settled(int n) {
        List<SitePeer> sps = superpeers();
        if (sps.size() != 2 || leaves().size() != n - 2) {
            return false;
        }
        List<NodeId> spIds = sps.stream().map(SitePeer::id).toList();
        return leaves().stream().allMatch(l -> l.leafDht() != null
                && l.leafDht().primary().map(r -> spIds.contains(r.id())).orElse(false)
                && l.leafDht().standby().map(r -> spIds.contains(r.id())).orElse(false));
    }

    /** Every peer reads every record (the gets run in parallel: lookups may wait for a dead node's timeouts). */
    void assertAllReadable(List<NodeId> keys, List<DhtValue> values, String when) {
        List<CompletableFuture<List<DhtValue>>> gets = new ArrayList<>();
        for (SitePeer p : peers) {
            for (NodeId k : keys) {
                gets.add(p.get(k));
            }
        }
        for (int j = 0; j < gets.size(); j++) {
            assertEquals(List.of(values.get(j % keys.size())), await(gets.get(j)), "record " + (j % keys.size())
                    + " at peer " + (j / keys.size()) + " " + when);
        }
    }

    @Test
    void siteElectsServesAndHealsAfterACrash() throws Exception {
        bootstrap = new OverlayNode(NodeId.random(new Random(1)),
                await(UdpLinkLayer.bind(group, new InetSocketAddress(LO, 0), OVERLAY.maxDatagramBytes())), OVERLAY,
                new SecretHashPolicy(), new WireCodec(), new Random(2)).start();
        await(bootstrap.join(List.of()));
        int n = 5;
        List<Integer> ports = SiteDiscoveryTest.freePorts(n);
        List<InetSocketAddress> all = ports.stream().map(p -> new InetSocketAddress(LO, p)).toList();
        SiteNode.Config siteCfg = SiteNode.Config.defaults(); // 500 ms: a 200 ms interval flapped on a loaded machine
        SitePeer.Config cfg = new SitePeer.Config(siteCfg, List.of(bootstrap.contact().address()), OVERLAY,
                LeafService.Config.defaults(), LeafDht.Config.defaults());
        InetSocketAddress reflexive = new InetSocketAddress(InetAddress.getByName("198.51.100.7"), 40000);
        NatInfo nat = NatInfo.behindNat(MappingBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            int cpu = 100 + 200 * i;
            List<InetSocketAddress> others = new ArrayList<>(all);
            others.remove(i);
            peers.add(SitePeer.start(group, lan, Ed25519Keys.generate(), new InetSocketAddress(LO, 0),
                    addr -> new SiteNode.SelfInfo(List.of(addr), 8, reflexive, nat, Preference.AUTO, cpu, 1024, 10_000),
                    LanDiscovery.Config.staticOnly(all.get(i), others), cfg, SecretHashPolicy::new, new WireCodec()));
        }
        until(20_000, () -> settled(n), "2 superpeers in the overlay and 3 leaves attached with a standby");
        System.out.printf("site converged (election, overlay join, leaves attached) in %d ms%n",
                (System.nanoTime() - t0) / 1_000_000);
        SiteStatus sp = superpeers().get(0).status();
        SiteStatus lf = leaves().get(0).status();
        System.out.println(sp.describe() + "\n" + lf.describe());
        assertEquals(Role.SUPERPEER, sp.role());
        assertEquals(n, sp.site().size());
        assertTrue(sp.leaves().size() >= 1 && sp.overlayNeighbours() >= 1, sp.describe());
        assertEquals(Role.LEAF, lf.role());
        assertTrue(lf.primary() != null && lf.standby() != null && lf.superpeers().contains(lf.primary()), lf.describe());

        // every peer, leaf or superpeer, uses the same API
        List<NodeId> keys = new ArrayList<>();
        List<DhtValue> values = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            NodeId k = NodeId.ofName("sip:site" + i + "@example.net");
            DhtValue v = SecretHashPolicy.value(Bytes.utf8("v" + i), Bytes.EMPTY, System.currentTimeMillis() + 600_000);
            await(peers.get(i % n).put(k, v));
            keys.add(k);
            values.add(v);
        }
        SitePeer listener = leaves().get(0);
        NodeId watched = NodeId.ofName("sip:watched@example.net");
        List<ValueEvent> seen = new CopyOnWriteArrayList<>();
        listener.listen(watched, seen::add);
        assertAllReadable(keys, values, "before the crash");

        // crash the superpeer that most leaves use as primary
        Map<NodeId, Long> load = leaves().stream().collect(Collectors.groupingBy(
                l -> l.leafDht().primary().orElseThrow().id(), Collectors.counting()));
        NodeId busiest = load.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        SitePeer victim = peers.stream().filter(p -> p.id().equals(busiest)).findFirst().orElseThrow();
        List<SitePeer> orphans = leaves().stream()
                .filter(l -> l.leafDht().primary().orElseThrow().id().equals(busiest)).toList();
        // every leaf keeps reading while the site heals, one of them through its own promotion: a read every 100 ms
        // per leaf (within the superpeers' 32 calls in flight per leaf, even when a failover resends them all), without
        // waiting for the previous one, so reads are in flight at every step; none may fail
        List<SitePeer> readers = leaves();
        AtomicBoolean healing = new AtomicBoolean(true);
        List<CompletableFuture<List<DhtValue>>> reads = new CopyOnWriteArrayList<>();
        List<String> readFailures = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            while (healing.get()) {
                for (SitePeer r : readers) {
                    String who = r.id().shortHex() + " as " + r.role();
                    reads.add(r.get(keys.get(0)).whenComplete((v, e) -> {
                        if (e != null || !List.of(values.get(0)).equals(v)) {
                            readFailures.add(who + ": " + (e != null ? e : v));
                        }
                    }));
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "reader");
        long crash = System.nanoTime();
        victim.crash();
        peers.remove(victim);
        reader.start();
        until(10_000, () -> orphans.stream().allMatch(l -> l.role() == Role.SUPERPEER || l.leafDht() != null
                && l.leafDht().primary().map(r -> !r.id().equals(busiest)).orElse(false)), "orphans served again");
        long served = (System.nanoTime() - crash) / 1_000_000;
        until(20_000, () -> settled(n - 1), "the election to fill the empty seat");
        long healed = (System.nanoTime() - crash) / 1_000_000;
        System.out.printf("after a crash: leaves served again in %d ms, site back to 2 superpeers in %d ms%n",
                served, healed);
        healing.set(false);
        reader.join(10_000);
        for (CompletableFuture<List<DhtValue>> f : reads) {
            try {
                f.get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                // recorded by whenComplete
            }
        }
        assertTrue(readFailures.isEmpty(), readFailures.size() + " of " + reads.size() + " reads failed while the site healed: "
                + readFailures.subList(0, Math.min(5, readFailures.size())));
        assertTrue(readers.stream().anyMatch(r -> r.role() == Role.SUPERPEER), "a leaf that read was promoted");
        assertTrue(peers.stream().noneMatch(p -> p.site().superpeers().contains(busiest)));

        assertAllReadable(keys, values, "after the crash");
        DhtValue w = SecretHashPolicy.value(Bytes.utf8("after"), Bytes.EMPTY, System.currentTimeMillis() + 600_000);
        await(peers.stream().filter(p -> p != listener).findFirst().orElseThrow().put(watched, w));
        if (listener.role() == Role.LEAF) {
            until(10_000, () -> seen.stream().anyMatch(e -> e.value().equals(w)), "the listen notification");
        }

        // a graceful stop of a superpeer: its leaves move at once, its records go to the next responsible nodes
        SitePeer leaving = superpeers().get(0);
        long stop = System.nanoTime();
        leaving.close();
        peers.remove(leaving);
        until(20_000, () -> settled(n - 2), "the site to refill after a graceful stop");
        System.out.printf("after a graceful stop: site back to 2 superpeers in %d ms%n", (System.nanoTime() - stop) / 1_000_000);
        assertAllReadable(keys, values, "after the graceful stop");
    }
}
