package org.p2psip.superpeer.election;

import java.time.Duration;

/**
 * @param baseSeats      superpeers per site before counting leaves (default 2)
 * @param leavesPerExtra one more seat per this many leaves (default 50)
 * @param maxSeats       upper bound on seats (default 16)
 * @param margin         a challenger's score must exceed the weakest sitting superpeer's by more than this
 *                       (default {@link Score#UPTIME_STEP}: one doubling of uptime, or a better reachability tier)
 * @param hold           and must keep doing so for this long
 */
public record ElectionConfig(int baseSeats, int leavesPerExtra, int maxSeats, long margin, Duration hold) {
    public static final ElectionConfig DEFAULT = new ElectionConfig(2, 50, 16, Score.UPTIME_STEP, Duration.ofSeconds(10));

    public ElectionConfig {
        if (baseSeats < 1 || leavesPerExtra < 1 || maxSeats < baseSeats || margin < 0 || hold.isNegative()) {
            throw new IllegalArgumentException("bad election config");
        }
    }

    public ElectionConfig withHold(Duration h) {
        return new ElectionConfig(baseSeats, leavesPerExtra, maxSeats, margin, h);
    }

    public ElectionConfig withMargin(long m) {
        return new ElectionConfig(baseSeats, leavesPerExtra, maxSeats, m, hold);
    }

    /** S = min(candidates, baseSeats + leaves / leavesPerExtra, maxSeats), leaves = members beyond the base seats. */
    public int seats(int members, int candidates) {
        int leaves = Math.max(0, members - baseSeats);
        return Math.min(candidates, Math.min(maxSeats, baseSeats + leaves / leavesPerExtra));
    }
}
