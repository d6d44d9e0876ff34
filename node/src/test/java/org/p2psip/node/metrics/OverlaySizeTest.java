package org.p2psip.node.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.NodeId;

class OverlaySizeTest {
    private static Contact contact(NodeId id) {
        return new Contact(id, new InetSocketAddress("192.0.2.1", 4222));
    }

    @Test
    void aSmallOverlayIsCountedExactly() {
        Random r = new Random(1);
        NodeId self = NodeId.random(r);
        List<Contact> c = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            c.add(contact(NodeId.random(r)));
        }
        assertEquals(6, OverlaySize.estimate(self, c, 20));
        assertEquals(1, OverlaySize.estimate(self, List.of(), 20));
    }

    @Test
    void aLargeOverlayIsEstimatedFromTheDensityOfTheNeighbourhood() {
        for (int n : new int[] {1_000, 100_000}) {
            Random r = new Random(n);
            NodeId self = NodeId.random(r);
            List<NodeId> all = new ArrayList<>();
            for (int i = 0; i < n - 1; i++) {
                all.add(NodeId.random(r));
            }
            // A routing table knows the closest nodes completely, and a few per farther bucket.
            all.sort(Comparator.comparing(id -> new java.math.BigInteger(1, id.xor(self).toBytes())));
            List<Contact> table = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                table.add(contact(all.get(i)));
            }
            for (int i = 40; i < all.size(); i += all.size() / 100) {
                table.add(contact(all.get(i)));
            }
            long est = OverlaySize.estimate(self, table, 20);
            assertTrue(est > n / 2 && est < n * 2, n + " nodes estimated as " + est);
        }
    }
}
