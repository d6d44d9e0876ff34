package org.p2psip.overlay.rpc;

import java.util.HashMap;
import java.util.Iterator;

/**
 * Per-source token buckets: each source may send {@code perSecond} requests a second on average, in
 * bursts of up to one second's worth. The table is bounded; when it is full, stale sources are purged
 * and unseen newcomers share one overflow bucket, so a spoofed-source flood cannot grow memory.
 * Used on one thread only.
 */
public final class RateLimiter {
    private final double perSecond;
    private final int maxSources;
    private final HashMap<Object, Bucket> buckets = new HashMap<>();
    private final Bucket overflow;

    private static final class Bucket {
        double tokens;
        long last;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.last = now;
        }
    }

    /** @param perSecond requests a second per source; 0 disables the limit */
    public RateLimiter(double perSecond, int maxSources) {
        this.perSecond = perSecond;
        this.maxSources = maxSources;
        this.overflow = new Bucket(perSecond, 0);
    }

    /** Takes one token for {@code source}; false when it is over its rate. */
    public boolean tryAcquire(Object source, long nowMillis) {
        if (perSecond <= 0) {
            return true;
        }
        Bucket b = buckets.get(source);
        if (b == null) {
            if (buckets.size() >= maxSources) {
                purge(nowMillis);
            }
            if (buckets.size() >= maxSources) {
                b = overflow;
            } else {
                b = new Bucket(perSecond, nowMillis);
                buckets.put(source, b);
            }
        }
        double elapsed = Math.max(0, nowMillis - b.last) / 1000.0;
        b.tokens = Math.min(perSecond, b.tokens + elapsed * perSecond);
        b.last = nowMillis;
        if (b.tokens >= 1) {
            b.tokens -= 1;
            return true;
        }
        return false;
    }

    /** Forgets sources whose bucket has refilled: they are indistinguishable from new ones. */
    private void purge(long now) {
        Iterator<Bucket> it = buckets.values().iterator();
        while (it.hasNext()) {
            Bucket b = it.next();
            if ((now - b.last) / 1000.0 * perSecond + b.tokens >= perSecond) {
                it.remove();
            }
        }
    }

    public int trackedSources() {
        return buckets.size();
    }
}
