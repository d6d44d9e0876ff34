package org.p2psip.overlay.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.Frame;
import org.p2psip.overlay.wire.Message;
import org.p2psip.overlay.wire.WireCodec;

/**
 * Requests from more addresses than a node keeps links to must not push its real neighbours out of
 * its routing table (each evicted link used to drop its routing entry).
 */
class EclipseTest {
    @Test
    void unsolicitedPeersCannotEvictTheNeighbours() throws Exception {
        // 100 links (more than the routing table takes of random ids) and 300 strangers
        OverlayConfig cfg = Cluster.LOOPBACK.withMaxLinks(100);
        try (Cluster c = new Cluster(71).grow(20, cfg)) {
            OverlayNode target = c.nodes.get(3);
            Set<NodeId> real = new HashSet<>();
            for (OverlayNode n : c.nodes) {
                real.add(n.id());
            }
            List<Contact> before = Cluster.await(target.neighbours());
            assertEquals(19, before.size());

            WireCodec codec = new WireCodec();
            Random rnd = new Random(72);
            List<DatagramSocket> strangers = new ArrayList<>();
            try {
                for (int i = 0; i < 300; i++) {
                    DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                    strangers.add(s);
                    byte[] d = codec.encode(new Frame(false, i, NodeId.random(rnd), new Message.Ping()));
                    s.send(new DatagramPacket(d, d.length, target.contact().address()));
                }
                Thread.sleep(500);
                List<Contact> after = Cluster.await(target.neighbours());
                long kept = after.stream().filter(x -> real.contains(x.id())).count();
                assertEquals(19, kept, "real neighbours left in the routing table: " + kept + " of 19");
                // and the node still works through them
                NodeId key = NodeId.ofName("after the strangers");
                DhtValue v = SecretHashPolicy.value(Bytes.utf8("v"), Bytes.EMPTY, System.currentTimeMillis() + 60_000);
                // (the strangers never answered the PING that would admit them, so no lookup waits for them)
                Cluster.await(target.put(key, v));
                assertEquals(List.of(v), Cluster.await(target.get(key)));
                assertTrue(Cluster.await(target.status()).links() <= 100);
            } finally {
                strangers.forEach(DatagramSocket::close);
            }
        }
    }
}
