package org.p2psip.superpeer.leaf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.p2psip.testing.Waits.await;
import static org.p2psip.testing.Waits.until;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.link.LinkLayer;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtException;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.Message.Status;
import org.p2psip.superpeer.discovery.Ed25519Keys;
import org.p2psip.superpeer.leaf.LeafCrypto.Ephemeral;
import org.p2psip.superpeer.leaf.LeafMessage.Attach;
import org.p2psip.superpeer.leaf.LoopbackSite.Superpeer;

/** A live superpeer and leaf under junk, forged and replayed datagrams, and a leaf over its rate. */
class LeafHostileInputTest {
    @Test
    void junkForgeriesAndReplaysAreCountedAndServiceGoesOn() throws Exception {
        try (LoopbackSite site = new LoopbackSite(); DatagramSocket attacker = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            site.startBootstrap();
            Superpeer sp = site.startSuperpeer(LeafService.Config.defaults(), () -> null);
            InetSocketAddress to = sp.ref().address();
            LeafDht leaf = site.startLeaf(Ed25519Keys.generate(), () -> List.of(sp.ref()));
            until(10_000, () -> leaf.primary().isPresent(), "attachment");
            Random rnd = new Random(3);
            int sent = 0;
            for (int i = 0; i < 2_000; i++) {
                byte[] d = new byte[rnd.nextInt(200) + 4];
                rnd.nextBytes(d);
                d[0] = 'P';
                d[1] = 'L';
                d[2] = 1;
                d[3] = (byte) rnd.nextInt(0x40); // leaf-to-superpeer types, handshake and session
                attacker.send(new DatagramPacket(d, d.length, to));
                sent++;
            }
            // an attach signed by another key than the one it carries (an impostor of a leaf id)
            Ed25519Keys victim = Ed25519Keys.generate();
            byte[] forged = LeafCodec.attach(new Attach(Bytes.wrap(victim.rawPublicKey()), Ephemeral.generate().publicKey(),
                    sp.keys.id(), System.currentTimeMillis(), false), Ed25519Keys.generate());
            attacker.send(new DatagramPacket(forged, forged.length, to));
            // a valid attach meant for another superpeer
            Ed25519Keys mallory = Ed25519Keys.generate();
            byte[] elsewhere = LeafCodec.attach(new Attach(Bytes.wrap(mallory.rawPublicKey()), Ephemeral.generate().publicKey(),
                    NodeId.random(rnd), System.currentTimeMillis(), false), mallory);
            attacker.send(new DatagramPacket(elsewhere, elsewhere.length, to));
            // a valid attach, then an older one (a replay of an earlier attach with another ephemeral key)
            long now = System.currentTimeMillis();
            byte[] fresh = LeafCodec.attach(new Attach(Bytes.wrap(mallory.rawPublicKey()), Ephemeral.generate().publicKey(),
                    sp.keys.id(), now, false), mallory);
            byte[] older = LeafCodec.attach(new Attach(Bytes.wrap(mallory.rawPublicKey()), Ephemeral.generate().publicKey(),
                    sp.keys.id(), now - 1_000, false), mallory);
            attacker.send(new DatagramPacket(fresh, fresh.length, to));
            until(5_000, () -> sp.service.leaves().size() == 2, "mallory's session");
            attacker.send(new DatagramPacket(older, older.length, to));
            until(10_000, () -> sp.service.malformed() >= 3, "the forged, misdirected and replayed attaches counted");
            // junk at the leaf's socket too
            for (int i = 0; i < 500; i++) {
                byte[] d = new byte[rnd.nextInt(200) + 4];
                rnd.nextBytes(d);
                d[0] = 'P';
                d[1] = 'L';
                d[2] = 1;
                d[3] = (byte) (0x40 + rnd.nextInt(0x10));
                attacker.send(new DatagramPacket(d, d.length, leaf.localAddress()));
            }
            NodeId k = NodeId.ofName("sip:still@example.net");
            await(leaf.put(k, SecretHashPolicy.value(Bytes.utf8("works"), Bytes.EMPTY, now + 600_000)));
            assertEquals(1, await(leaf.get(k)).size());
            System.out.printf("superpeer dropped %d of %d hostile datagrams as malformed%n", sp.service.malformed(), sent + 4);
            assertTrue(sp.service.malformed() >= sent * 9 / 10, "most junk is counted, none is fatal");
            assertTrue(leaf.malformed() >= 450, "the leaf counted the junk: " + leaf.malformed());
            assertEquals(1, leaf.primary().stream().count());
        }
    }

