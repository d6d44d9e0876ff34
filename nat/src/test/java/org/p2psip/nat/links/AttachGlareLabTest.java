package org.p2psip.nat.links;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.p2psip.nat.lab.NatLab;
import org.p2psip.nat.lab.NatType;
import org.p2psip.nat.lab.PublicHost;
import org.p2psip.nat.lab.Site;
import org.p2psip.testing.ClassResource;
import org.p2psip.testing.CommandChild;

/**
 * Two superpeers behind port-restricted kernel NATs attach to each other at the same moment, each with its Attach
 * routed through a public superpeer. They must end with one link, not two: the one with the lower id keeps its
 * Attach and refuses the other's, the one with the higher id answers and its own attach ends with that link
 * ({@code IceLinks.connect}). Each side then holds exactly one authenticated link to the other, one as controlling and
 * one as controlled agent of the same ICE session, and overlay RPCs (a put stored on the other, a get) cross it.
 * Needs root, iproute2 and iptables; under CI=true their absence fails the test.
 */
@Timeout(600)
class AttachGlareLabTest {
    @RegisterExtension
    static final ClassResource<NatLab> LAB = ClassResource.of(NatLab::prerequisiteProblems, NatLab::create);

    @Test
    void twoPeersAttachingToEachOtherAtOnceEndWithOneLink() throws Exception {
        PublicHost pub = LAB.get().addPublicHost("glare", 1);
        String pubIp = pub.addresses().get(0).getHostAddress();
        String ice = pubIp + ":3478";
        Site aSite = LAB.get().addSite("glarea", NatType.PORT_RESTRICTED, 30);
        Site bSite = LAB.get().addSite("glareb", NatType.PORT_RESTRICTED, 30);
        try (CommandChild p = LabNode.start(LAB.get(), "public", pub.namespace(),
                        List.of("--bind", pubIp, "--port", "4222", "--ice", ice, "--turn-server"));
                CommandChild a = LabNode.start(LAB.get(), "a", aSite.hostNamespace(),
                        List.of("--bind", aSite.hostAddress().getHostAddress(), "--ice", ice));
                CommandChild b = LabNode.start(LAB.get(), "b", bSite.hostNamespace(),
                        List.of("--bind", bSite.hostAddress().getHostAddress(), "--ice", ice))) {
            try {
                run(p, a, b);
            } catch (AssertionError | Exception e) {
                System.out.println("[attach glare] failed; public:\n" + p.log() + "\na:\n" + a.log() + "\nb:\n" + b.log());
                throw e;
            }
        }
    }

    private static void run(CommandChild p, CommandChild a, CommandChild b) throws Exception {
        a.run("join " + p.address);
        b.run("join " + p.address);
        // both ask at the same moment, each not knowing of the other's Attach
        CompletableFuture<Map<String, String>> fromA = CompletableFuture.supplyAsync(() -> attach(a, b));
        CompletableFuture<Map<String, String>> fromB = CompletableFuture.supplyAsync(() -> attach(b, a));
        Map<String, String> la = fromA.get(180, TimeUnit.SECONDS);
        Map<String, String> lb = fromB.get(180, TimeUnit.SECONDS);
        System.out.println("[attach glare] a: " + la + "\n[attach glare] b: " + lb);
        assertEquals("true", la.get("authenticated"), "a's link authenticated b's node key");
        assertEquals("true", lb.get("authenticated"), "b's link authenticated a's node key");

        Map<String, String> ca = a.run("counters");
        Map<String, String> cb = b.run("counters");
        long resolved = 0;
        for (Map<String, String> c : List.of(ca, cb)) {
            resolved += Long.parseLong(c.get("glare_refused")) + Long.parseLong(c.get("glare_yielded"))
                    + Long.parseLong(c.get("setups_shared"));
        }
        System.out.println("[attach glare] counters a: " + ca + "\n[attach glare] counters b: " + cb);
        assertTrue(resolved >= 1, "the second attach was refused or joined the first, not run as a second ICE session");

        Map<String, String> ma = a.run("link " + b.id);
        Map<String, String> mb = b.run("link " + a.id);
        assertEquals("1", ma.get("links_with_peer"), "a holds exactly one link to b: " + ma);
        assertEquals("1", mb.get("links_with_peer"), "b holds exactly one link to a: " + mb);
        assertNotEquals(ma.get("link_controlling"), mb.get("link_controlling"),
                "the two ends are the controlling and the controlled agent of one ICE session");
        assertEquals(ma.get("link_remote"), ma.get("sessions_with_peer"), "a's only DTLS session with b is over the link");
        assertEquals(mb.get("link_remote"), mb.get("sessions_with_peer"), "b's only DTLS session with a is over the link");

        long before = Long.parseLong(ma.get("path_datagrams"));
        assertEquals("3", a.run("put glare-key over the one link").get("put_stored"),
                "the public superpeer and both NATed superpeers store the value");
        assertEquals("over the one link", b.run("local glare-key").get("local_values"));
        assertEquals("over the one link", b.run("get glare-key").get("get_values"));
        assertTrue(Long.parseLong(a.run("link " + b.id).get("path_datagrams")) > before, "answers came over the link");

        Thread.sleep(3_000); // no second link turns up later
        assertEquals("1", a.run("link " + b.id).get("links_with_peer"));
        assertEquals("1", b.run("link " + a.id).get("links_with_peer"));
    }

    private static Map<String, String> attach(CommandChild from, CommandChild to) {
        try {
            return from.run("attach " + to.id);
        } catch (Exception e) {
            throw new IllegalStateException(from.name + ": attach " + to.id + " failed: " + e.getMessage(), e);
        }
    }
}
