package org.p2psip.superpeer.election;

import java.util.Comparator;
import org.p2psip.superpeer.discovery.Announcement;
import org.p2psip.superpeer.discovery.Preference;

/**
 * The deterministic score of a candidate, computed from its announcement alone (and whether its public claim was
 * verified): {@code tier * 10^9 + uptimeBucket * 10^7 + capacity}, where
 * <ul>
 *   <li>tier is {@link Reachability#rank} (public 5 … symmetric 1, unknown 0), so tier dominates;</li>
 *   <li>uptimeBucket = bit length of the uptime in seconds (0..32): uptime counts in doublings, so peers that
 *       announce a few seconds apart still compare the same;</li>
 *   <li>capacity (&lt; 10^7) = cpu permille * 3000 + min(memory MiB, 3000) * 1000 + min(bandwidth kbit/s / 100, 3000) * 1000.</li>
 * </ul>
 * Ranking: preference {@code ALWAYS} before {@code AUTO}, then score descending, then node id ascending.
 * {@code NEVER} is not a candidate.
 */
public record Score(Announcement announcement, Reachability reachability, long value) {
    public static final long TIER_STEP = 1_000_000_000L;
    public static final long UPTIME_STEP = 10_000_000L;

    public static Score of(Announcement a, boolean publicVerified) {
        Reachability r = Reachability.of(a.nat(), publicVerified);
        long uptimeBucket = 64 - Long.numberOfLeadingZeros(a.uptimeSeconds());
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
