package org.p2psip.overlay;

/**
 * Tuning of one overlay node. {@link #defaults()} suits a real deployment; tests and benchmarks shorten
 * the intervals. Immutable: the {@code with...} methods return changed copies.
 *
 * @param k                      bucket size and lookup width (Kademlia's k)
 * @param alpha                  queries in flight per lookup
 * @param replicas               nodes each value is stored on (OpenDHT's 8)
 * @param attemptTimeoutMillis   wait for an RPC's first attempt; retries wait twice as long
 * @param attempts               sends per RPC, the first included
 * @param maxDatagramBytes       frames above this travel as fragments
 * @param maxLinks               peers this node keeps links to
 * @param refreshIntervalMillis  a bucket unused by lookups this long is refreshed
 * @param replicationIntervalMillis responsible nodes push their values to the other replicas this often
 * @param republishIntervalMillis writers re-put their values this often until they expire
 * @param sweepIntervalMillis    expired values and tombstones are dropped this often
 * @param listenSeconds          life of a LISTEN registration; listeners renew at half of it
 * @param maxTtlMillis           longest value lifetime (a week, as in OpenDHT); later expiry is clamped
 * @param storeMaxBytes          store quota (OpenDHT's 64 MiB)
 * @param storeMaxBytesPerSource share of the store one source may fill
 * @param maxValuesPerKey        values one key may hold
 * @param requestsPerSecondPerSource rate limit per source (OpenDHT's 1,024/s per IP); 0 disables it
 * @param sourceKey              what counts as one source for the rate limit and the per-source quota
 */
