package org.p2psip.overlay.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.NodeId;

class ReplyCacheTest {
    private static final InetSocketAddress A = new InetSocketAddress("192.0.2.1", 4000);
    private static final InetSocketAddress B = new InetSocketAddress("192.0.2.2", 4000);
    private final NodeId sender = NodeId.random(new Random(1));

    @Test
    void answersARetransmissionWithTheSameBytesUntilItsTimeToLive() {
        ReplyCache c = new ReplyCache(100, 1 << 20, 5_000);
        byte[] reply = {1, 2, 3};
        assertNull(c.lookup(A, 7, sender, 42, 0));
        c.put(A, 7, sender, 42, reply, 0);
        assertArrayEquals(reply, c.lookup(A, 7, sender, 42, 4_999));
        assertNull(c.lookup(B, 7, sender, 42, 4_999), "another source's request 7 is another request");
        assertNull(c.lookup(A, 8, sender, 42, 4_999));
        assertEquals(1, c.hits());
        assertNull(c.lookup(A, 7, sender, 42, 5_000), "expired");
        assertEquals(0, c.size());
        assertEquals(0, c.bytes());
    }

    @Test
    void aReusedIdWithAnotherSenderOrContentIsNotAnsweredFromTheCache() {
        ReplyCache c = new ReplyCache(100, 1 << 20, 5_000);
        c.put(A, 7, sender, 42, new byte[] {1}, 0);
        assertNull(c.lookup(A, 7, sender, 43, 1));
        assertNull(c.lookup(A, 7, NodeId.random(new Random(2)), 42, 1));
        assertEquals(2, c.reused());
        c.put(A, 7, sender, 43, new byte[] {2}, 1); // executed as new: replaces the entry
        assertArrayEquals(new byte[] {2}, c.lookup(A, 7, sender, 43, 2));
        assertEquals(1, c.size());
    }

    @Test
    void aFloodOfRequestsKeepsTheCacheWithinItsBoundsAndCountsEvictions() {
        ReplyCache c = new ReplyCache(1_000, 64 * 1024, 5_000);
        Random rnd = new Random(3);
        for (int i = 0; i < 100_000; i++) {
            // spoofed sources, random ids: every one a new entry
            InetSocketAddress from = new InetSocketAddress("198.51.100." + (i % 250 + 1), 1024 + rnd.nextInt(60_000));
            c.put(from, rnd.nextLong(), sender, i, new byte[rnd.nextInt(200)], i / 100);
            assertTrue(c.size() <= 1_000 && c.bytes() <= 64 * 1024, "over the bounds after " + i);
        }
        assertTrue(c.evicted() > 90_000, c.evicted() + " evictions");
        // an answer larger than the whole byte bound is not kept
        c.put(A, 1, sender, 1, new byte[64 * 1024], 1_000);
        assertNull(c.lookup(A, 1, sender, 1, 1_000));
        c.expire(1_000_000);
        assertEquals(0, c.size());
        assertEquals(0, c.bytes());
    }
}
