package org.p2psip.sip.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.testing.Ports;
import org.p2psip.testing.Sipp;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.message.SipUri;
import org.p2psip.sip.registrar.ContactBinding;
import org.p2psip.sip.registrar.DigestAccounts;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.testing.Prerequisites;

/**
 * RFC 3327 end to end with real sipp on a 3-node loopback overlay: peer A is the edge (its proxy relays REGISTERs to
 * registrar peer B with its Path, a flow token), B stores bob's signed binding with that Path; a call from alice at
 * peer C reaches bob's phone through B and then A, which sends it down the flow the REGISTER came on: the phone's
 * Contact names a port where nothing listens (what a NAT hides), so only the flow reaches it.
 */
class EdgePathTest {
    static final String DOMAIN = "p2p.test";
    static final DigestAccounts ACCOUNTS = DigestAccounts.of(Map.of("alice", "alice-secret", "bob", "bob-secret",
            "dave", "dave-secret"));

    @TempDir
    Path dir;
    LoopbackOverlay overlay;
    SipPeer edge;
    SipPeer registrar;
    SipPeer callerPeer;

    @BeforeEach
    void start() throws Exception {
        Prerequisites.requireTools("sipp");
        overlay = new LoopbackOverlay(3, 33);
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        edge = SipPeer.start(config(any, "edge"), overlay.node(0));
        registrar = SipPeer.start(config(any, "registrar"), overlay.node(1));
        callerPeer = SipPeer.start(config(any, "caller"), overlay.node(2));
        SipUri upstream = SipUri.parse(registrar.proxy().selfUri());
        edge.proxy().upstreamRegistrar(() -> Optional.of(upstream));
    }

    SipPeer.Config config(InetSocketAddress bind, String name) {
        return SipPeer.Config.of(bind, DOMAIN, ACCOUNTS).withAlgorithms(List.of("MD5")).withDataDir(dir.resolve(name))
                .withKeyKdf(new PrivateKeyRecord.KdfParams(1024, 1, 1));
    }

