package org.p2psip.node.site;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.p2psip.node.site.SitePeers.overlayJoined;
import static org.p2psip.node.site.SitePeers.role;
import static org.p2psip.testing.Waits.until;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;
import org.p2psip.node.links.NodeLinks;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.superpeer.discovery.Preference;
import org.p2psip.superpeer.discovery.Role;

/**
 * A site superpeer gets the plain superpeer's link machinery (ICE links, attacher) while elected and drops it when it
 * steps down. On 127.0.0.1 (DTLS links, static site list): a plain bootstrap and two auto peers, both elected (two
 * seats); each holds {@link NodeLinks} over its site socket, with its ICE timer thread running. A third peer with
 * preference {@code always} then takes the weaker seat (after the election's hold): the unseated peer's links are
 * closed (no ICE link, its ICE threads ended, {@code Peer.links()} null), and it serves as a leaf on the same DTLS
 * socket (a record put before is read through it); the new superpeer holds links of its own.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SiteStepDownLinksTest {
    @TempDir
    Path tmp;

    private final List<Peer> peers = new ArrayList<>();
    private Peer bootstrap;

    @AfterEach
    void stop() {
        peers.forEach(Peer::close);
        if (bootstrap != null) {
            bootstrap.close();
        }
    }

    private static boolean joinedSuperpeer(Peer p) {
        return role(p) == Role.SUPERPEER && overlayJoined(p);
    }

    /** Whether a thread of {@code id}'s ICE links (its executor or its timer) is alive. */
    private static boolean iceThreads(NodeId id) {
        String s = id.shortHex();
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.isAlive()
                && (t.getName().equals("ice-nominate-" + s) || t.getName().startsWith("ice-links-" + s + "-")));
    }

    @Test
    void anUnseatedSuperpeerDropsItsLinksAndServesAsALeafOnTheSameSocket() throws Exception {
        bootstrap = TestSupport.peer(tmp.resolve("boot")).build();
        bootstrap.start().get(30, TimeUnit.SECONDS);
        List<InetSocketAddress> discovery = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            discovery.add(new InetSocketAddress(TestSupport.localhost(), TestSupport.freeUdpPort()));
        }
        for (int i = 0; i < 3; i++) {
            List<InetSocketAddress> others = new ArrayList<>(discovery);
            others.remove(i);
            SiteOptions o = SiteOptions.auto(others, discovery.get(i).getPort(), false);
            peers.add(TestSupport.peer(tmp.resolve("p" + i), bootstrap.overlayAddress())
                    .site(i == 2 ? o.withPreference(Preference.ALWAYS) : o)
                    .stunServer(bootstrap.stunAddress()).build());
        }
        Peer a = peers.get(0);
        Peer b = peers.get(1);
        Peer c = peers.get(2);
        a.start();
        b.start();
        until(40_000, () -> joinedSuperpeer(a) && joinedSuperpeer(b), "both auto peers elected and joined");
        NodeLinks linksA = a.links();
        NodeLinks linksB = b.links();
        assertNotNull(linksA, "an elected site peer holds the superpeer link machinery");
        assertNotNull(linksB);
        assertSame(a.overlay(), linksA.node(), "over its current overlay node");
        assertNotNull(linksA.secure(), "with DTLS: ICE links on the site's DTLS layer");
        until(10_000, () -> iceThreads(a.id()) && iceThreads(b.id()), "the superpeers' ICE timers");
        DhtValue v = SecretHashPolicy.value(Bytes.utf8("kept"), Bytes.EMPTY, System.currentTimeMillis() + 600_000);
        NodeId key = NodeId.ofName("step-down");
        assertTrue(a.dht().put(key, v).get(30, TimeUnit.SECONDS).stored() >= 1);

        long t0 = System.nanoTime();
        c.start();
        // 'always' beats an auto superpeer's seat after the hold (10 s); the weaker of a and b steps down
        until(60_000, () -> joinedSuperpeer(c) && (role(a) == Role.LEAF || role(b) == Role.LEAF),
                "the 'always' peer to take a seat and an auto peer to step down");
        System.out.printf("[step-down] the 'always' peer took a seat %d ms after its start%n",
                (System.nanoTime() - t0) / 1_000_000);
        Peer down = role(a) == Role.LEAF ? a : b;
        Peer stays = down == a ? b : a;
        NodeLinks old = down == a ? linksA : linksB;
        until(20_000, () -> down.links() == null, "the unseated peer to drop its links");
        assertTrue(old.secure().ice().links().isEmpty(), "no ICE link left open");
        until(10_000, () -> !iceThreads(down.id()), "the unseated peer's ICE threads to end");
        assertSame(stays == a ? linksA : linksB, stays.links(), "the peer that stays keeps its links");
        until(20_000, () -> c.links() != null && iceThreads(c.id()), "the new superpeer's links");

        // the same DTLS socket now carries its leaf protocol
        until(20_000, () -> down.siteStatus().primary() != null, "the unseated peer attached as a leaf");
        assertEquals(List.of("kept"), down.dht().get(key).get(30, TimeUnit.SECONDS).stream()
                .map(x -> x.data().utf8String()).toList(), "a leaf read through its superpeer");
        assertTrue(down.siteStatus().leaves().isEmpty(), "a leaf serves no leaves");
        assertNotNull(down.linkStats(), "its DTLS layer is still open");
    }
}
