package org.p2psip.node.links;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.p2psip.testing.ClassResource;
import org.p2psip.testing.CommandChild;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.p2psip.nat.lab.NatLab;
import org.p2psip.nat.lab.NatType;
import org.p2psip.nat.lab.PublicHost;
import org.p2psip.nat.lab.Site;
import org.p2psip.testing.Waits;

/**
 * The node's own decision to attach, through real kernel NATs. A public bootstrap {@link org.p2psip.node.Peer} (STUN,
 * and a TURN relay with one account) and two Peers behind a port-restricted and a symmetric NAT join one overlay over
 * DTLS (the defaults). Each learns the other from the bootstrap, cannot reach it directly (the symmetric NAT maps every
 * destination to a new port, the port-restricted one filters by address and port), and its {@link Attacher} sets up an
 * ICE link with the Attach routed through the bootstrap, with no command from the test. This pair of NATs needs the
 * relay, so the link is relayed. Both attachers notice the silence, and both may attach at once (no one waits): they
 * must end with one link, its two ends the controlling and controlled agents of one ICE session. Then a put from one NATed Peer is stored on all three, including the other NATed one,
 * and the metrics of both show the relayed link. Needs root, iproute2 and iptables; under CI=true their absence fails.
 */
@Timeout(600)
class PeerAttachLabTest {
    @RegisterExtension
    static final ClassResource<NatLab> LAB = ClassResource.of(NatLab::prerequisiteProblems, NatLab::create);

    @Test
    void peersBehindPortRestrictedAndSymmetricNatsAttachThroughTheOverlayAndRelay() throws Exception {
        PublicHost pub = LAB.get().addPublicHost("boot", 1);
        String pubIp = pub.addresses().get(0).getHostAddress();
        Site prSite = LAB.get().addSite("pr", NatType.PORT_RESTRICTED, 60);
        Site symSite = LAB.get().addSite("sym", NatType.SYMMETRIC, 60);
        String boot = pubIp + ":4222";
        try (CommandChild b = LabPeer.start(LAB.get(), "boot", pub.namespace(),
                        List.of("--bind", pubIp, "--port", "4222", "--turn-account", "overlay:lab-secret"));
                CommandChild pr = LabPeer.start(LAB.get(), "port-restricted", prSite.hostNamespace(), List.of("--bind",
                        prSite.hostAddress().getHostAddress(), "--bootstrap", boot, "--link-turn", "overlay:lab-secret"));
                CommandChild sym = LabPeer.start(LAB.get(), "symmetric", symSite.hostNamespace(), List.of("--bind",
                        symSite.hostAddress().getHostAddress(), "--bootstrap", boot, "--link-turn", "overlay:lab-secret"))) {
            try {
                run(b, pr, sym);
            } catch (AssertionError | Exception e) {
                System.out.println("[peer attach] failed; bootstrap:\n" + b.log() + "\nport-restricted:\n" + pr.log()
                        + "\nsymmetric:\n" + sym.log());
                throw e;
            }
        }
    }

    private static void run(CommandChild b, CommandChild pr, CommandChild sym) throws Exception {
        long t0 = System.nanoTime();
        // no command asks for the link: the peers notice that the other does not answer and attach by themselves
        Waits.until(180_000, () -> linked(pr, sym) && linked(sym, pr),
                "a relayed ICE link between the NATed peers, set up by their attachers, its DTLS session authenticated");
        System.out.printf("[peer attach] relayed ICE link up %d ms after both joined%n",
                (System.nanoTime() - t0) / 1_000_000);
        Map<String, String> prLinks = pr.run("links");
        Map<String, String> symLinks = sym.run("links");
        System.out.println("[peer attach] port-restricted: " + prLinks + "\n[peer attach] symmetric: " + symLinks);
        assertTrue(prLinks.get("ice_link").startsWith(sym.id) && prLinks.get("ice_link").contains("authenticated=true"),
                "the link authenticated the symmetric peer's key: " + prLinks);
        assertTrue(symLinks.get("ice_link").startsWith(pr.id) && symLinks.get("ice_link").contains("authenticated=true"),
                "the link authenticated the port-restricted peer's key: " + symLinks);
        // the attacher counts its link when its connect future completes, which may come a moment after the link
        // shows in `links` (once under load it had not yet at either end when read at once)
        Waits.until(30_000, () -> attachLinked(pr) + attachLinked(sym) >= 1, "an attacher counted the link");
        // both attachers notice the silence and may attach at the same moment: still one link, one ICE session
        assertEquals("1", prLinks.get("ice_links"), "one ICE link at the port-restricted peer: " + prLinks);
        assertEquals("1", symLinks.get("ice_links"), "one ICE link at the symmetric peer: " + symLinks);
        assertTrue(prLinks.get("ice_link").contains("controlling=true") != symLinks.get("ice_link").contains(
                "controlling=true"), "the two ends are the controlling and the controlled agent of one session");

        assertEquals("3", pr.run("put attach-lab over the relayed link").get("put_stored"),
                "the bootstrap and both NATed peers store the value");
        assertEquals("over the relayed link", sym.run("local attach-lab").get("local_values"));
        assertEquals("over the relayed link", sym.run("get attach-lab").get("get_values"));
        for (CommandChild p : List.of(pr, sym)) {
            Map<String, String> m = p.run("metrics");
            assertTrue(Integer.parseInt(m.get("metric_relayed").replace(".0", "")) >= 1, p.name + ": " + m);
            assertTrue(Integer.parseInt(m.get("metric_direct").replace(".0", "")) >= 1, p.name + " (bootstrap): " + m);
        }
        assertEquals("0", b.run("links").get("links_relayed"), "the bootstrap reaches both directly");
    }

    private static long attachLinked(CommandChild p) {
        try {
            return Long.parseLong(p.run("links").get("attach_linked"));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether {@code p} has a relayed ICE link whose DTLS session authenticated {@code other}. */
    private static boolean linked(CommandChild p, CommandChild other) {
        try {
            Map<String, String> l = p.run("links");
            String link = l.get("ice_link");
            return Integer.parseInt(l.get("links_relayed")) >= 1 && link != null && link.startsWith(other.id)
                    && link.contains("authenticated=true");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
