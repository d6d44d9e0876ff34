package org.p2psip.nat.stun;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Token buckets per source IP address: {@code ratePerSecond} requests per second with bursts of {@code burst}.
 * The table is bounded: the least recently seen sources are forgotten first, which only ever makes the limiter
 * more lenient, never lets it grow without bound under a spoofed-source flood.
 */
public final class RateLimiter {
    private final double ratePerNano;
    private final double burst;
    private final Map<InetAddress, Bucket> buckets;

    private static final class Bucket {
        double tokens;
        long lastNanos;
    }

    public RateLimiter(double ratePerSecond, int burst, int maxSources) {
        this.ratePerNano = ratePerSecond / 1e9;
        this.burst = burst;
        this.buckets = new LinkedHashMap<>(256, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<InetAddress, Bucket> eldest) {
                return size() > maxSources;
            }
        };
    }

    /** Takes a token for {@code source}; false when it is over its rate. */
    public synchronized boolean allow(InetAddress source, long nowNanos) {
        Bucket b = buckets.get(source);
        if (b == null) {
            b = new Bucket();
            b.tokens = burst;
            b.lastNanos = nowNanos;
            buckets.put(source, b);
        }
        b.tokens = Math.min(burst, b.tokens + Math.max(0, nowNanos - b.lastNanos) * ratePerNano);
        b.lastNanos = nowNanos;
        if (b.tokens >= 1) {
            b.tokens -= 1;
            return true;
        }
        return false;
    }
}
