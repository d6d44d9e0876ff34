package org.p2psip.superpeer.election;

import java.util.Comparator;
import org.p2psip.superpeer.discovery.Announcement;
import org.p2psip.superpeer.discovery.Preference;

/**
 * The deterministic score of a candidate, computed from its announcement alone (and whether its public claim was
 * verified): {@code tier * 10^9 + uptimeBucket * 10^7 + capacity}, where
 * <ul>
 *   <li>tier is {@link Reachability#rank} (public 5 … symmetric 1, unknown 0), so tier dominates;</li>
 *   <li>uptimeBucket = bit length of (uptime in seconds / 60), 0..27: uptime counts in doublings of a minute,
 *       so peers that started a few seconds apart compare the same; uptimes are first extrapolated to a common
 *       reference time (see {@link #of(Announcement, boolean, long)});</li>
 *   <li>capacity (&lt; 10^7) = cpu permille * 3000 + min(memory MiB, 3000) * 1000 + min(bandwidth kbit/s / 100, 3000) * 1000.</li>
 * </ul>
 * Ranking: preference {@code ALWAYS} before {@code AUTO}, then score descending, then node id ascending.
 * {@code NEVER} is not a candidate.
 */
public record Score(Announcement announcement, Reachability reachability, long value) {
    public static final long TIER_STEP = 1_000_000_000L;
    public static final long UPTIME_STEP = 10_000_000L;

    /** Uptime counts in doublings of this many seconds; below it, uptime does not count. */
    public static final long UPTIME_UNIT_SECONDS = 60;

    public static Score of(Announcement a, boolean publicVerified) {
        return of(a, publicVerified, Long.MIN_VALUE);
    }

    /**
     * @param referenceMillis wall-clock time to which every announced uptime is extrapolated (uptime + reference −
     *                        timestamp), so that a peer's own fresh announcement and the others' older ones compare
     *                        at the same instant; {@code Long.MIN_VALUE}: take uptimes as announced
     */
    public static Score of(Announcement a, boolean publicVerified, long referenceMillis) {
        Reachability r = Reachability.of(a.nat(), publicVerified);
        long uptime = a.uptimeSeconds();
        if (referenceMillis != Long.MIN_VALUE && referenceMillis > a.timestampMillis()) {
            uptime = Math.min(0xffff_ffffL, uptime + (referenceMillis - a.timestampMillis()) / 1000);
        }
        long uptimeBucket = 64 - Long.numberOfLeadingZeros(uptime / UPTIME_UNIT_SECONDS);
        long capacity = a.spareCpuPermille() * 3000L + Math.min(a.spareMemoryMiB(), 3000L) * 1000L
                + Math.min(a.spareBandwidthKbps() / 100, 3000L) * 1000L;
        return new Score(a, r, r.rank * TIER_STEP + uptimeBucket * UPTIME_STEP + capacity);
    }

    public boolean always() {
        return announcement.preference() == Preference.ALWAYS;
    }

    /** Best first. */
    public static final Comparator<Score> RANKING = Comparator
            .comparing((Score s) -> !s.always())
            .thenComparing(Comparator.comparingLong(Score::value).reversed())
            .thenComparing(s -> s.announcement().nodeId());

    /** True when {@code challenger} beats {@code seated} clearly enough to unseat it (before the hold time). */
    public static boolean beatsByMargin(Score challenger, Score seated, long margin) {
        if (challenger.always() != seated.always()) {
            return challenger.always();
        }
        return challenger.value() - seated.value() > margin;
    }
}
