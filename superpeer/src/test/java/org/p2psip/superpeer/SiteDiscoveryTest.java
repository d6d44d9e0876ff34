package org.p2psip.superpeer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.p2psip.nat.discovery.FilteringBehavior;
import org.p2psip.nat.discovery.MappingBehavior;
import org.p2psip.overlay.NodeId;
import org.p2psip.superpeer.discovery.Announcement;
import org.p2psip.superpeer.discovery.AnnouncementVerifier;
import org.p2psip.superpeer.discovery.Ed25519Keys;
import org.p2psip.superpeer.discovery.LanDiscovery;
import org.p2psip.superpeer.discovery.NatInfo;
import org.p2psip.superpeer.discovery.Preference;
import org.p2psip.superpeer.discovery.Role;
import org.p2psip.superpeer.election.ElectionConfig;
import org.p2psip.testing.Ports;

/** Static-peer-list discovery on 127.0.0.1: five peers, one site, two superpeers, and failover. */
class SiteDiscoveryTest {
    static final InetAddress LO = InetAddress.getLoopbackAddress();
    static final NatInfo RESTRICTED = NatInfo.behindNat(MappingBehavior.ENDPOINT_INDEPENDENT,
            FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT);
    EventLoopGroup group;
    final List<SiteNode> nodes = new ArrayList<>();

    @BeforeEach
    void setUp() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterEach
    void tearDown() {
        nodes.forEach(SiteNode::close);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /**
     * {@code n} distinct free UDP ports for discovery sockets bound later, below the ephemeral range so that no
     * socket bound to port 0 meanwhile takes one ({@link Ports}).
     */
    static List<Integer> freePorts(int n) throws Exception {
        List<Integer> ports = new ArrayList<>();
        while (ports.size() < n) {
            int p = Ports.freeUdpPort();
            if (!ports.contains(p)) {
                ports.add(p);
            }
        }
        return ports;
    }

    static void await(Duration max, BooleanSupplier cond, String what) throws InterruptedException {
        long end = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < end) {
            if (cond.getAsBoolean()) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("timed out waiting for " + what);
    }

    @Test
    void fivePeersConvergeOnTwoSuperpeersAndFailOver() throws Exception {
        int n = 5;
        List<Integer> ports = freePorts(n);
        List<InetSocketAddress> all = ports.stream().map(p -> new InetSocketAddress(LO, p)).toList();
        SiteNode.Config cfg = new SiteNode.Config(Duration.ofMillis(200), 3, 3, ElectionConfig.DEFAULT);
        InetSocketAddress reflexive = new InetSocketAddress(InetAddress.getByName("198.51.100.7"), 40000);
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            int cpu = 100 + 200 * i; // distinct capacity: peer 4 is best, then 3, then 2
            SiteNode.SelfInfo self = new SiteNode.SelfInfo(List.of(new InetSocketAddress(LO, 6000 + i)), 8, reflexive,
                    RESTRICTED, Preference.AUTO, cpu, 1024, 10_000);
            List<InetSocketAddress> others = new ArrayList<>(all);
            others.remove(i);
            nodes.add(SiteNode.start(group, Ed25519Keys.generate(), cfg, () -> self,
                    LanDiscovery.Config.staticOnly(all.get(i), others), null, null));
        }
        List<NodeId> expected = List.of(nodes.get(4).id(), nodes.get(3).id());
        await(Duration.ofSeconds(10), () -> nodes.stream().allMatch(s -> s.superpeers().equals(expected)
                && s.role() == (expected.contains(s.id()) ? Role.SUPERPEER : Role.LEAF)), "convergence");
        long converged = (System.nanoTime() - start) / 1_000_000;
        for (SiteNode s : nodes) {
            assertEquals(n, s.site().size(), "every peer sees the whole site");
        }
        System.out.println("converged in " + converged + " ms");

        // the best superpeer stops announcing: after 3 missed announcements it expires and peer 2 takes the seat
        SiteNode dead = nodes.remove(4);
        dead.close();
        long stopped = System.nanoTime();
        List<NodeId> after = List.of(nodes.get(3).id(), nodes.get(2).id());
        await(Duration.ofSeconds(10), () -> nodes.stream().allMatch(s -> s.superpeers().equals(after)
                && s.site().size() == n - 1
                && s.role() == (after.contains(s.id()) ? Role.SUPERPEER : Role.LEAF)), "failover");
        long failover = (System.nanoTime() - stopped) / 1_000_000;
        System.out.println("failover in " + failover + " ms");
        // expiry is 3 intervals after the last announcement heard, which was at most one interval before the stop
        assertTrue(failover >= 2 * 200 - 50, "not before expiry: " + failover);
        for (SiteNode s : nodes) {
            assertEquals(n - 1, s.site().size());
            assertEquals(0, s.discovery().verifier().forged());
        }
    }

