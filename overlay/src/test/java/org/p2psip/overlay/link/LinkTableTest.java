package org.p2psip.overlay.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LinkTableTest {
    private static InetSocketAddress a(int port) {
        return new InetSocketAddress("127.0.0.1", port);
    }

    @Test
    void evictsLeastRecentlyUsed() {
        List<InetSocketAddress> evicted = new ArrayList<>();
        LinkTable t = new LinkTable(3, evicted::add);
        t.sent(a(1), 0);
        t.received(a(2), 1);
        t.sent(a(3), 2);
        t.received(a(1), 3); // 1 is now the most recent
        t.sent(a(4), 4);
        assertEquals(List.of(a(2)), evicted);
        assertEquals(3, t.size());
        assertTrue(t.contains(a(1)) && t.contains(a(3)) && t.contains(a(4)));
        assertEquals(9, t.received(a(1), 9).lastReceivedMillis());
    }

    @Test
    void keptLinksOutliveAFloodOfNewAddresses() {
        Set<InetSocketAddress> neighbours = new HashSet<>();
        for (int p = 1; p <= 10; p++) {
            neighbours.add(a(p));
        }
        List<InetSocketAddress> evicted = new ArrayList<>();
        LinkTable t = new LinkTable(16, evicted::add, neighbours::contains);
        for (InetSocketAddress n : neighbours) {
            t.sent(n, 0);
        }
        for (int p = 1000; p < 3000; p++) {
            t.received(a(p), p);
        }
        for (InetSocketAddress n : neighbours) {
            assertTrue(t.contains(n), n + " lost its link");
        }
        assertEquals(16, t.size());
        assertEquals(2000 - 6, evicted.size());
        for (InetSocketAddress e : evicted) {
            assertFalse(neighbours.contains(e));
        }
        // when every link is kept, the newest goes: long-lived neighbours stay
        LinkTable all = new LinkTable(3, evicted::add, x -> true);
        all.sent(a(1), 0);
        all.sent(a(2), 1);
        all.sent(a(3), 2);
        all.received(a(1), 3);
        all.received(a(2), 3);
        all.sent(a(4), 4);
        assertFalse(all.contains(a(3)));
        all.sent(a(5), 5);
        assertFalse(all.contains(a(4)));
        assertTrue(all.contains(a(1)) && all.contains(a(2)) && all.contains(a(5)));
    }
}
