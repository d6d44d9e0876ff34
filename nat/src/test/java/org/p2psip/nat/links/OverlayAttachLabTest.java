package org.p2psip.nat.links;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

/**
 * Attach carried by the overlay itself, through real kernel NATs. A public superpeer (which also runs TURN) and two
 * superpeers behind different NATs join one overlay over DTLS through the public one. The NATed superpeers cannot
 * reach each other directly, so neither holds the other in its routing table; one of them then asks for a link to
 * the other: its Attach is an overlay routed request through the public superpeer, ICE checks follow, and the
 * selected pair carries the DTLS link. A put and a get then cross that link: the value is stored on the other NATed
 * superpeer, and the only DTLS session either end has with the other is the one over the selected pair. Three cases:
 * full cone to port-restricted and port-restricted to port-restricted (direct, hole-punched pairs), and symmetric to
 * symmetric (relayed through TURN). Each case runs its own overlay. Needs root, iproute2 and iptables; under CI=true their absence fails the test.
 */
@Timeout(600)
class OverlayAttachLabTest {
    @RegisterExtension
    static final ClassResource<NatLab> LAB = ClassResource.of(NatLab::prerequisiteProblems, NatLab::create);

    @Test
    void fullConeLinksToPortRestrictedThroughAnAttachRoutedByThePublicSuperpeer() throws Exception {
        scenario("pub1", NatType.PORT_RESTRICTED, NatType.FULL_CONE, false);
    }

    @Test
    void portRestrictedLinksToPortRestrictedThroughAHolePunchedPair() throws Exception {
        scenario("pub3", NatType.PORT_RESTRICTED, NatType.PORT_RESTRICTED, false);
    }

    @Test
    void symmetricLinksToSymmetricOverTurnThroughAnAttachRoutedByThePublicSuperpeer() throws Exception {
        scenario("pub2", NatType.SYMMETRIC, NatType.SYMMETRIC, true);
    }

    private static void scenario(String publicName, NatType targetNat, NatType requesterNat, boolean relayed)
            throws Exception {
        PublicHost pub = LAB.get().addPublicHost(publicName, 1);
        String pubIp = pub.addresses().get(0).getHostAddress();
        String ice = pubIp + ":3478";
        Site targetSite = LAB.get().addSite(publicName + "t", targetNat, 30);
        Site requesterSite = LAB.get().addSite(publicName + "r", requesterNat, 30);
        String label = requesterNat + " -> " + targetNat;
        try (CommandChild p = LabNode.start(LAB.get(), publicName, pub.namespace(),
                        List.of("--bind", pubIp, "--port", "4222", "--ice", ice, "--turn-server"));
                CommandChild target = LabNode.start(LAB.get(), "target", targetSite.hostNamespace(),
                        List.of("--bind", targetSite.hostAddress().getHostAddress(), "--ice", ice));
                CommandChild requester = LabNode.start(LAB.get(), "requester", requesterSite.hostNamespace(),
                        List.of("--bind", requesterSite.hostAddress().getHostAddress(), "--ice", ice))) {
            try {
                run(label, p, target, requester, relayed);
                if (Boolean.getBoolean("p2psip.lab.verbose")) {
                    System.out.println("[overlay attach] " + label + " requester:\n" + requester.log() + "\ntarget:\n"
                            + target.log());
                }
            } catch (AssertionError | Exception e) {
                System.out.println("[overlay attach] " + label + " failed; public:\n" + p.log() + "\ntarget:\n" + target.log()
                        + "\nrequester:\n" + requester.log());
                throw e;
            }
        }
    }

    private static void run(String label, CommandChild p, CommandChild target, CommandChild requester, boolean relayed) throws Exception {
        // the target joins first: the requester's join then tries it directly and its NAT drops that
        target.run("join " + p.address);
        requester.run("join " + p.address);
        List<String> known = requester.runLines("neighbours");
        assertTrue(known.stream().anyMatch(l -> l.startsWith("neighbour=" + p.id)), "joined through the public node");
        assertFalse(known.stream().anyMatch(l -> l.startsWith("neighbour=" + target.id)),
                label + ": the requester cannot reach the target directly, so it is not in its routing table: " + known);

        Map<String, String> attach = requester.run("attach " + target.id);
        System.out.printf("[overlay attach] %s: %s, Attach over %s overlay hops%n", label, attach.get("link"),
                attach.get("route_hops"));
        assertEquals("2", attach.get("route_hops"), "the Attach went requester -> public superpeer -> target");
        assertEquals("true", attach.get("authenticated"), "the DTLS session authenticated the target's node key");
        assertEquals(String.valueOf(relayed), attach.get("relayed"), label + ": " + attach.get("link"));
        assertTrue(Long.parseLong(p.run("counters").get("routed_forwarded")) >= 1, "the public superpeer forwarded it");
        assertTrue(Long.parseLong(target.run("counters").get("attach_served")) >= 1, "the target answered it");

        long before = Long.parseLong(requester.run("link " + target.id).get("path_datagrams"));
        assertEquals("3", requester.run("put attach-lab-key over the new link").get("put_stored"),
                "the public superpeer and both NATed superpeers store the value");
        assertEquals("over the new link", target.run("local attach-lab-key").get("local_values"),
                "the value is stored on the other NATed superpeer");
        assertEquals("over the new link", requester.run("get attach-lab-key").get("get_values"));

        Map<String, String> mine = requester.run("link " + target.id);
        Map<String, String> theirs = target.run("link " + requester.id);
        assertTrue(Long.parseLong(mine.get("path_datagrams")) > before,
                "the put and get answers arrived over the selected pair: " + mine);
        assertTrue(Long.parseLong(theirs.get("path_datagrams")) > 0, "the target received over the selected pair");
        assertEquals(mine.get("link_remote"), mine.get("sessions_with_peer"),
                "the requester's only DTLS session with the target is the one over the selected pair");
        assertEquals(theirs.get("link_remote"), theirs.get("sessions_with_peer"),
                "the target's only DTLS session with the requester is the one over the selected pair");
    }
}
