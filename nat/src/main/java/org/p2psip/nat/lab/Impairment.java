package org.p2psip.nat.lab;

import java.time.Duration;
import java.util.Objects;

/**
 * Link impairment on a site router, applied to packets it sends in each direction (out of its WAN and out of its
 * LAN interface), so a round trip through the router sees twice the delay and two chances of loss.
 *
 * @param oneWayDelay added to each packet in each direction (netem, or without sch_netem the lab's NFQUEUE
 *     program nfq-delay)
 * @param loss probability in [0, 1] that a packet is dropped in each direction
 */
public record Impairment(Duration oneWayDelay, double loss) {
    public static final Impairment NONE = new Impairment(Duration.ZERO, 0);

    public Impairment {
        Objects.requireNonNull(oneWayDelay, "oneWayDelay");
        if (oneWayDelay.isNegative()) {
            throw new IllegalArgumentException("negative delay");
        }
        if (!(loss >= 0 && loss <= 1)) {
            throw new IllegalArgumentException("loss must be in [0, 1]: " + loss);
        }
    }

    public static Impairment delay(Duration oneWay) {
        return new Impairment(oneWay, 0);
    }

    public static Impairment loss(double probability) {
        return new Impairment(Duration.ZERO, probability);
    }
}