    @AfterEach
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {edge, registrar, callerPeer, overlay}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // best effort
            }
        }
    }

    @Test
    void aPhoneRegisteredThroughTheEdgeIsCalledThroughItsPath() throws Exception {
        Sipp sipp = Sipp.require(dir, DOMAIN);
        int bobPort = Ports.freeUdpPort();
        Sipp.Result reg = sipp.await(sipp.start("register_edge.xml", edge.localAddress(), bobPort, 1,
                "-s", "bob", "-au", "bob", "-ap", "bob-secret", "-key", "contact_port", "9"),
                "register_edge.xml", bobPort);
        Sipp.assertAllSucceeded(reg, 1, "REGISTER of bob through the edge");
        assertTrue(edge.proxy().edgeStats().relayedRegisters() >= 2, "both REGISTERs went through the edge");
        assertEquals(0, edge.registrar().localBindings(), "the edge registers nothing itself");

        // the signed record, read from another peer: registered at B, with A's Path (a flow token) after it
        List<ContactBinding> bindings = callerPeer.contacts().lookup("sip:bob@" + DOMAIN).get(20, TimeUnit.SECONDS);
        assertEquals(1, bindings.size(), bindings.toString());
        ContactBinding b = bindings.get(0);
        assertEquals(registrar.proxy().selfUri(), b.path());
        assertEquals(1, b.pathHeaders().size(), b.toString());
        SipUri path = SipUri.parse(b.pathHeaders().get(0).replaceAll("^<|>$", ""));
        assertEquals(edge.localAddress().getPort(), path.port(), b.toString());
        assertTrue(path.user().isPresent() && path.looseRouting(), "a flow token and lr: " + path);
        assertTrue(b.contact().contains(":9>"), "the phone's private Contact is stored as sent: " + b.contact());

        // alice at peer C calls bob: C -> B (registrar) -> A (Path) -> bob's flow; ACK and BYE along the route set
        int calls = 2;
        Process callee = sipp.startUas("uas_call.xml", bobPort, calls);
        int alicePort = Ports.freeUdpPort();
        Sipp.Result caller = sipp.await(sipp.start("uac_call.xml", callerPeer.localAddress(), alicePort, calls,
                "-s", "bob"), "uac_call.xml", alicePort);
        Sipp.assertAllSucceeded(caller, calls, "alice's calls to bob through the edge");
        Sipp.assertAllSucceeded(sipp.await(callee, "uas_call.xml", bobPort), calls, "bob's phone behind the edge");
        // each INVITE came down the flow (the Contact's port 9 would have lost it), and so did the ACK
        assertTrue(edge.proxy().edgeStats().flowRouted() >= 2 * calls, edge.proxy().edgeStats().toString());
        assertTrue(registrar.proxy().stats().forwarded() >= calls, "the registrar relayed the calls");
    }

    /**
     * Offline delivery to a phone behind the edge: dave's certificate is published (he registered once at B and
     * left), alice's MESSAGE at C is stored for him (407, then 202); when dave registers through the edge, B delivers
     * it along his Path, the edge sends it down his flow, his phone answers 200 and B removes the record.
     */
    @Test
    void offlineMessagesReachAPhoneBehindTheEdge() throws Exception {
        Sipp sipp = Sipp.require(dir, DOMAIN);
        int once = Ports.freeUdpPort();
        Sipp.assertAllSucceeded(sipp.await(sipp.start("register_auth.xml", registrar.localAddress(), once, 1,
                "-s", "dave", "-au", "dave", "-ap", "dave-secret"), "register_auth.xml", once), 1, "dave registers");
        // the delivery run this REGISTER starts finds nothing; one run per user at a time, so let it end first
        org.p2psip.testing.Waits.until(20_000, () -> registrar.offline().orElseThrow().stats().runs() >= 1,
                "the registrar's first (empty) delivery run for dave");
        Sipp.assertAllSucceeded(sipp.await(sipp.start("unregister_auth.xml", registrar.localAddress(), once, 1,
                "-s", "dave", "-au", "dave", "-ap", "dave-secret"), "unregister_auth.xml", once), 1, "dave leaves");
        int alicePort = Ports.freeUdpPort();
        Sipp.assertAllSucceeded(sipp.await(sipp.start("uac_message_offline.xml", callerPeer.localAddress(), alicePort,
                1, "-s", "dave", "-au", "alice", "-ap", "alice-secret"), "uac_message_offline.xml", alicePort), 1,
                "alice's MESSAGE to offline dave: 407, then 202");
        var name = org.p2psip.storage.ResourceName.offline("dave@" + DOMAIN);
        assertEquals(1, new org.p2psip.storage.api.DraftDht(overlay.node(2)).get(name).get(10, TimeUnit.SECONDS)
                .size());

        int davePhone = Ports.freeUdpPort();
        Sipp.assertAllSucceeded(sipp.await(sipp.start("register_edge.xml", edge.localAddress(), davePhone, 1,
                "-s", "dave", "-au", "dave", "-ap", "dave-secret", "-key", "contact_port", "9"),
                "register_edge.xml", davePhone), 1, "dave registers through the edge");
        Sipp.assertAllSucceeded(sipp.await(sipp.start("uas_message_offline.xml", null, davePhone, 1),
                "uas_message_offline.xml", davePhone), 1, "dave's phone behind the edge gets the message");
        org.p2psip.testing.Waits.until(20_000, () -> new org.p2psip.storage.api.DraftDht(overlay.node(2)).get(name)
                .join().isEmpty(), "the offline record removed after the phone's 200");
        org.p2psip.testing.Waits.until(20_000, () -> registrar.offline().orElseThrow().stats().removed() >= 1,
                "the registrar counts the removal");
        var stats = registrar.offline().orElseThrow().stats();
        assertEquals(1, stats.delivered(), stats.toString());
        assertEquals(1, stats.removed(), stats.toString());
        assertTrue(edge.proxy().edgeStats().flowRouted() >= 1, "down dave's flow: " + edge.proxy().edgeStats());
    }
}
