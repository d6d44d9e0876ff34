package org.p2psip.overlay.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.NodeId;

class RoutingTableClosestTest {
    @Test
    void bucketOrderedSelectionEqualsFullSort() {
        Random rnd = new Random(7);
        for (int round = 0; round < 20; round++) {
            NodeId self = NodeId.random(rnd);
            RoutingTable t = new RoutingTable(self, 8, 0);
            int n = 5 + rnd.nextInt(400);
            for (int i = 0; i < n; i++) {
                // Mix random ids with ids near this node, so deep buckets fill too.
                NodeId id = rnd.nextBoolean() ? NodeId.random(rnd) : self.randomWithPrefix(rnd.nextInt(12), rnd);
                t.seen(new Contact(id, new InetSocketAddress("192.0.2.1", 1000 + i)), 0);
            }
            List<Contact> all = t.contacts();
            for (int q = 0; q < 200; q++) {
                NodeId target = switch (q % 3) {
                    case 0 -> NodeId.random(rnd);
                    case 1 -> self.randomWithPrefix(rnd.nextInt(20), rnd);
                    default -> all.get(rnd.nextInt(all.size())).id();
                };
                int want = 1 + rnd.nextInt(25);
                NodeId except = rnd.nextBoolean() ? all.get(rnd.nextInt(all.size())).id() : null;
                List<Contact> expected = new ArrayList<>(all);
                expected.removeIf(c -> c.id().equals(except));
                expected.sort((a, b) -> target.compareDistance(a.id(), b.id()));
                expected = expected.subList(0, Math.min(want, expected.size()));
                assertEquals(expected, t.closest(target, want, except), "round " + round + " query " + q);
            }
        }
    }
}
