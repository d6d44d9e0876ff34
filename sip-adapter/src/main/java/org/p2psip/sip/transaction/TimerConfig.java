package org.p2psip.sip.transaction;

import java.time.Duration;

/**
 * RFC 3261 §17 timer values. T1 (RTT estimate, 500 ms), T2 (maximum retransmit interval for non-INVITE requests
 * and INVITE responses, 4 s), T4 (maximum time a message stays in the network, 5 s); Timer D (wait for response
 * retransmissions after an INVITE's non-2xx, at least 32 s over UDP); the delay after which an INVITE server
 * transaction sends 100 Trying itself (200 ms, §17.2.1). Timers B, F, H, J, L and M are 64*T1.
 */
public record TimerConfig(Duration t1, Duration t2, Duration t4, Duration timerD, Duration trying100) {
    public static final TimerConfig DEFAULT = new TimerConfig(Duration.ofMillis(500), Duration.ofSeconds(4),
            Duration.ofSeconds(5), Duration.ofSeconds(32), Duration.ofMillis(200));

    public TimerConfig {
        if (t1.isNegative() || t1.isZero() || t2.compareTo(t1) < 0) {
            throw new IllegalArgumentException("need 0 < T1 <= T2");
        }
    }

    /** T1 in milliseconds. */
    public long t1Ms() {
        return t1.toMillis();
    }

    /** T2 in milliseconds. */
    public long t2Ms() {
        return t2.toMillis();
    }

    long t4Ms() {
        return t4.toMillis();
    }

    /** 64*T1: Timers B, F, H, J, L, M. */
    public long timeoutMs() {
        return 64 * t1.toMillis();
    }
}
