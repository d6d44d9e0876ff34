package org.p2psip.nat.dtls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.p2psip.nat.dtls.DtlsStats.Counter;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.Fragmenter;
import org.p2psip.overlay.wire.Frame;
import org.p2psip.overlay.wire.Message;
import org.p2psip.overlay.wire.WireCodec;

/** Real overlay nodes over DTLS links on 127.0.0.1. */
@Timeout(120)
class DtlsOverlayTest {
    private static final OverlayConfig OVERLAY = OverlayConfig.defaults().withRateLimit(0, OverlayConfig.SourceKey.ENDPOINT);
    private static final DtlsConfig DTLS = DtlsConfig.defaults();

    private static OverlayNode node(DtlsTestSupport s, NodeId id, DtlsIdentity identity, WireCodec codec, Random rnd)
            throws Exception {
        DtlsLinkLayer layer = DtlsLinkLayer.bind(s.group, DtlsTestSupport.ANY_LOOPBACK, identity, DTLS).get(10, TimeUnit.SECONDS);
        return s.track(new OverlayNode(id, layer, OVERLAY, new SecretHashPolicy(), codec, rnd).start());
    }

    @Test
    void tenNodesJoinThroughOneBootstrapAndPutGetWorks() throws Exception {
        Random rnd = new Random(3);
        WireCodec codec = new WireCodec();
        try (DtlsTestSupport s = new DtlsTestSupport()) {
            List<OverlayNode> nodes = new ArrayList<>();
            List<DtlsLinkLayer> layers = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < 10; i++) {
                DtlsIdentity identity = DtlsIdentity.generate();
                DtlsLinkLayer layer = DtlsLinkLayer.bind(s.group, DtlsTestSupport.ANY_LOOPBACK, identity, DTLS)
                        .get(10, TimeUnit.SECONDS);
                layers.add(layer);
                OverlayNode n = s.track(new OverlayNode(identity.id(), layer, OVERLAY, new SecretHashPolicy(), codec, rnd)
                        .start());
                nodes.add(n);
                n.join(i == 0 ? List.of() : List.of(nodes.get(0).contact().address())).get(30, TimeUnit.SECONDS);
            }
            long joinMillis = (System.nanoTime() - t0) / 1_000_000;
            for (OverlayNode n : nodes) {
                assertTrue(n.isJoined());
                assertTrue(n.neighbours().get(10, TimeUnit.SECONDS).size() >= 5, "neighbours of " + n.id().shortHex());
            }
            long now = System.currentTimeMillis();
            for (int i = 0; i < 10; i++) {
                DhtValue v = SecretHashPolicy.value(Bytes.utf8("value " + i), Bytes.EMPTY, now + 3_600_000);
                NodeId key = NodeId.ofName("dtls key " + i);
                nodes.get(rnd.nextInt(10)).put(key, v).get(30, TimeUnit.SECONDS);
                assertEquals(List.of(v), nodes.get(rnd.nextInt(10)).get(key).get(30, TimeUnit.SECONDS), "key " + i);
            }
            // a value that needs fragmentation (the overlay splits frames above 1,200 bytes)
            byte[] big = new byte[6_000];
            rnd.nextBytes(big);
            DhtValue bigValue = SecretHashPolicy.value(Bytes.wrap(big), Bytes.EMPTY, now + 3_600_000);
            NodeId bigKey = NodeId.ofName("dtls big key");
            nodes.get(1).put(bigKey, bigValue).get(30, TimeUnit.SECONDS);
            assertEquals(List.of(bigValue), nodes.get(7).get(bigKey).get(30, TimeUnit.SECONDS));

            // every link is authenticated: the id a layer authenticated for a neighbour's address is its node id
            int checked = 0;
            for (int i = 0; i < nodes.size(); i++) {
                for (Contact c : nodes.get(i).neighbours().get(10, TimeUnit.SECONDS)) {
                    var id = layers.get(i).authenticatedId(c.address());
                    if (id.isPresent()) {
                        assertEquals(c.id(), id.get());
                        checked++;
                    }
                }
                assertEquals(0, layers.get(i).stats().get(Counter.IMPOSTOR_FRAMES));
                assertEquals(0, layers.get(i).stats().get(Counter.AUTH_FAILURES));
            }
            assertTrue(checked >= 20, "authenticated links checked: " + checked);
            System.out.printf("10 nodes joined over DTLS in %d ms; bootstrap stats %s%n", joinMillis, layers.get(0).stats());
        }
    }

    @Test
    void anImpostorWhoseFramesClaimAnotherIdThanItsKeyIsRefused() throws Exception {
        Random rnd = new Random(4);
        WireCodec codec = new WireCodec();
        try (DtlsTestSupport s = new DtlsTestSupport()) {
            DtlsIdentity bootId = DtlsIdentity.generate();
            DtlsLinkLayer bootLayer = DtlsLinkLayer.bind(s.group, DtlsTestSupport.ANY_LOOPBACK, bootId, DTLS)
                    .get(10, TimeUnit.SECONDS);
            OverlayNode boot = s.track(new OverlayNode(bootId.id(), bootLayer, OVERLAY, new SecretHashPolicy(), codec, rnd)
                    .start());
            boot.join(List.of()).get(10, TimeUnit.SECONDS);
            OverlayNode honest = joinedNode(s, codec, rnd, boot);

            // the impostor's DTLS key is its own, but it claims a chosen overlay id (here: one next to a key it wants)
            DtlsIdentity impostorKey = DtlsIdentity.generate();
            NodeId chosen = NodeId.ofName("sip:victim@example.net");
            DtlsLinkLayer impostorLayer = DtlsLinkLayer.bind(s.group, DtlsTestSupport.ANY_LOOPBACK, impostorKey, DTLS)
                    .get(10, TimeUnit.SECONDS);
            OverlayNode impostor = s.track(new OverlayNode(chosen, impostorLayer, OVERLAY, new SecretHashPolicy(), codec, rnd)
                    .start());
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> impostor.join(List.of(boot.contact().address())).get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("no bootstrap node answered"), e.getCause().toString());
            assertTrue(bootLayer.stats().get(Counter.IMPOSTOR_FRAMES) >= 1, bootLayer.stats().toString());
            for (Contact c : boot.neighbours().get(10, TimeUnit.SECONDS)) {
                assertFalse(c.id().equals(chosen), "the impostor reached the routing table");
            }
            assertTrue(bootLayer.authenticatedId(impostorLayer.localAddress()).isEmpty());

            // fragmented frames are checked after reassembly, through LinkLayer.acceptSender
            long impostorFrames = bootLayer.stats().get(Counter.IMPOSTOR_FRAMES);
            long now = System.currentTimeMillis();
            byte[] big = new byte[5_000];
            rnd.nextBytes(big);
            DhtValue value = SecretHashPolicy.value(Bytes.wrap(big), Bytes.EMPTY, now + 3_600_000);
            NodeId key = NodeId.ofName("fragmented");
            sendFragmented(impostorLayer, boot.contact().address(), codec, chosen, new Message.Put(key, value, false));
            DtlsTestSupport.await("the reassembled frame is refused", 10_000,
                    () -> bootLayer.stats().get(Counter.IMPOSTOR_FRAMES) > impostorFrames);
            assertTrue(boot.localValues(key).get(10, TimeUnit.SECONDS).isEmpty());
            // the same frame with the sender id the key hashes to is accepted
            sendFragmented(impostorLayer, boot.contact().address(), codec, impostorKey.id(), new Message.Put(key, value, false));
            DtlsTestSupport.await("the honest frame is stored", 10_000,
                    () -> !boot.localValues(key).join().isEmpty());

            // honest nodes are unaffected
            DhtValue v = SecretHashPolicy.value(Bytes.utf8("fine"), Bytes.EMPTY, now + 3_600_000);
            honest.put(NodeId.ofName("k"), v).get(30, TimeUnit.SECONDS);
            assertEquals(List.of(v), boot.get(NodeId.ofName("k")).get(30, TimeUnit.SECONDS));
        }
    }

    private static OverlayNode joinedNode(DtlsTestSupport s, WireCodec codec, Random rnd, OverlayNode boot) throws Exception {
        DtlsIdentity identity = DtlsIdentity.generate();
        OverlayNode n = node(s, identity.id(), identity, codec, rnd);
        n.join(List.of(boot.contact().address())).get(30, TimeUnit.SECONDS);
        return n;
    }

    private static void sendFragmented(DtlsLinkLayer layer, InetSocketAddress to, WireCodec codec, NodeId sender, Message m) {
        byte[] frame = codec.encode(new Frame(false, new Random().nextLong(), sender, m));
        for (byte[] d : Fragmenter.split(frame, OVERLAY.maxDatagramBytes(), new Random().nextLong())) {
            layer.send(to, d);
        }
    }
}