    @Test
    void otherSitesAreNotMembers() throws Exception {
        List<Integer> ports = freePorts(3);
        List<InetSocketAddress> all = ports.stream().map(p -> new InetSocketAddress(LO, p)).toList();
        SiteNode.Config cfg = new SiteNode.Config(Duration.ofMillis(100), 3, 2, ElectionConfig.DEFAULT);
        String[] refl = {"198.51.100.7", "198.51.100.7", "203.0.113.9"};
        for (int i = 0; i < 3; i++) {
            SiteNode.SelfInfo self = new SiteNode.SelfInfo(List.of(new InetSocketAddress(LO, 6000 + i)), 8,
                    new InetSocketAddress(InetAddress.getByName(refl[i]), 1000), RESTRICTED, Preference.AUTO, 100, 1, 1);
            List<InetSocketAddress> others = new ArrayList<>(all);
            others.remove(i);
            nodes.add(SiteNode.start(group, Ed25519Keys.generate(), cfg, () -> self,
                    LanDiscovery.Config.staticOnly(all.get(i), others), null, null));
        }
        await(Duration.ofSeconds(5), () -> nodes.get(0).discovery().table().size() == 2
                && nodes.get(0).site().size() == 2 && nodes.get(2).site().size() == 1, "site split");
        await(Duration.ofSeconds(5), () -> nodes.get(2).role() == Role.SUPERPEER, "a lone peer is its own superpeer");
    }

    @Test
    void connectBackVerifiesOnlyAReachableClaim() throws Exception {
        List<Integer> ports = freePorts(3);
        Ed25519Keys claimantKeys = Ed25519Keys.generate();
        Ed25519Keys checkerKeys = Ed25519Keys.generate();
        InetSocketAddress claimantAddr = new InetSocketAddress(LO, ports.get(0));
        LanDiscovery claimant = LanDiscovery.start(group, claimantKeys,
                LanDiscovery.Config.staticOnly(claimantAddr, List.of()), new AnnouncementVerifier(),
                () -> System.nanoTime() / 1_000_000, a -> { });
        LanDiscovery checker = LanDiscovery.start(group, checkerKeys,
                new LanDiscovery.Config(new InetSocketAddress(LO, ports.get(1)), List.of(), null, false,
                        Duration.ofMillis(2000), 16),
                new AnnouncementVerifier(), () -> System.nanoTime() / 1_000_000, a -> { });
        // a 2 s connect-back window: a loaded CI machine can take longer than 500 ms to answer the honest claim
        try {
            Announcement honest = claim(claimantKeys, claimantAddr);
            assertTrue(checker.verify(honest).get(10, TimeUnit.SECONDS));
            // claims an address where nobody answers
            Announcement unreachable = claim(claimantKeys, new InetSocketAddress(LO, ports.get(2)));
            assertFalse(checker.verify(unreachable).get(10, TimeUnit.SECONDS));
            // claims the claimant's address under another key: the answer is signed by the wrong key
            Announcement impostor = claim(Ed25519Keys.generate(), claimantAddr);
            assertFalse(checker.verify(impostor).get(10, TimeUnit.SECONDS));
        } finally {
            claimant.close();
            checker.close();
        }
    }

    @Test
    void aBetterNewcomerTakesASeatOnlyAfterTheHold() throws Exception {
        int n = 5;
        List<Integer> ports = freePorts(n + 1);
        List<InetSocketAddress> all = ports.stream().map(p -> new InetSocketAddress(LO, p)).toList();
        SiteNode.Config cfg = new SiteNode.Config(Duration.ofMillis(200), 4, 3,
                ElectionConfig.DEFAULT.withHold(Duration.ofMillis(2000)));
        InetSocketAddress reflexive = new InetSocketAddress(InetAddress.getByName("198.51.100.7"), 40000);
        for (int i = 0; i <= n; i++) {
            // the newcomer (index n) has full-cone filtering: a tier above the restricted incumbents
            NatInfo nat = i == n ? NatInfo.behindNat(MappingBehavior.ENDPOINT_INDEPENDENT,
                    FilteringBehavior.ENDPOINT_INDEPENDENT) : RESTRICTED;
            SiteNode.SelfInfo self = new SiteNode.SelfInfo(List.of(new InetSocketAddress(LO, 6000 + i)), 8, reflexive,
                    nat, Preference.AUTO, 100 + 150 * i, 1024, 10_000);
            List<InetSocketAddress> others = new ArrayList<>(all);
            others.remove(i);
            if (i == n) {
                List<NodeId> sitting = List.of(nodes.get(4).id(), nodes.get(3).id());
                await(Duration.ofSeconds(10), () -> nodes.stream().allMatch(s -> s.superpeers().equals(sitting)),
                        "convergence before the newcomer");
            }
            nodes.add(SiteNode.start(group, Ed25519Keys.generate(), cfg, () -> self,
                    LanDiscovery.Config.staticOnly(all.get(i), others), null, null));
        }
        SiteNode newcomer = nodes.get(n);
        List<NodeId> before = List.of(nodes.get(4).id(), nodes.get(3).id());
        await(Duration.ofSeconds(5), () -> nodes.stream().allMatch(s -> s.site().size() == n + 1), "all see 6: "
                + nodes.stream().map(s -> s.site().size() + "/" + s.discovery().table().size()).toList());
        long seen = System.nanoTime();
        // within the hold the incumbents keep their seats everywhere
        while (System.nanoTime() - seen < 1_200_000_000L) {
            for (SiteNode s : nodes) {
                if (!s.superpeers().isEmpty()) {
                    assertEquals(before, s.superpeers(), "no seat changes hands before the hold, node " + nodes.indexOf(s)
                            + " table " + s.discovery().table().entries().stream().map(e -> e.announcement().nodeId().shortHex() + ":" + e.announcement().role()).toList());
                }
            }
            Thread.sleep(20);
        }
        List<NodeId> after = List.of(newcomer.id(), nodes.get(4).id());
        await(Duration.ofSeconds(5), () -> nodes.stream().allMatch(s -> s.superpeers().equals(after)
                && s.role() == (after.contains(s.id()) ? Role.SUPERPEER : Role.LEAF)), "the newcomer seated");
        assertEquals(Role.LEAF, nodes.get(3).role(), "the weaker incumbent stepped down");
    }

