package org.p2psip.overlay.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.ValueEvent;
import org.p2psip.overlay.store.SecretHashPolicy;

class ListenAndHandoverTest {
    private static ValueEvent next(LinkedBlockingQueue<ValueEvent> q) throws InterruptedException {
        ValueEvent e = q.poll(5, TimeUnit.SECONDS);
        assertNotNull(e, "no event within 5 s");
        return e;
    }

    /** No further event arrives for a while (e.g. no duplicate from another replica). */
    private static void quiet(LinkedBlockingQueue<ValueEvent> q) throws InterruptedException {
        ValueEvent e = q.poll(400, TimeUnit.MILLISECONDS);
        assertNull(e, "unexpected event");
    }

    @Test
    void listenerSeesPutChangeAndRemovalFromAnotherNode() throws Exception {
        try (Cluster c = new Cluster(51).grow(12, Cluster.LOOPBACK)) {
            NodeId key = NodeId.ofName("sip:listen@loopback.test");
            // the listener is the node farthest from the key: not a replica, so it hears only notifications
            List<OverlayNode> byDistance = new ArrayList<>(c.nodes);
            byDistance.sort(Comparator.comparing(OverlayNode::id, (a, b) -> key.compareDistance(a, b)));
            OverlayNode listener = byDistance.get(byDistance.size() - 1);
            OverlayNode writer = byDistance.get(byDistance.size() - 2);
            List<Contact> replicas = Cluster.await(writer.findClosest(key, Cluster.LOOPBACK.replicas()));
            assertTrue(replicas.stream().noneMatch(r -> r.id().equals(listener.id())), "the listener is not a replica");

            LinkedBlockingQueue<ValueEvent> events = new LinkedBlockingQueue<>();
            Dht.Subscription sub = listener.listen(key, events::add);
            Thread.sleep(1000); // let the LISTEN registrations reach the replicas
            quiet(events);

            Bytes secret = Bytes.utf8("writer's secret");
            long exp = System.currentTimeMillis() + 600_000;
            DhtValue v1 = SecretHashPolicy.value(Bytes.utf8("sip:listen@127.0.0.1:5060"), secret, exp);
            Cluster.await(writer.put(key, v1));
            ValueEvent put = next(events);
            assertEquals(new ValueEvent(key, v1, false), put);
            quiet(events);

            // a change: the writer refreshes with a later expiry
            DhtValue v1later = SecretHashPolicy.value(v1.data(), secret, exp + 60_000);
            Cluster.await(writer.put(key, v1later));
            assertEquals(new ValueEvent(key, v1later, false), next(events));
            quiet(events);

            // a second value appears
            DhtValue v2 = SecretHashPolicy.value(Bytes.utf8("sip:listen@127.0.0.1:5070"), secret, exp);
            Cluster.await(writer.put(key, v2));
            assertEquals(new ValueEvent(key, v2, false), next(events));
            quiet(events);

            // removal with the secret
            Cluster.await(writer.remove(key, v1.owner(), v1.nonce(), secret));
            ValueEvent removed = next(events);
            assertTrue(removed.removed());
            assertEquals(v1.id(), removed.value().id());
            quiet(events);
            assertEquals(List.of(v2), Cluster.await(listener.get(key)));

            // a wrong secret removes nothing and tells nobody
            try {
                Cluster.await(writer.remove(key, v2.owner(), v2.nonce(), Bytes.utf8("guess")));
            } catch (org.p2psip.overlay.DhtException expected) {
                assertEquals(org.p2psip.overlay.wire.Message.Status.REFUSED, expected.status());
            }
            quiet(events);

            // after closing the subscription nothing more arrives
            sub.close();
            Thread.sleep(200);
            Cluster.await(writer.remove(key, v2.owner(), v2.nonce(), secret));
            quiet(events);
            assertEquals(List.of(), Cluster.await(listener.get(key)));
        }
    }

    @Test
    void renewalsDoNotRepeatEventsAndExpiryIsReported() throws Exception {
        // registrations live 2 s and are renewed every second; replicas sweep every 200 ms
        OverlayConfig cfg = Cluster.LOOPBACK.withListenSeconds(2).withMaintenance(60_000, 60_000, 60_000, 200);
        try (Cluster c = new Cluster(53).grow(10, cfg)) {
            NodeId key = NodeId.ofName("sip:renew@loopback.test");
            OverlayNode listener = c.nodes.get(2);
            OverlayNode writer = c.nodes.get(7);
            LinkedBlockingQueue<ValueEvent> events = new LinkedBlockingQueue<>();
            Dht.Subscription sub = listener.listen(key, events::add);
            Thread.sleep(500);
            DhtValue lasting = SecretHashPolicy.value(Bytes.utf8("lasting"), Bytes.EMPTY, System.currentTimeMillis() + 600_000);
            DhtValue brief = SecretHashPolicy.value(Bytes.utf8("brief"), Bytes.EMPTY, System.currentTimeMillis() + 2_500);
            Cluster.await(writer.put(key, lasting));
            assertEquals(new ValueEvent(key, lasting, false), next(events));
            Cluster.await(writer.put(key, brief));
            assertEquals(new ValueEvent(key, brief, false), next(events));
            // the brief value expires at the replicas: reported once as removed, and nothing else in 4 s of renewals
            ValueEvent gone = next(events);
            assertEquals(new ValueEvent(key, brief, true), gone);
            ValueEvent extra = events.poll(4, TimeUnit.SECONDS);
            assertNull(extra, "renewals repeated an event");
            // registrations were renewed past their 2 s life: a change made now is still reported
            DhtValue late = SecretHashPolicy.value(Bytes.utf8("late"), Bytes.EMPTY, System.currentTimeMillis() + 600_000);
            Cluster.await(writer.put(key, late));
            assertEquals(new ValueEvent(key, late, false), next(events));
            sub.close();
        }
    }

    @Test
    void valuesAreHandedToACloserNewcomer() throws Exception {
        OverlayConfig cfg = Cluster.LOOPBACK.withReplicas(4).withMaintenance(2_000, 2_000, 60_000, 1_000);
        try (Cluster c = new Cluster(52).grow(12, cfg)) {
            NodeId key = NodeId.ofName("sip:handover@loopback.test");
            List<DhtValue> values = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                DhtValue v = SecretHashPolicy.value(Bytes.utf8("contact " + i), Bytes.utf8("secret " + i), System.currentTimeMillis() + 600_000);
                assertEquals(4, Cluster.await(c.nodes.get(i * 3 + 1).put(key, v)).stored());
                values.add(v);
            }
            values.sort(Comparator.comparing(DhtValue::id));
            // the newcomer shares 150 leading bits with the key: closer than any node present
            NodeId near = key.randomWithPrefix(150, c.rnd);
            OverlayNode newcomer = c.add(near, cfg);
            List<DhtValue> held = List.of();
            long deadline = System.currentTimeMillis() + 10_000;
            while (System.currentTimeMillis() < deadline) {
                held = Cluster.await(newcomer.localValues(key));
                if (held.equals(values)) {
                    break;
                }
                Thread.sleep(100);
            }
            assertEquals(values, held, "the newcomer holds every value of the key it is closest to");
            // it is found as the closest replica, and its store answers a get alone
            assertEquals(newcomer.id(), Cluster.await(c.nodes.get(5).findClosest(key, 1)).get(0).id());
            assertEquals(values, Cluster.await(c.nodes.get(7).get(key)));
        }
    }
}
