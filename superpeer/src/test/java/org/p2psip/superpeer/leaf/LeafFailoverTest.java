package org.p2psip.superpeer.leaf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.p2psip.testing.Waits.await;
import static org.p2psip.superpeer.leaf.LoopbackSite.keysPreferring;
import static org.p2psip.testing.Waits.until;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.ValueEvent;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.superpeer.leaf.LoopbackSite.Superpeer;

/**
 * A site on 127.0.0.1 with real UDP sockets: a bootstrap overlay node, two superpeers, four leaves (two preferring
 * each superpeer). Leaves on different superpeers exchange records and listen notifications through the same
 * {@code Dht} API; a crashed superpeer's leaves move to their standby, their calls succeed and no record is lost; a
 * graceful hand-off moves them at once.
 */
class LeafFailoverTest {
    static DhtValue value(String s) {
        return SecretHashPolicy.value(Bytes.utf8(s), Bytes.EMPTY, System.currentTimeMillis() + 600_000);
    }

    static boolean attached(LeafDht l, Superpeer primary, Superpeer standby) {
        return l.primary().map(r -> r.id().equals(primary.keys.id())).orElse(false)
                && l.standby().map(r -> r.id().equals(standby.keys.id())).orElse(false);
    }

    @Test
    void leavesOnTwoSuperpeersShareRecordsAndSurviveACrash() throws Exception {
        try (LoopbackSite site = new LoopbackSite()) {
            site.startBootstrap();
            Superpeer[] sps = new Superpeer[2];
            sps[0] = site.startSuperpeer(LeafService.Config.defaults(), () -> sps[1].ref().address());
            sps[1] = site.startSuperpeer(LeafService.Config.defaults(), () -> sps[0].ref().address());
            List<LeafDht.SuperpeerRef> live = new CopyOnWriteArrayList<>(List.of(sps[0].ref(), sps[1].ref()));
            List<LeafDht> onFirst = new ArrayList<>();
            List<LeafDht> onSecond = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                onFirst.add(site.startLeaf(keysPreferring(sps[0].ref(), live), () -> live));
                onSecond.add(site.startLeaf(keysPreferring(sps[1].ref(), live), () -> live));
            }
            long t0 = System.nanoTime();
            until(10_000, () -> onFirst.stream().allMatch(l -> attached(l, sps[0], sps[1]))
                    && onSecond.stream().allMatch(l -> attached(l, sps[1], sps[0])), "every leaf attached with a standby");
            System.out.printf("4 leaves attached (primary + standby) in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            assertEquals(4, sps[0].service.leaves().size(), "2 primaries + 2 standbys at each superpeer");

            LeafDht a = onFirst.get(0);
            LeafDht b = onSecond.get(0);
            // a leaf listens (through superpeer 1) before anything is written
            NodeId watched = NodeId.ofName("sip:watched@example.net");
            List<ValueEvent> seen = new CopyOnWriteArrayList<>();
            a.listen(watched, seen::add);

            // leaf a (superpeer 1) puts, leaf b (superpeer 2) gets, and the reverse
            List<NodeId> keys = new ArrayList<>();
            List<DhtValue> values = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                NodeId k = NodeId.ofName("sip:user" + i + "@example.net");
                DhtValue v = value("contact " + i);
                PutResult r = await((i % 2 == 0 ? a : b).put(k, v));
                assertTrue(r.stored() >= 3, "stored on the 3 overlay nodes: " + r);
                keys.add(k);
                values.add(v);
            }
            for (int i = 0; i < 10; i++) {
                assertEquals(List.of(values.get(i)), await((i % 2 == 0 ? b : a).get(keys.get(i))));
            }
            DhtValue w1 = value("watched 1");
            await(b.put(watched, w1));
            until(10_000, () -> seen.stream().anyMatch(e -> e.value().equals(w1) && !e.removed()),
                    "the listen notification at leaf a");

            // crash superpeer 1: its leaves notice by heartbeat and move to superpeer 2
            long crash = System.nanoTime();
            sps[0].crash();
            live.remove(0); // the election drops it from the site's superpeers after expiry
            until(10_000, () -> onFirst.stream().allMatch(l -> l.primary().map(r -> r.id().equals(sps[1].keys.id()))
                    .orElse(false)), "the leaves of the crashed superpeer to fail over");
            long failover = (System.nanoTime() - crash) / 1_000_000;
            System.out.printf("failover after a crash: %d ms%n", failover);
            for (LeafDht l : onFirst) {
                assertTrue(l.failovers() >= 1, "the standby took over");
            }
            // every record is still readable from every leaf, and new puts succeed
            // (in parallel: the superpeer's lookups may wait out the dead node's timeouts)
            List<java.util.concurrent.CompletableFuture<List<DhtValue>>> gets = new ArrayList<>();
            for (LeafDht l : List.of(a, onFirst.get(1), b)) {
                for (int i = 0; i < 10; i++) {
                    gets.add(l.get(keys.get(i)));
                }
            }
            for (int j = 0; j < gets.size(); j++) {
                assertEquals(List.of(values.get(j % 10)), await(gets.get(j)), "record " + j % 10 + " after the crash");
            }
            DhtValue after = value("after the crash");
            await(onFirst.get(1).put(keys.get(0), after));
            assertTrue(await(b.get(keys.get(0))).contains(after));
            // the listen was registered again at superpeer 2: a new value reaches leaf a
            DhtValue w2 = value("watched 2");
            await(b.put(watched, w2));
            until(10_000, () -> seen.stream().anyMatch(e -> e.value().equals(w2)), "the notification after failover");
            assertEquals(1, seen.stream().filter(e -> e.value().equals(w1)).count(), "w1 reported once, not again");
        }
    }

    @Test
    void gracefulHandOffMovesLeavesAtOnce() throws Exception {
        try (LoopbackSite site = new LoopbackSite()) {
            site.startBootstrap();
            Superpeer[] sps = new Superpeer[2];
            sps[0] = site.startSuperpeer(LeafService.Config.defaults(), () -> sps[1].ref().address());
            sps[1] = site.startSuperpeer(LeafService.Config.defaults(), () -> sps[0].ref().address());
            List<LeafDht.SuperpeerRef> live = new CopyOnWriteArrayList<>(List.of(sps[0].ref(), sps[1].ref()));
            LeafDht leaf = site.startLeaf(keysPreferring(sps[0].ref(), live), () -> live);
            until(10_000, () -> attached(leaf, sps[0], sps[1]), "attachment");
            NodeId k = NodeId.ofName("sip:handoff@example.net");
            await(leaf.put(k, value("before")));
            long t = System.nanoTime();
            await(sps[0].service.handOff());
            until(5_000, () -> leaf.primary().map(r -> r.id().equals(sps[1].keys.id())).orElse(false), "the move");
            System.out.printf("hand-off: leaf on the backup after %d ms%n", (System.nanoTime() - t) / 1_000_000);
            assertTrue(leaf.failovers() >= 1);
            assertEquals(0, sps[0].service.leaves().size());
            assertEquals(Bytes.utf8("before"), await(leaf.get(k)).get(0).data());
            // a handed-off superpeer refuses new attaches: a newcomer that prefers it ends up on the backup
            LeafDht late = site.startLeaf(keysPreferring(sps[0].ref(), live), () -> live);
            until(10_000, () -> late.primary().map(r -> r.id().equals(sps[1].keys.id())).orElse(false), "the newcomer");
            assertTrue(sps[0].service.refused() >= 1);
            assertEquals(0, sps[0].service.leaves().size());
        }
    }

    @Test
    void aFullSuperpeerRefusesAndTheLeafGoesElsewhere() throws Exception {
        try (LoopbackSite site = new LoopbackSite()) {
            site.startBootstrap();
            Superpeer[] sps = new Superpeer[2];
            LeafService.Config one = new LeafService.Config(1, 500, 3_000, 200, 32, 64, 30_000);
            sps[0] = site.startSuperpeer(one, () -> null);
            sps[1] = site.startSuperpeer(LeafService.Config.defaults(), () -> null);
            List<LeafDht.SuperpeerRef> live = List.of(sps[0].ref(), sps[1].ref());
            LeafDht first = site.startLeaf(keysPreferring(sps[0].ref(), live), () -> live);
            until(10_000, () -> attached(first, sps[0], sps[1]), "the first leaf");
            LeafDht second = site.startLeaf(keysPreferring(sps[0].ref(), live), () -> live);
            until(10_000, () -> second.primary().map(r -> r.id().equals(sps[1].keys.id())).orElse(false),
                    "the second leaf on the other superpeer");
            assertTrue(sps[0].service.refused() >= 1);
            assertEquals(1, sps[0].service.leaves().size());
            NodeId k = NodeId.ofName("sip:full@example.net");
            await(second.put(k, value("x")));
            assertEquals(1, await(first.get(k)).size());
            // remove through a leaf: the storage policy's proof travels with it, a wrong one is refused
            Bytes secret = Bytes.utf8("the secret");
            DhtValue removable = SecretHashPolicy.value(Bytes.utf8("removable"), secret, System.currentTimeMillis() + 600_000);
            await(first.put(k, removable));
            assertEquals(2, await(second.get(k)).size());
            java.util.concurrent.ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.ExecutionException.class, () -> second.remove(k, removable.owner(),
                            removable.nonce(), Bytes.utf8("wrong")).get(20, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(refused.getCause() instanceof org.p2psip.overlay.DhtException, refused.toString());
            assertTrue(await(second.remove(k, removable.owner(), removable.nonce(), secret)).stored() >= 1);
            assertEquals(List.of(value("x").data()), await(first.get(k)).stream().map(DhtValue::data).toList());
        }
    }
}