    @Test
    void hostilePacketsDoNotDisturbDiscovery() throws Exception {
        List<Integer> ports = freePorts(2);
        List<InetSocketAddress> all = ports.stream().map(p -> new InetSocketAddress(LO, p)).toList();
        SiteNode.Config cfg = new SiteNode.Config(Duration.ofMillis(100), 3, 2, ElectionConfig.DEFAULT);
        for (int i = 0; i < 2; i++) {
            SiteNode.SelfInfo self = new SiteNode.SelfInfo(List.of(new InetSocketAddress(LO, 6000 + i)), 8,
                    new InetSocketAddress(InetAddress.getByName("198.51.100.7"), 1), RESTRICTED, Preference.AUTO,
                    100, 1, 1);
            nodes.add(SiteNode.start(group, Ed25519Keys.generate(), cfg, () -> self,
                    LanDiscovery.Config.staticOnly(all.get(i), List.of(all.get(1 - i))), null, null));
        }
        java.util.Random rnd = new java.util.Random(3);
        try (DatagramSocket attacker = new DatagramSocket(0, LO)) {
            for (int i = 0; i < 3000; i++) {
                byte[] junk = new byte[rnd.nextInt(600)];
                rnd.nextBytes(junk);
                if (junk.length > 0 && i % 2 == 0) {
                    junk[0] = (byte) "ACR".charAt(rnd.nextInt(3)); // a valid type byte, garbage after it
                }
                attacker.send(new java.net.DatagramPacket(junk, junk.length, all.get(0)));
            }
        }
        await(Duration.ofSeconds(5), () -> nodes.stream().allMatch(s -> s.site().size() == 2
                && s.superpeers().size() == 2), "the site forms despite the junk");
        assertTrue(nodes.get(0).discovery().verifier().malformed() > 0, "junk announcements counted as malformed");
        assertEquals(0, nodes.get(0).discovery().verifier().forged());
    }

    static Announcement claim(Ed25519Keys k, InetSocketAddress publicAddr) {
        return new Announcement.Unsigned(List.of(publicAddr), 32, publicAddr, NatInfo.publicHost(), Role.CANDIDATE,
                Preference.AUTO, 1, 1, 1, 1, 1, System.currentTimeMillis()).sign(k);
    }

    @Test
    void verifiedPublicPeerWinsTheSite() throws Exception {
        // two public peers on the same subnet; one claim is true (reflexive = its real socket), one false
        List<Integer> ports = freePorts(3);
        List<InetSocketAddress> all = ports.stream().map(p -> new InetSocketAddress(LO, p)).toList();
        SiteNode.Config cfg = new SiteNode.Config(Duration.ofMillis(100), 5, 4,
                new ElectionConfig(1, 50, 4, ElectionConfig.DEFAULT.margin(), Duration.ZERO));
        InetSocketAddress nowhere = new InetSocketAddress(LO, freePorts(1).get(0));
        for (int i = 0; i < 3; i++) {
            // peer 0 claims public truthfully but has the least capacity; peer 1 lies; peer 2 claims nothing
            NatInfo nat = NatInfo.publicHost();
            InetSocketAddress refl = i == 0 ? all.get(0) : i == 1 ? nowhere : null;
            SiteNode.SelfInfo self = new SiteNode.SelfInfo(List.of(new InetSocketAddress(LO, 6000 + i)), 8, refl, nat,
                    Preference.AUTO, i == 0 ? 0 : 1000, 1, 1);
            List<InetSocketAddress> others = new ArrayList<>(all);
            others.remove(i);
            nodes.add(SiteNode.start(group, Ed25519Keys.generate(), cfg, () -> self,
                    new LanDiscovery.Config(all.get(i), others, null, false, Duration.ofMillis(200), 16), null, null));
        }
        NodeId truthful = nodes.get(0).id();
        await(Duration.ofSeconds(10), () -> nodes.stream().allMatch(s -> s.superpeers().equals(List.of(truthful))),
                "the verified public peer elected everywhere");
        Set<NodeId> verified = new HashSet<>(nodes.get(2).verifiedPublic());
        assertEquals(Set.of(truthful), verified);
    }
}
