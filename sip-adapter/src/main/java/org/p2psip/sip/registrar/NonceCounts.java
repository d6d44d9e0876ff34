package org.p2psip.sip.registrar;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The highest nonce count accepted for each of our digest nonces still in use (RFC 7616 §3.4, §5.9): credentials
 * whose count is not above it are a replay. Digest covers the method and Request-URI but not the Contact or Call-ID,
 * so without this anyone who saw one REGISTER's Authorization could send it again, with its own Contact, for as long
 * as the nonce lives, and take the user's calls.
 *
 * <p>Bounded: beyond {@code capacity} nonces the one used first is forgotten, and the issue time of every forgotten
 * nonce is remembered as a watermark. A nonce not held here that was issued after the watermark has never been used;
 * one issued at or before it may have been, so it is not accepted again (the caller answers {@code stale=true}, and a
 * genuine phone retries with a fresh nonce without asking its user). Thread-safe.
 */
final class NonceCounts {
    /** Outcome of {@link #accept}. */
    enum Outcome {
        /** The count is above every count seen with this nonce: accepted and remembered. */
        FRESH,
        /** The count was already used (or an earlier one came after it): a replay or a late duplicate. */
        REPLAYED,
        /** The nonce may have been used, but this table no longer holds its count (it filled up). */
        FORGOTTEN
    }

    private final int capacity;
    private final long lifetimeMillis;
    private final Map<String, Long> highest = new LinkedHashMap<>();
    private long watermark = Long.MIN_VALUE;
    private long forgotten;

    /** At most {@code capacity} nonces; a nonce is refused as stale by the caller after {@code lifetimeMillis}. */
    NonceCounts(int capacity, long lifetimeMillis) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity " + capacity);
        }
        this.capacity = capacity;
        this.lifetimeMillis = lifetimeMillis;
    }

    /**
     * Records that the nonce of {@code key} (the nonce, or the nonce followed by whatever else the caller tracks it
     * per, e.g. the user), issued at {@code issuedMillis}, was used with count {@code nc} (1 for credentials without
     * one, so such a nonce is good once), if that count is above every earlier one.
     */
    synchronized Outcome accept(String key, long issuedMillis, long nc, long nowMillis) {
        dropExpired(nowMillis);
        Long seen = highest.get(key);
        if (seen == null) {
            if (issuedMillis <= watermark) {
                return Outcome.FORGOTTEN;
            }
            highest.put(key, nc);
            if (highest.size() > capacity) {
                forgetOldest();
            }
            return Outcome.FRESH;
        }
        if (nc <= seen) {
            return Outcome.REPLAYED;
        }
        highest.put(key, nc);
        return Outcome.FRESH;
    }

    /**
     * Drops the nonces at the head (first used longest ago) that have expired: the caller refuses them as stale
     * before asking here, so their counts no longer matter. Nonces are used soon after they are issued, so the head
     * is about the oldest; one that is not just stays until the bound pushes it out.
     */
    private void dropExpired(long nowMillis) {
        for (Iterator<String> it = highest.keySet().iterator(); it.hasNext(); ) {
            if (nowMillis - issuedAtOf(it.next()) <= lifetimeMillis) {
                return;
            }
            it.remove();
        }
    }

    private void forgetOldest() {
        Iterator<Map.Entry<String, Long>> it = highest.entrySet().iterator();
        String oldest = it.next().getKey();
        it.remove();
        forgotten++;
        watermark = Math.max(watermark, issuedAtOf(oldest));
    }

    /** Nonces held now. */
    synchronized int size() {
        return highest.size();
    }

    /** Nonces forgotten because the table was full. */
    synchronized long forgotten() {
        return forgotten;
    }

    /**
     * The issue time in a nonce of ours, or in a key that starts with one (its first 16 hex digits; the caller checked
     * the nonce before it gets here).
     */
    static long issuedAtOf(String nonce) {
        return Long.parseUnsignedLong(nonce.substring(0, 16), 16);
    }
}