public record OverlayConfig(
        int k,
        int alpha,
        int replicas,
        long attemptTimeoutMillis,
        int attempts,
        int maxDatagramBytes,
        int maxLinks,
        long refreshIntervalMillis,
        long replicationIntervalMillis,
        long republishIntervalMillis,
        long sweepIntervalMillis,
        int listenSeconds,
        long maxTtlMillis,
        long storeMaxBytes,
        long storeMaxBytesPerSource,
        int maxValuesPerKey,
        int requestsPerSecondPerSource,
        SourceKey sourceKey) {

    /** How a request's source is identified for rate limits and quotas. */
    public enum SourceKey {
        /** The sender's IP address: the right choice on a real network, as OpenDHT does. */
        IP,
        /** The sender's IP and port: for many nodes sharing one address, as in loopback clusters. */
        ENDPOINT
    }

    public static final long WEEK_MILLIS = 7L * 24 * 3600 * 1000;

    public OverlayConfig {
        if (k < 1 || alpha < 1 || replicas < 1 || replicas > k) {
            throw new IllegalArgumentException("need k >= 1, alpha >= 1 and 1 <= replicas <= k");
        }
        if (attempts < 1 || attemptTimeoutMillis < 1) {
            throw new IllegalArgumentException("need attempts >= 1 and attemptTimeoutMillis >= 1");
        }
        if (maxDatagramBytes < 576 || maxDatagramBytes > 65_507) {
            throw new IllegalArgumentException("maxDatagramBytes must be within 576..65507");
        }
        if (maxLinks < k) {
            throw new IllegalArgumentException("maxLinks must be at least k");
        }
        if (maxTtlMillis < 1 || maxTtlMillis > WEEK_MILLIS) {
            throw new IllegalArgumentException("maxTtlMillis must be within 1 ms .. one week");
        }
    }

    /** Defaults for a real deployment. */
    public static OverlayConfig defaults() {
        return new OverlayConfig(20, 3, 8, 500, 2, 1200, 1024,
                15 * 60_000L, 10 * 60_000L, 10 * 60_000L, 30_000L, 120,
                WEEK_MILLIS, 64L << 20, 16L << 20, 1024, 1024, SourceKey.IP);
    }

    public OverlayConfig withK(int v) {
        return new OverlayConfig(v, alpha, replicas, attemptTimeoutMillis, attempts, maxDatagramBytes, maxLinks,
                refreshIntervalMillis, replicationIntervalMillis, republishIntervalMillis, sweepIntervalMillis, listenSeconds,
                maxTtlMillis, storeMaxBytes, storeMaxBytesPerSource, maxValuesPerKey, requestsPerSecondPerSource, sourceKey);
    }

    public OverlayConfig withReplicas(int v) {
        return new OverlayConfig(k, alpha, v, attemptTimeoutMillis, attempts, maxDatagramBytes, maxLinks,
                refreshIntervalMillis, replicationIntervalMillis, republishIntervalMillis, sweepIntervalMillis, listenSeconds,
                maxTtlMillis, storeMaxBytes, storeMaxBytesPerSource, maxValuesPerKey, requestsPerSecondPerSource, sourceKey);
    }

    public OverlayConfig withTimeouts(long attemptTimeout, int attemptCount) {
        return new OverlayConfig(k, alpha, replicas, attemptTimeout, attemptCount, maxDatagramBytes, maxLinks,
                refreshIntervalMillis, replicationIntervalMillis, republishIntervalMillis, sweepIntervalMillis, listenSeconds,
                maxTtlMillis, storeMaxBytes, storeMaxBytesPerSource, maxValuesPerKey, requestsPerSecondPerSource, sourceKey);
    }

    public OverlayConfig withMaxLinks(int v) {
        return new OverlayConfig(k, alpha, replicas, attemptTimeoutMillis, attempts, maxDatagramBytes, v,
                refreshIntervalMillis, replicationIntervalMillis, republishIntervalMillis, sweepIntervalMillis, listenSeconds,
                maxTtlMillis, storeMaxBytes, storeMaxBytesPerSource, maxValuesPerKey, requestsPerSecondPerSource, sourceKey);
    }

    /** Sets the maintenance intervals: bucket refresh, replication, republish and sweep. */
    public OverlayConfig withMaintenance(long refresh, long replication, long republish, long sweep) {
        return new OverlayConfig(k, alpha, replicas, attemptTimeoutMillis, attempts, maxDatagramBytes, maxLinks,
                refresh, replication, republish, sweep, listenSeconds,
                maxTtlMillis, storeMaxBytes, storeMaxBytesPerSource, maxValuesPerKey, requestsPerSecondPerSource, sourceKey);
    }

    public OverlayConfig withListenSeconds(int v) {
        return new OverlayConfig(k, alpha, replicas, attemptTimeoutMillis, attempts, maxDatagramBytes, maxLinks,
                refreshIntervalMillis, replicationIntervalMillis, republishIntervalMillis, sweepIntervalMillis, v,
                maxTtlMillis, storeMaxBytes, storeMaxBytesPerSource, maxValuesPerKey, requestsPerSecondPerSource, sourceKey);
    }

    public OverlayConfig withStoreQuota(long maxBytes, long maxBytesPerSource) {
        return new OverlayConfig(k, alpha, replicas, attemptTimeoutMillis, attempts, maxDatagramBytes, maxLinks,
                refreshIntervalMillis, replicationIntervalMillis, republishIntervalMillis, sweepIntervalMillis, listenSeconds,
                maxTtlMillis, maxBytes, maxBytesPerSource, maxValuesPerKey, requestsPerSecondPerSource, sourceKey);
    }

    public OverlayConfig withRateLimit(int perSecond, SourceKey key) {
        return new OverlayConfig(k, alpha, replicas, attemptTimeoutMillis, attempts, maxDatagramBytes, maxLinks,
                refreshIntervalMillis, replicationIntervalMillis, republishIntervalMillis, sweepIntervalMillis, listenSeconds,
                maxTtlMillis, storeMaxBytes, storeMaxBytesPerSource, maxValuesPerKey, perSecond, key);
    }

    public OverlayConfig withMaxDatagramBytes(int v) {
        return new OverlayConfig(k, alpha, replicas, attemptTimeoutMillis, attempts, v, maxLinks,
                refreshIntervalMillis, replicationIntervalMillis, republishIntervalMillis, sweepIntervalMillis, listenSeconds,
                maxTtlMillis, storeMaxBytes, storeMaxBytesPerSource, maxValuesPerKey, requestsPerSecondPerSource, sourceKey);
    }
}
