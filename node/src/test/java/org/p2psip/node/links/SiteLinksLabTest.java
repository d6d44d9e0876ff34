package org.p2psip.node.links;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.p2psip.nat.lab.NatLab;
import org.p2psip.nat.lab.NatType;
import org.p2psip.nat.lab.PublicHost;
import org.p2psip.nat.lab.Site;
import org.p2psip.testing.ClassResource;
import org.p2psip.testing.CommandChild;
import org.p2psip.testing.Waits;

/**
 * Site superpeers link to each other across their NATs. A public plain superpeer (bootstrap, STUN, a TURN relay with no
 * account, advertised in the service directory) and two sites behind real kernel NATs, a port-restricted and a symmetric
 * one (only a relayed path joins them), each with a {@code --role auto} peer and a {@code --role leaf} peer in child JVMs
 * ({@link LabPeerMain}) on the site's host. Each site elects its auto peer; its leaf attaches to it. The two site
 * superpeers' attachers must then set up an ICE link between them, relayed through the relay they took from the
 * directory and authenticated by DTLS at both ends as the other's node key, and the link must carry overlay traffic: a
 * put through site A's leaf is stored on all three overlay nodes (site B's superpeer only reachable over the link),
 * lands in site B's superpeer's store, is read back through site B's leaf, and the link's received-datagram count grows
 * at both ends meanwhile. Needs root, iproute2 and iptables; under CI=true their absence fails.
 */
@Timeout(300)
class SiteLinksLabTest {
    @RegisterExtension
    static final ClassResource<NatLab> LAB = ClassResource.of(NatLab::prerequisiteProblems, NatLab::create);

    @Test
    void siteSuperpeersBehindTwoNatsLinkAndCarryOverlayTraffic() throws Exception {
        PublicHost pub = LAB.get().addPublicHost("sboot", 1);
        String pubIp = pub.addresses().get(0).getHostAddress();
        Site a = LAB.get().addSite("spr", NatType.PORT_RESTRICTED, 60);
        Site b = LAB.get().addSite("ssym", NatType.SYMMETRIC, 60);
        String boot = pubIp + ":4222";
        List<CommandChild> all = new ArrayList<>();
        try {
            CommandChild bootPeer = LabPeer.start(LAB.get(), "boot", pub.namespace(),
                    List.of("--bind", pubIp, "--port", "4222", "--turn-on"));
            all.add(bootPeer);
            long t0 = System.nanoTime();
            // the four site peers start at once: a leaf is ready when attached to its site's superpeer
            List<CompletableFuture<CommandChild>> starting = List.of(
                    sitePeer("A-superpeer", a, "auto", 4222, 5362, 5372, boot),
                    sitePeer("B-superpeer", b, "auto", 4222, 5362, 5372, boot),
                    sitePeer("A-leaf", a, "leaf", 4232, 5372, 5362, boot),
                    sitePeer("B-leaf", b, "leaf", 4232, 5372, 5362, boot));
            for (CompletableFuture<CommandChild> f : starting) {
                try {
                    all.add(f.join());
                } catch (CompletionException e) {
                    throw new AssertionError(e.getCause().getMessage(), e.getCause());
                }
            }
            try {
                run(all.get(1), all.get(2), all.get(3), all.get(4), pubIp, t0);
            } catch (AssertionError | Exception e) {
                for (CommandChild c : all) {
                    System.out.println("[site links] failed; " + c.name + ":\n" + c.log());
                }
                throw e;
            }
        } finally {
            for (CommandChild c : all) {
                c.close();
            }
        }
    }

    private static CompletableFuture<CommandChild> sitePeer(String name, Site site, String role, int port, int sitePort,
            int otherSitePort, String boot) {
        String ip = site.hostAddress().getHostAddress();
        return CompletableFuture.supplyAsync(() -> {
            try {
                return LabPeer.start(LAB.get(), name, site.hostNamespace(), List.of("--bind", ip, "--port", String.valueOf(port),
                        "--bootstrap", boot, "--role", role, "--site-port", String.valueOf(sitePort),
                        "--site-peer", ip + ":" + otherSitePort));
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
    }

    private static void run(CommandChild spA, CommandChild spB, CommandChild leafA, CommandChild leafB, String pubIp,
            long t0) throws Exception {
        // each site elected its auto peer, and its leaf is attached to it
        for (CommandChild[] s : new CommandChild[][] {{spA, leafA}, {spB, leafB}}) {
            Waits.until(60_000, () -> "SUPERPEER".equals(site(s[0]).get("site_role"))
                    && s[0].id.equals(site(s[1]).get("site_primary")),
                    s[0].name + " elected and " + s[1].name + " attached to it");
            assertEquals("LEAF", s[1].run("site").get("site_role"));
        }
        Waits.until(120_000, () -> linked(spA, spB) && linked(spB, spA),
                "an authenticated ICE link between the two site superpeers (relayed: port-restricted and symmetric NATs)");
        System.out.printf("[site links] relayed ICE link between the site superpeers up %d ms after their JVMs started%n",
                (System.nanoTime() - t0) / 1_000_000);
        for (CommandChild p : List.of(spA, spB)) { // how the link came about (attempts, relay search), for the figures
            p.log().lines().filter(l -> l.contains("ICE link") || l.contains("TURN relay at") || l.contains("joined the overlay"))
                    .forEach(l -> System.out.println("[site links] " + p.name + ": " + l));
        }
        long beforeA = received(spA);
        long beforeB = received(spB);
        int relayFromDirectory = 0;
        for (CommandChild p : List.of(spA, spB)) {
            Map<String, String> l = p.run("links");
            System.out.println("[site links] " + p.name + ": " + l);
            assertEquals("1", l.get("ice_links"), p.name + " holds one ICE link: " + l);
            if (l.get("directory_relay").startsWith(pubIp + ":") && l.get("ice_turn").contains(pubIp)) {
                relayFromDirectory++;
            }
            assertEquals(1.0, Double.parseDouble(p.run("metrics").get("metric_relayed")), p.name + ": p2psip_links{kind=\"relayed\"} 1");
        }
        // the relayed end needs the relay; the other may not have looked it up yet
        assertTrue(relayFromDirectory >= 1, "a site superpeer's ICE links use the relay found in the directory");
        assertEquals("3", leafA.run("put site-links from site A").get("put_stored"),
                "the bootstrap and both site superpeers store the value (B's only over the link)");
        assertEquals("from site A", spB.run("local site-links").get("local_values"),
                "site B's superpeer stores the put made at site A");
        assertEquals("from site A", leafB.run("get site-links").get("get_values"), "site B's leaf reads it");
        long afterA = received(spA);
        long afterB = received(spB);
        System.out.printf("[site links] datagrams received over the link: A %d -> %d, B %d -> %d%n", beforeA, afterA,
                beforeB, afterB);
        assertTrue(afterA > beforeA && afterB > beforeB, "the link carried the put's traffic both ways");
    }

    private static Map<String, String> site(CommandChild p) {
        try {
            return p.run("site");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether {@code p} holds an authenticated relayed ICE link to {@code other}. */
    private static boolean linked(CommandChild p, CommandChild other) {
        return PeerLinkRoutingLabTest.linked(p, other);
    }

    /** Datagrams {@code p} received over its ICE link. */
    private static long received(CommandChild p) throws Exception {
        String link = p.run("links").get("ice_link");
        int i = link.indexOf("received=");
        return Long.parseLong(link.substring(i + 9, link.indexOf(' ', i)));
    }
}
