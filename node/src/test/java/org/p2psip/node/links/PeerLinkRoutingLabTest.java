package org.p2psip.node.links;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
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
 * Once a NATed {@link org.p2psip.node.Peer} has an ICE link to another, its lookups reach that peer over the link,
 * not at the address the other nodes report (the peer's NAT mapping towards them, which drops everyone else's
 * datagrams). Real kernel NATs: two public Peers (the bootstrap runs STUN and a TURN relay) and two Peers behind a
 * port-restricted and a symmetric NAT, whose attachers set up a relayed link by themselves (as in
 * {@link PeerAttachLabTest}). The overlay runs with k = 2 and the node ids are chosen so that the port-restricted
 * peer's routing table has no room for the symmetric one (its bucket holds the two public peers, one per sub-range),
 * as in a large overlay whose far buckets are full: a lookup for the symmetric peer's id then learns it only from the
 * public peers' answers, at its NAT's address. The lookups must find it (over the link) with no RPC timeout and no
 * request that went unanswered. Needs root, iproute2 and iptables; under CI=true their absence fails.
 */
@Timeout(600)
class PeerLinkRoutingLabTest {
    @RegisterExtension
    static final ClassResource<NatLab> LAB = ClassResource.of(NatLab::prerequisiteProblems, NatLab::create);

    @Test
    void lookupsReachALinkedNatedPeerOverTheLinkNotAtItsReportedAddress() throws Exception {
        PublicHost pub = LAB.get().addPublicHost("rboot", 1);
        PublicHost pub2 = LAB.get().addPublicHost("rpub", 1);
        String pubIp = pub.addresses().get(0).getHostAddress();
        String pub2Ip = pub2.addresses().get(0).getHostAddress();
        Site prSite = LAB.get().addSite("rpr", NatType.PORT_RESTRICTED, 60);
        Site symSite = LAB.get().addSite("rsym", NatType.SYMMETRIC, 60);
        String boot = pubIp + ":4222";
        List<String> k2 = List.of("--k", "2");
        try (CommandChild b = LabPeer.start(LAB.get(), "boot", pub.namespace(), args(k2, "--bind", pubIp, "--port", "4222",
                        "--turn-account", "overlay:lab-secret", "--id-prefix", "10"));
                CommandChild p2 = LabPeer.start(LAB.get(), "public2", pub2.namespace(), args(k2, "--bind", pub2Ip,
                        "--bootstrap", boot, "--id-prefix", "11"));
                CommandChild sym = LabPeer.start(LAB.get(), "symmetric", symSite.hostNamespace(), args(k2, "--bind",
                        symSite.hostAddress().getHostAddress(), "--bootstrap", boot, "--link-turn", "overlay:lab-secret",
                        "--id-prefix", "1"));
                CommandChild pr = LabPeer.start(LAB.get(), "port-restricted", prSite.hostNamespace(), args(k2, "--bind",
                        prSite.hostAddress().getHostAddress(), "--bootstrap", boot, "--link-turn", "overlay:lab-secret",
                        "--id-prefix", "0"))) {
            try {
                run(pr, sym);
            } catch (AssertionError | Exception e) {
                System.out.println("[link routing] failed; bootstrap:\n" + b.log() + "\npublic2:\n" + p2.log()
                        + "\nport-restricted:\n" + pr.log() + "\nsymmetric:\n" + sym.log());
                throw e;
            }
        }
    }

    private static void run(CommandChild pr, CommandChild sym) throws Exception {
        Waits.until(180_000, () -> linked(pr, sym) && linked(sym, pr),
                "a relayed ICE link between the NATed peers, set up by their attachers, its DTLS session authenticated");
        Map<String, String> before = pr.run("counters");
        long unansweredBefore = Long.parseLong(pr.run("links").get("attach_unanswered_linked"));
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Map<String, String> l = pr.run("lookup " + sym.id);
            assertTrue(l.get("lookup_ids").startsWith(sym.id), "the lookup found the symmetric peer: " + l);
            millis.add(Long.parseLong(l.get("lookup_ms")));
        }
        Map<String, String> after = pr.run("counters");
        Map<String, String> links = pr.run("links");
        System.out.println("[link routing] lookups of the linked peer's id: " + millis + " ms; port-restricted "
                + before + " -> " + after + "; " + links);
        assertEquals(before.get("rpc_timeouts"), after.get("rpc_timeouts"),
                "no request of the lookups timed out: none went to the NAT address the public peers report");
        assertEquals(unansweredBefore, Long.parseLong(links.get("attach_unanswered_linked")),
                "no request to the linked peer went unanswered");
        assertEquals("1", links.get("links_relayed"), "still the one relayed link: " + links);
    }

    private static List<String> args(List<String> common, String... more) {
        List<String> all = new ArrayList<>(common);
        all.addAll(List.of(more));
        return all;
    }

    /** Whether {@code p} has a relayed ICE link whose DTLS session authenticated {@code other}. */
    static boolean linked(CommandChild p, CommandChild other) {
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
