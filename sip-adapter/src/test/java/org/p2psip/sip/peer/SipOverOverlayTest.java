package org.p2psip.sip.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtException;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.overlay.OverlayRelay;
import org.p2psip.sip.overlay.RoutedSipOverlay;
import org.p2psip.sip.overlay.SipLocation;
import org.p2psip.sip.registrar.ContactBinding;
import org.p2psip.testing.Ports;
import org.p2psip.testing.Prerequisites;
import org.p2psip.testing.Sipp;
import org.p2psip.testing.Waits;

/**
 * SIP carried over the overlay: two peers on a 3-node loopback overlay, each in its own "site" (a site tag, as a
 * peer behind a NAT writes its router's public address), so neither proxy sends to the other's SIP address: every
 * request between them is a routed overlay message to the other peer's node, injected there from a relay socket, and
 * the answers and in-dialog requests (ACK, BYE) go back the same way. Real sipp phones register, call
 * (INVITE, 180, 200, ACK, BYE) and send MESSAGEs in both directions.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SipOverOverlayTest {
    @TempDir
    static Path dir;
    LoopbackOverlay overlay;
    SipPeer peer1;
    SipPeer peer2;
    final AtomicReference<SipLocation> site1 = new AtomicReference<>();
    final AtomicReference<SipLocation> site2 = new AtomicReference<>();

    @BeforeAll
    void start() throws Exception {
        Prerequisites.requireTools("sipp");
        overlay = new LoopbackOverlay(3, 11);
        site1.set(new SipLocation("site-a", List.of(overlay.node(1).id()), null));
        site2.set(new SipLocation("site-b", List.of(overlay.node(2).id()), null));
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        peer1 = SipPeer.start(config(any, "peer1"), overlay.node(1),
                new RoutedSipOverlay(() -> overlay.node(1), site1::get));
        peer2 = SipPeer.start(config(any, "peer2"), overlay.node(2),
                new RoutedSipOverlay(() -> overlay.node(2), site2::get));
    }

    SipPeer.Config config(InetSocketAddress bind, String name) {
        return SipPeer.Config.of(bind, SippAcrossPeersTest.DOMAIN, SippAcrossPeersTest.ACCOUNTS)
                .withAlgorithms(List.of("MD5")).withDataDir(dir.resolve(name)).withKeyKdf(SippAcrossPeersTest.TEST_KDF);
    }

    @AfterAll
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {peer1, peer2, overlay}) {
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
    void callsAndMessagesCrossTheOverlayBothWays() throws Exception {
        int alice = Ports.freeUdpPort();
        int bob = Ports.freeUdpPort();
        register("alice", peer1, alice);
        register("bob", peer2, bob);
        String path = peer1.contacts().lookup("sip:bob@" + SippAcrossPeersTest.DOMAIN).get(10, TimeUnit.SECONDS)
                .get(0).path();
        assertTrue(path.contains(";p2p-site=site-b;p2p-node=" + overlay.node(2).id().toHex()),
                "bob's record names peer 2's site and node: " + path);

        callAndMessage("alice", alice, peer1, "bob", bob);
        callAndMessage("bob", bob, peer2, "alice", alice);

        OverlayRelay.Stats r1 = peer1.overlayRelay().orElseThrow().stats();
        OverlayRelay.Stats r2 = peer2.overlayRelay().orElseThrow().stats();
        // per direction: INVITE, ACK, BYE, MESSAGE x 2 one way, their answers the other way; both ways
        assertTrue(r1.sent() >= 16 && r2.sent() >= 16, "datagrams carried: " + r1 + " / " + r2);
        assertTrue(r1.received() >= 16 && r2.received() >= 16, "datagrams delivered: " + r1 + " / " + r2);
        assertTrue(peer1.proxy().overlayHops() >= 8 && peer2.proxy().overlayHops() >= 8,
                "both proxies chose the overlay");
        assertEquals(0, r1.malformed() + r2.malformed() + r1.oversized() + r2.oversized());
    }

    /**
     * A bad payload routed to a peer's SIP handler and a datagram to a relay socket from anyone but the SIP port are
     * dropped and counted; a moved location is stored again in the contact record.
     */
    @Test
    void badPayloadsAreCountedAndAMovedLocationIsStoredAgain() throws Exception {
        OverlayRelay relay2 = peer2.overlayRelay().orElseThrow();
        long malformed = relay2.stats().malformed();
        overlay.node(0).route(overlay.node(2).id(), RoutedSipOverlay.APP_ID, Bytes.utf8("INVITE junk"))
                .get(10, TimeUnit.SECONDS);
        Waits.until(10_000, () -> relay2.stats().malformed() > malformed, "the bad payload counted");

        long foreign = relay2.stats().foreign();
        InetSocketAddress relaySocket = relay2.target(List.of(overlay.node(0).id())).address();
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            byte[] b = "OPTIONS sip:x SIP/2.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            s.send(new DatagramPacket(b, b.length, relaySocket));
        }
        Waits.until(10_000, () -> relay2.stats().foreign() > foreign, "the foreign datagram counted");

        int carol = Ports.freeUdpPort();
        register("carol", peer2, carol);
        String aor = "sip:carol@" + SippAcrossPeersTest.DOMAIN;
        site2.set(new SipLocation("site-b", List.of(overlay.node(0).id(), overlay.node(2).id()), null));
        try {
            // told at once here (the node tells on role and link events); the peer also checks every 5 s
            peer2.locationChanged().get(10, TimeUnit.SECONDS);
            String moved = ";p2p-node=" + overlay.node(0).id().toHex() + "." + overlay.node(2).id().toHex();
            Waits.until(10_000, () -> peer1.contacts().lookup(aor).join().stream().map(ContactBinding::path)
                    .anyMatch(p -> p.endsWith(moved)), "carol's record names the new gateways");
            assertEquals(1, peer1.contacts().lookup(aor).get(10, TimeUnit.SECONDS).size(), "replaced, not added");
        } finally {
            site2.set(new SipLocation("site-b", List.of(overlay.node(2).id()), null));
            peer2.locationChanged().get(10, TimeUnit.SECONDS);
        }
        try {
            overlay.node(0).route(overlay.node(2).id(), "nosuchapp", Bytes.utf8("x")).get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            assertTrue(e.getCause() instanceof DhtException, "an app without handler is refused by the overlay");
        }
    }

    void callAndMessage(String from, int fromPort, SipPeer at, String to, int toPort) throws Exception {
        Process callee = Sipp.require(dir, SippAcrossPeersTest.DOMAIN).startUas("uas_call.xml", toPort, 2);
        Sipp.Result caller = await(sipp("uac_call.xml", at, fromPort, 2, "-s", to, "-key", "caller", from), "uac_call.xml",
                fromPort);
        Sipp.Result answered = await(callee, "uas_call.xml", toPort);
        Sipp.assertAllSucceeded(caller, 2, from + " calls " + to + " (caller)");
        Sipp.assertAllSucceeded(answered, 2, from + " calls " + to + " (callee)");

        Process receiver = Sipp.require(dir, SippAcrossPeersTest.DOMAIN).startUas("uas_message.xml", toPort, 2);
        Sipp.Result sent = await(sipp("uac_message.xml", at, fromPort, 2, "-s", to, "-key", "caller", from),
                "uac_message.xml", fromPort);
        Sipp.Result received = await(receiver, "uas_message.xml", toPort);
        Sipp.assertAllSucceeded(sent, 2, from + " messages " + to + " (sender)");
        Sipp.assertAllSucceeded(received, 2, from + " messages " + to + " (receiver)");
    }

    void register(String user, SipPeer at, int port) throws Exception {
        Process p = sipp("register_auth.xml", at, port, 1, "-s", user, "-au", user, "-ap", user + "-secret");
        Sipp.assertAllSucceeded(await(p, "register_auth.xml", port), 1, "REGISTER " + user);
    }

    Process sipp(String scenario, SipPeer remote, int localPort, int calls, String... extra) throws Exception {
        return Sipp.require(dir, SippAcrossPeersTest.DOMAIN).start(scenario,
                remote == null ? null : remote.localAddress(), localPort, calls, extra);
    }

    Sipp.Result await(Process p, String scenario, int port) throws Exception {
        return Sipp.require(dir, SippAcrossPeersTest.DOMAIN).await(p, scenario, port);
    }
}
