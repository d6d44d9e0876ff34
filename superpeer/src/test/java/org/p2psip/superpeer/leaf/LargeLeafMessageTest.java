package org.p2psip.superpeer.leaf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.p2psip.testing.Waits.await;
import static org.p2psip.testing.Waits.until;

import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.link.LinkLayer;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.Fragmenter;
import org.p2psip.superpeer.discovery.Ed25519Keys;

/**
 * A leaf-protocol message larger than the link's datagram limit (a DTLS link carries one 16 KiB record) is split and
 * reassembled by {@link LinkMux}: a leaf stores and reads back a 60,000-byte value through its superpeer over links
 * that drop every datagram above 1,200 bytes, and bad fragments are counted drops.
 */
class LargeLeafMessageTest {
    private static final int MTU = 1_200;

    @Test
    void aLeafStoresAndReadsAValueLargerThanTheLinksDatagrams() throws Exception {
        try (LoopbackSite site = new LoopbackSite()) {
            OverlayConfig cfg = LoopbackSite.LOOPBACK.withMaxDatagramBytes(MTU);
            OverlayNode boot = new OverlayNode(NodeId.random(site.rnd), FilteringLink.withMtu(site.bind(), MTU), cfg,
                    new SecretHashPolicy(), site.codec, new Random(1)).start();
            site.closing.add(boot);
            await(boot.join(List.of()));

            Ed25519Keys spKeys = Ed25519Keys.generate();
            FilteringLink spLink = FilteringLink.withMtu(site.bind(), MTU);
            LinkMux spMux = new LinkMux(spLink);
            OverlayNode sp = new OverlayNode(spKeys.id(), spMux.overlay(), cfg, new SecretHashPolicy(), site.codec,
                    new Random(2)).start();
            site.closing.add(sp);
            await(sp.join(List.of(boot.contact().address())));
            LeafService service = new LeafService(spKeys, spMux.superpeerSide(), sp, LeafService.Config.defaults(),
                    () -> null).start();
            site.closing.add(service);

            FilteringLink leafLink = FilteringLink.withMtu(site.bind(), MTU);
            LinkMux leafMux = new LinkMux(leafLink);
            LeafDht.SuperpeerRef ref = new LeafDht.SuperpeerRef(spKeys.id(), spLink.localAddress());
            LeafDht leaf = new LeafDht(Ed25519Keys.generate(), leafMux.leafSide(), () -> List.of(ref),
                    LeafDht.Config.defaults()).start();
            site.closing.add(0, leaf);
            until(10_000, () -> leaf.primary().isPresent(), "the leaf attached to its superpeer");

            byte[] big = new byte[60_000];
            new Random(3).nextBytes(big);
            DhtValue v = SecretHashPolicy.value(Bytes.of(big), Bytes.EMPTY, System.currentTimeMillis() + 600_000);
            NodeId key = NodeId.ofName("sip:large@example.net");
            PutResult r = await(leaf.put(key, v));
            assertTrue(r.stored() >= 2, "stored on both overlay nodes: " + r);
            assertEquals(List.of(v), await(leaf.get(key)), "the leaf reads the whole value back");
            assertEquals(0, spLink.dropped.get() + leafLink.dropped.get(), "no datagram above the link's limit");
            assertEquals(0, spMux.droppedFragments() + leafMux.droppedFragments());
        }
    }

    @Test
    void badMuxFragmentsAreCountedDrops() throws Exception {
        try (LoopbackSite site = new LoopbackSite()) {
            LinkLayer target = site.bind();
            LinkMux mux = new LinkMux(target);
            AtomicInteger overlayFrames = new AtomicInteger();
            mux.overlay().setReceiver((from, d, len) -> overlayFrames.incrementAndGet());
            LinkLayer sender = site.bind();
            // a mux stream (top bit) claiming 1 fragment of 1: malformed
            byte[] bad = Fragmenter.split(new byte[3_000], 1_200, Long.MIN_VALUE).get(0);
            bad[14] = 0;
            bad[15] = 1;
            sender.send(target.localAddress(), bad);
            // a whole mux stream whose content is not a leaf message: dropped, not handed to the overlay
            for (byte[] f : Fragmenter.split(new byte[3_000], 1_200, Long.MIN_VALUE | 7)) {
                sender.send(target.localAddress(), f);
            }
            until(5_000, () -> mux.droppedFragments() == 2, "both counted as drops");
            assertEquals(0, overlayFrames.get(), "nothing reached the overlay");
        }
    }
}
