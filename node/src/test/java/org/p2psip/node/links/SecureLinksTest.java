package org.p2psip.node.links;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.nat.dtls.DtlsConfig;
import org.p2psip.nat.dtls.DtlsIdentity;
import org.p2psip.nat.dtls.DtlsLinkLayer;
import org.p2psip.nat.dtls.DtlsStats.Counter;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;
import org.p2psip.node.identity.NodeKeys;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.link.UdpLinkLayer;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.WireCodec;
import org.p2psip.testing.Waits;

/**
 * Peers on loopback over their default links, DTLS authenticated with the node keys (nat's {@link DtlsLinkLayer}):
 * values cross a 3-peer cluster, every session authenticated exactly the peer's node id, the metrics and status count
 * the links as direct; a node that claims another's id, or presents another's certificate, is refused; and with
 * {@code --link-security none} peers still run over plain UDP.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SecureLinksTest {
    @TempDir
    Path tmp;

    private final List<Peer> peers = new ArrayList<>();
    private final List<AutoCloseable> others = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = others.size() - 1; i >= 0; i--) {
            others.get(i).close(); // nodes before the event loop group they run on
        }
        peers.forEach(Peer::close);
    }

    private static DhtValue value(String text) {
        return SecretHashPolicy.value(Bytes.utf8(text), Bytes.EMPTY, System.currentTimeMillis() + 600_000);
    }

    @Test
    void threePeersStoreAndFindValuesOverAuthenticatedDtlsSessions() throws Exception {
        TestSupport.startCluster(peers, tmp, 3, b -> b);
        Peer p0 = peers.get(0);
        Peer p2 = peers.get(2);
        for (Peer p : peers) {
            assertEquals(LinkSecurity.DTLS, p.linkSecurity());
            assertNotNull(p.links().secure(), "DTLS is the default");
        }
        NodeId key = NodeId.ofName("dtls-value");
        assertTrue(p0.dht().put(key, value("over DTLS")).get(20, TimeUnit.SECONDS).stored() >= 3);
        List<DhtValue> got = p2.dht().get(key).get(20, TimeUnit.SECONDS);
        assertEquals(1, got.size());
        assertEquals("over DTLS", got.get(0).data().utf8String());
        // every peer's DTLS layer authenticated each other peer at its overlay address as exactly that node id
        for (Peer p : peers) {
            DtlsLinkLayer layer = p.links().secure().layer();
            for (Peer q : peers) {
                if (q != p) {
                    Waits.until(10_000, () -> layer.authenticatedId(q.overlayAddress()).isPresent(),
                            p.id().shortHex() + " has a DTLS session with " + q.id().shortHex());
                    assertEquals(Optional.of(q.id()), layer.authenticatedId(q.overlayAddress()));
                }
            }
            assertEquals(0, layer.stats().get(Counter.AUTH_FAILURES));
            assertEquals(0, layer.stats().get(Counter.IMPOSTOR_FRAMES));
        }
        LinkCounts c = p0.linkCounts().get(10, TimeUnit.SECONDS);
        assertTrue(c.direct() >= 2 && c.ice() == 0 && c.relayed() == 0, c.toString());
        String status;
        try (org.p2psip.node.control.ControlClient cc = org.p2psip.node.control.ControlClient.connect(
                p0.controlAddress().getPort(), 30_000)) {
            status = String.join("\n", cc.request("STATUS").lines());
        }
        assertTrue(status.contains("link-security dtls"), status);
        assertTrue(status.matches("(?s).*links \\d+/\\d+ \\(direct [2-9]\\d*, ice 0, relayed 0\\).*"), status);
    }

    @Test
    void aNodeClaimingAnotherIdOrPresentingAnotherCertificateIsRefused() throws Exception {
        TestSupport.startCluster(peers, tmp, 2, b -> b);
        Peer p0 = peers.get(0);
        Peer victim = peers.get(1);
        DtlsLinkLayer layer0 = p0.links().secure().layer();
        EventLoopGroup group = UdpLinkLayer.newEventLoopGroup(1);
        others.add(() -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS));

        // 1. an overlay node that claims the victim's node id, on a DTLS layer whose (valid) key hashes to another id
        DtlsIdentity own = DtlsIdentity.generate();
        DtlsLinkLayer impostorLayer = DtlsLinkLayer.bind(group, new InetSocketAddress(TestSupport.localhost(), 0), own,
                DtlsConfig.defaults()).get(10, TimeUnit.SECONDS);
        OverlayNode impostor = new OverlayNode(victim.id(), impostorLayer, TestSupport.CONFIG,
                new SecretHashPolicy(), new WireCodec(), new SecureRandom()).start();
        others.add(impostor);
        ExecutionException refused = assertThrows(ExecutionException.class,
                () -> impostor.ping(p0.overlayAddress()).get(20, TimeUnit.SECONDS));
        System.out.println("impostor claiming " + victim.id().shortHex() + ": " + refused.getCause());
        Waits.until(10_000, () -> layer0.stats().get(Counter.IMPOSTOR_FRAMES) >= 1, "the impostor's frame counted");
        List<Contact> table = p0.overlay().neighbours().get(10, TimeUnit.SECONDS);
        assertFalse(table.stream().anyMatch(ct -> ct.address().equals(impostorLayer.localAddress())),
                "the impostor's address is not in the routing table: " + table);
        assertTrue(table.stream().filter(ct -> ct.id().equals(victim.id()))
                .allMatch(ct -> ct.address().equals(victim.overlayAddress())), table.toString());

        // 2. a node that presents the victim's certificate without the victim's private key: the handshake fails
        NodeKeys attackerKeys = NodeKeys.generate();
        byte[] victimCertificate = DtlsIdentity.of(victim.keys().privateKey(), victim.keys().publicKey()).certificate();
        DtlsIdentity stolen = DtlsIdentity.withCertificate(attackerKeys.privateKey(), victimCertificate);
        DtlsLinkLayer thiefLayer = DtlsLinkLayer.bind(group, new InetSocketAddress(TestSupport.localhost(), 0), stolen,
                DtlsConfig.defaults().withHandshake(3_000, 500, 8)).get(10, TimeUnit.SECONDS);
        OverlayNode thief = new OverlayNode(victim.id(), thiefLayer, TestSupport.CONFIG, new SecretHashPolicy(),
                new WireCodec(), new SecureRandom()).start();
        others.add(thief);
        long authFailures = layer0.stats().get(Counter.AUTH_FAILURES) + layer0.stats().get(Counter.HANDSHAKES_FAILED);
        assertThrows(ExecutionException.class, () -> thief.ping(p0.overlayAddress()).get(20, TimeUnit.SECONDS));
        Waits.until(10_000, () -> layer0.stats().get(Counter.AUTH_FAILURES) + layer0.stats().get(Counter.HANDSHAKES_FAILED)
                > authFailures, "the stolen certificate's handshake refused");
        assertTrue(layer0.authenticatedId(thiefLayer.localAddress()).isEmpty());
        System.out.println("p0 DTLS counters: " + layer0.stats());

        // the real victim still works, and the refusals show in the metrics
        NodeId key = NodeId.ofName("after-impostors");
        assertTrue(victim.dht().put(key, value("still fine")).get(20, TimeUnit.SECONDS).stored() >= 2);
        assertEquals(1, p0.dht().get(key).get(20, TimeUnit.SECONDS).size());
        p0.metrics().refresh().get(10, TimeUnit.SECONDS);
        String text = new String(p0.metrics().scrape(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("p2psip_drops_total{reason=\"link_refused_peer\"}")
                && !l.endsWith(" 0.0")), text);
    }

    @Test
    void linkSecurityNoneRunsThePeersOverPlainUdp() throws Exception {
        TestSupport.startCluster(peers, tmp, 3, b -> b.linkSecurity(LinkSecurity.NONE));
        for (Peer p : peers) {
            assertEquals(LinkSecurity.NONE, p.linkSecurity());
            assertEquals(null, p.links().secure());
        }
        NodeId key = NodeId.ofName("plain-value");
        assertTrue(peers.get(0).dht().put(key, value("over UDP")).get(20, TimeUnit.SECONDS).stored() >= 3);
        assertEquals("over UDP", peers.get(2).dht().get(key).get(20, TimeUnit.SECONDS).get(0).data().utf8String());
        LinkCounts c = peers.get(0).linkCounts().get(10, TimeUnit.SECONDS);
        assertTrue(c.direct() >= 2 && c.ice() == 0 && c.relayed() == 0, c.toString());
        assertEquals("none", LinkSecurity.NONE.toString());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> LinkSecurity.parse("tls"));
        assertTrue(bad.getMessage().contains("'tls'"), bad.getMessage());
    }
}
