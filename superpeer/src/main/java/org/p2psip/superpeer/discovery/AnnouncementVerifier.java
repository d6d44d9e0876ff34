package org.p2psip.superpeer.discovery;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.p2psip.overlay.NodeId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts an announcement only when it parses, its node id is SHA-1 of its public key, its Ed25519 signature is
 * valid, its timestamp is within {@code window} of this clock, and its sequence number is newer than the last one
 * accepted from that node id. Each refusal is counted. Thread-safe; remembers at most {@code maxKeys} node ids
 * (least recently accepted evicted first, so an attacker flooding fresh keys cannot grow memory; an evicted key's
 * old announcements are still refused by the time window).
 */
public final class AnnouncementVerifier {
    private static final Logger log = LoggerFactory.getLogger(AnnouncementVerifier.class);

    public enum Verdict { ACCEPTED, MALFORMED, FORGED, REPLAYED, STALE }

    private final Clock clock;
    private final long windowMillis;
    private final int maxKeys;
    private final Map<NodeId, Long> lastSequence;
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong forged = new AtomicLong();
    private final AtomicLong replayed = new AtomicLong();
    private final AtomicLong stale = new AtomicLong();

    public AnnouncementVerifier(Clock clock, Duration window, int maxKeys) {
        this.clock = clock;
        this.windowMillis = window.toMillis();
        this.maxKeys = maxKeys;
        this.lastSequence = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<NodeId, Long> e) {
                return size() > AnnouncementVerifier.this.maxKeys;
            }
        };
    }

    public AnnouncementVerifier() {
        this(Clock.systemUTC(), Duration.ofSeconds(30), 4096);
    }

    public record Result(Verdict verdict, Optional<Announcement> announcement) {}

    /** Parses and checks raw bytes. Never throws. */
    public Result check(byte[] bytes) {
        Announcement a;
        try {
            a = Announcement.decode(bytes);
        } catch (MalformedAnnouncementException e) {
            malformed.incrementAndGet();
            log.debug("malformed announcement: {}", e.getMessage());
            return new Result(Verdict.MALFORMED, Optional.empty());
        }
        return check(a);
    }

    /** Checks a parsed announcement. Never throws. */
    public Result check(Announcement a) {
        byte[] key = a.publicKey();
        if (!NodeId.sha1(key).equals(a.nodeId())) {
            forged.incrementAndGet();
            log.debug("forged announcement (id does not match key): {}", a);
            return new Result(Verdict.FORGED, Optional.empty());
        }
        byte[] enc = a.encode();
        if (!Ed25519Keys.verify(key, enc, 0, Announcement.bodyLength(enc), a.signature())) {
            forged.incrementAndGet();
            log.debug("forged announcement (bad signature): {}", a);
            return new Result(Verdict.FORGED, Optional.empty());
        }
        long now = clock.millis();
        if (Math.abs(now - a.timestampMillis()) > windowMillis) {
            stale.incrementAndGet();
            log.debug("stale announcement (timestamp {} ms off): {}", now - a.timestampMillis(), a);
            return new Result(Verdict.STALE, Optional.empty());
        }
        synchronized (lastSequence) {
            Long last = lastSequence.get(a.nodeId());
            if (last != null && a.sequence() <= last) {
                replayed.incrementAndGet();
                log.debug("replayed announcement (seq {} <= {}): {}", a.sequence(), last, a);
                return new Result(Verdict.REPLAYED, Optional.empty());
            }
            lastSequence.put(a.nodeId(), a.sequence());
        }
        accepted.incrementAndGet();
        return new Result(Verdict.ACCEPTED, Optional.of(a));
    }

    public long accepted() { return accepted.get(); }
    public long malformed() { return malformed.get(); }
    public long forged() { return forged.get(); }
    /** Sequence not newer than the last accepted from that key. */
    public long replayed() { return replayed.get(); }
    /** Timestamp outside the window (a replay of an old announcement, or a bad clock). */
    public long stale() { return stale.get(); }
}
