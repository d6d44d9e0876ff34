package org.p2psip.overlay.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RateLimiterTest {
    private static int acquired(RateLimiter r, Object src, long now, int tries) {
        int n = 0;
        for (int i = 0; i < tries; i++) {
            if (r.tryAcquire(src, now)) {
                n++;
            }
        }
        return n;
    }

    @Test
    void burstOfOneSecondThenSteadyRate() {
        RateLimiter r = new RateLimiter(100, 1000);
        assertEquals(100, acquired(r, "a", 0, 500), "a burst of one second's worth");
        assertFalse(r.tryAcquire("a", 0));
        assertEquals(10, acquired(r, "a", 100, 500), "100 ms refill 10 tokens");
        assertEquals(100, acquired(r, "a", 10_000, 500), "the bucket holds at most one second");
        // a steady 100/s over 10 s: about 1000 pass of 2000 tried
        int passed = 0;
        for (int t = 0; t < 2000; t++) {
            if (r.tryAcquire("a", 20_000 + t * 5L)) {
                passed++;
            }
        }
        assertTrue(passed >= 990 && passed <= 1110, "passed " + passed);
    }

    @Test
    void sourcesAreIndependent() {
        RateLimiter r = new RateLimiter(10, 1000);
        assertEquals(10, acquired(r, "greedy", 0, 1000));
        assertEquals(10, acquired(r, "polite", 0, 10));
        assertFalse(r.tryAcquire("greedy", 50));
    }

    @Test
    void zeroDisables() {
        RateLimiter r = new RateLimiter(0, 10);
        assertEquals(100_000, acquired(r, "a", 0, 100_000));
        assertEquals(0, r.trackedSources());
    }

    @Test
    void tableIsBoundedAndNewcomersShareTheOverflowBucket() {
        RateLimiter r = new RateLimiter(5, 100);
        for (int i = 0; i < 100; i++) {
            assertTrue(r.tryAcquire("s" + i, 0));
        }
        assertEquals(100, r.trackedSources());
        // a flood of new sources at the same instant: nobody is stale, so they share one bucket
        int passed = 0;
        for (int i = 0; i < 100_000; i++) {
            if (r.tryAcquire("spoofed" + i, 0)) {
                passed++;
            }
        }
        assertEquals(5, passed);
        assertEquals(100, r.trackedSources());
        // once the tracked sources refilled they are purged and a newcomer gets its own bucket
        assertTrue(r.tryAcquire("later", 2_000));
        assertTrue(r.trackedSources() <= 100);
        assertEquals(4, acquired(r, "later", 2_000, 100));
    }
}
