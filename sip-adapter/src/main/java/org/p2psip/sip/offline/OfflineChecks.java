package org.p2psip.sip.offline;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Whether a REGISTER must read the user's {@code offline:} key, or can skip it because nothing can be waiting there
 * that this peer has not already looked for. Per user it remembers when a read last ended complete (it found nothing
 * left, or delivered and removed all it found) and when the last hint came (a message may have been stored since).
 *
 * <p>A REGISTER reads the key when any of these holds: the binding is new at this peer; this peer knows nothing of
 * the user (never read, or pushed out of the bounded map); the last read did not end complete (the DHT read failed,
 * more than one run's worth was waiting, a phone refused a delivery); a hint came that a run starting at least
 * {@link #SETTLE} after it has not yet answered; or the last complete read is older than the recheck bound. Otherwise
 * it is skipped and counted.
 *
 * <p>Thread-safe; every operation is a few map steps under one lock.
 */
final class OfflineChecks {
    /** Users remembered; the least recently used is forgotten beyond this (it is simply read again). */
    static final int MAX_USERS = 100_000;
    /**
     * How long after a hint a read may still miss the message it announced: the sender stores it only once its own
     * forwarding has failed (up to its Timer F, 32 s) and its put has landed. A read that started earlier than this
     * after the hint does not clear the hint.
     */
    static final Duration SETTLE = Duration.ofSeconds(60);
    private static final long NONE = Long.MIN_VALUE;

    /** {@code readAt}: start of the last complete read, or NONE; {@code hintAt}: the last unanswered hint, or NONE. */
    private record Entry(long readAt, long hintAt) {
    }

    private final Map<String, Entry> users;
    private final LongSupplier clock;
    private volatile long recheckMillis;
    private long skipped;

    OfflineChecks(int maxUsers, Duration recheck, LongSupplier clock) {
        this.clock = clock;
        this.recheckMillis = recheck.toMillis();
        this.users = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
                return size() > maxUsers;
            }
        };
    }

    void recheckAfter(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("the offline recheck interval " + d + " is negative");
        }
        recheckMillis = d.toMillis();
    }

    /**
     * Whether a REGISTER of {@code user} must read its offline messages; a skip is counted.
     *
     * @param newHere whether the REGISTER made a binding that was not live at this peer before
     */
    synchronized boolean due(String user, boolean newHere) {
        Entry e = users.get(user);
        if (newHere || e == null || e.readAt() == NONE || e.hintAt() != NONE
                || clock.getAsLong() - e.readAt() >= recheckMillis) {
            return true;
        }
        skipped++;
        return false;
    }

    /** A message for {@code user} may have been stored (this peer failed to relay one to the user's phone, or stored one). */
    synchronized void hint(String user) {
        Entry e = users.get(user);
        users.put(user, new Entry(e == null ? NONE : e.readAt(), clock.getAsLong()));
    }

    /**
     * A delivery run for {@code user} that started at {@code startedAt} ended; {@code complete}: it read the key and
     * left nothing it could deliver.
     */
    synchronized void finished(String user, long startedAt, boolean complete) {
        Entry e = users.get(user);
        long hint = e == null ? NONE : e.hintAt();
        if (!complete) {
            users.put(user, new Entry(NONE, hint));
            return;
        }
        // a read that began before the hinted message can have landed does not answer the hint
        boolean answered = hint == NONE || startedAt - hint >= SETTLE.toMillis();
        users.put(user, new Entry(startedAt, answered ? NONE : hint));
    }

    synchronized long skipped() {
        return skipped;
    }
}