    /** Drops the first {@code n} NOTIFY datagrams the superpeer sends. */
    static FilteringLink dropNotifies(LinkLayer inner, int n) {
        AtomicInteger toDrop = new AtomicInteger(n);
        return new FilteringLink(inner, inner.maxDatagramBytes(),
                d -> d.length > 4 && d[3] == LeafCodec.NOTIFY && toDrop.getAndDecrement() > 0);
    }

    @Test
    void aLostNotificationIsSentAgain() throws Exception {
        try (LoopbackSite site = new LoopbackSite()) {
            site.startBootstrap();
            FilteringLink[] lossy = new FilteringLink[1];
            Superpeer sp = site.startSuperpeer(LeafService.Config.defaults(), () -> null,
                    l -> lossy[0] = dropNotifies(l, 2));
            LeafDht leaf = site.startLeaf(Ed25519Keys.generate(), () -> List.of(sp.ref()));
            until(10_000, () -> leaf.primary().isPresent(), "attachment");
            NodeId k = NodeId.ofName("sip:lossy@example.net");
            List<org.p2psip.overlay.ValueEvent> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
            leaf.listen(k, seen::add);
            until(20_000, () -> sp.service.leaves().stream().anyMatch(l -> l.listens() >= 1),
                    "the leaf's listen at the superpeer");
            Thread.sleep(500); // and the superpeer's LISTEN at the storing nodes (no event tells when it is there)
            var v = SecretHashPolicy.value(Bytes.utf8("once"), Bytes.EMPTY, System.currentTimeMillis() + 600_000);
            await(sp.overlay.put(k, v));
            until(10_000, () -> !seen.isEmpty(), "the notification, sent again after the first copies were lost");
            assertTrue(lossy[0].dropped.get() >= 1, "a notification was dropped: " + lossy[0].dropped);
            Thread.sleep(1_500); // more copies may arrive; each is reported once
            assertEquals(1, seen.size(), "reported once: " + seen);
            assertEquals(0, sp.service.notifiesDropped());
        }
    }

    @Test
    void aLeafOverItsRateGetsCapacityAndTheServiceStaysUp() throws Exception {
        try (LoopbackSite site = new LoopbackSite()) {
            site.startBootstrap();
            LeafService.Config slow = new LeafService.Config(16, 500, 3_000, 5, 4, 64, 30_000);
            Superpeer sp = site.startSuperpeer(slow, () -> null);
            LeafDht leaf = site.startLeaf(Ed25519Keys.generate(), () -> List.of(sp.ref()));
            until(10_000, () -> leaf.primary().isPresent(), "attachment");
            List<CompletableFuture<?>> calls = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                calls.add(leaf.get(NodeId.ofName("k" + i)));
            }
            int capacity = 0;
            for (CompletableFuture<?> c : calls) {
                try {
                    c.get(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof DhtException d && d.status() == Status.CAPACITY) {
                        capacity++;
                    } else {
                        throw e;
                    }
                }
            }
            System.out.printf("60 calls at once against 5/s, 4 in flight: %d refused with CAPACITY%n", capacity);
            assertTrue(capacity > 0 && sp.service.rateLimited() >= capacity);
            Thread.sleep(1_200); // the bucket refills
            assertEquals(List.of(), await(leaf.get(NodeId.ofName("after"))));
        }
    }
}
