package org.p2psip.node.links;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
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
 * NATed {@link org.p2psip.node.Peer}s find their TURN relay in the service directory. A public Peer runs a TURN relay
 * with no account at all (so only its grants log in) and advertises it ({@code serviceHost service="turn"} with its
 * node id); two Peers behind a port-restricted and a symmetric kernel NAT, whose only path is relayed, run with no
 * {@code --link-turn} option. Each must find the relay in the directory, get a grant from it through the overlay
 * ({@link RelayGrants}), and their attachers must set up a relayed, authenticated link that carries a put and a get.
 * Needs root, iproute2 and iptables; under CI=true their absence fails.
 */
@Timeout(600)
class PeerDirectoryRelayLabTest {
    @RegisterExtension
    static final ClassResource<NatLab> LAB = ClassResource.of(NatLab::prerequisiteProblems, NatLab::create);

    @Test
    void natedPeersWithNoConfiguredRelayFindOneInTheServiceDirectory() throws Exception {
        PublicHost pub = LAB.get().addPublicHost("dboot", 1);
        String pubIp = pub.addresses().get(0).getHostAddress();
        Site prSite = LAB.get().addSite("dpr", NatType.PORT_RESTRICTED, 60);
        Site symSite = LAB.get().addSite("dsym", NatType.SYMMETRIC, 60);
        String boot = pubIp + ":4222";
        try (CommandChild b = LabPeer.start(LAB.get(), "boot", pub.namespace(),
                        List.of("--bind", pubIp, "--port", "4222", "--turn-on"));
                CommandChild pr = LabPeer.start(LAB.get(), "port-restricted", prSite.hostNamespace(), List.of("--bind",
                        prSite.hostAddress().getHostAddress(), "--bootstrap", boot));
                CommandChild sym = LabPeer.start(LAB.get(), "symmetric", symSite.hostNamespace(), List.of("--bind",
                        symSite.hostAddress().getHostAddress(), "--bootstrap", boot))) {
            try {
                run(b, pr, sym, pubIp);
            } catch (AssertionError | Exception e) {
                System.out.println("[directory relay] the port-restricted peer's directory: " + pr.runLines("services"));
                System.out.println("[directory relay] failed; bootstrap:\n" + b.log() + "\nport-restricted:\n" + pr.log()
                        + "\nsymmetric:\n" + sym.log());
                throw e;
            }
        }
    }

    private static void run(CommandChild b, CommandChild pr, CommandChild sym, String pubIp) throws Exception {
        long t0 = System.nanoTime();
        Waits.until(180_000, () -> PeerLinkRoutingLabTest.linked(pr, sym) && PeerLinkRoutingLabTest.linked(sym, pr),
                "a relayed ICE link between the NATed peers through the relay they found in the service directory");
        System.out.printf("[directory relay] relayed ICE link up %d ms after the peers joined%n",
                (System.nanoTime() - t0) / 1_000_000);
        for (CommandChild p : List.of(pr, sym)) {
            Map<String, String> l = p.run("links");
            System.out.println("[directory relay] " + p.name + ": " + l);
            assertTrue(l.get("directory_relay").startsWith(pubIp + ":"), p.name + " took the relay from the directory: " + l);
            assertTrue(l.get("ice_turn").contains(pubIp), p.name + "'s ICE uses it: " + l);
            assertEquals("1", l.get("ice_links"), p.name + ": one link: " + l);
        }
        String own = b.run("links").get("directory_relay");
        assertTrue(own.equals("none") || own.equals("null"), "the relay itself uses no relay: " + own);
        assertEquals("3", pr.run("put directory-relay over the found relay").get("put_stored"),
                "the bootstrap and both NATed peers store the value");
        assertEquals("over the found relay", sym.run("local directory-relay").get("local_values"));
        assertEquals("over the found relay", sym.run("get directory-relay").get("get_values"));
    }
}
