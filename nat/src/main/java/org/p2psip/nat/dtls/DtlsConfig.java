package org.p2psip.nat.dtls;

import java.time.Duration;
import org.p2psip.nat.discovery.NatDiscovery;

/**
 * Tuning of a {@link DtlsLinkLayer}. {@link #defaults()} suits a real deployment; tests shorten the
 * intervals. Immutable: the {@code with...} methods return changed copies.
 *
 * @param keepaliveIntervalMillis  an established session that sent nothing for this long sends a keepalive (an
 *                                 empty DTLS application record); below the NAT's UDP binding lifetime
 * @param deadPeerTimeoutMillis    an established session that received nothing (data or keepalive) for this
 *                                 long is closed; 3 keepalive intervals by default
 * @param unusedSessionTimeoutMillis a session that carried no application data either way for this long is
 *                                 closed even though keepalives still flow (the overlay dropped the link); 0
 *                                 keeps sessions while keepalives flow
 * @param handshakeTimeoutMillis   a handshake not done by then fails (and its queued datagrams are dropped)
 * @param handshakeResendMillis    first retransmission timeout of a handshake flight (doubles up to 60 s)
 * @param maxConcurrentHandshakes  server handshakes running at once (each holds a thread); more are refused. Handshakes
 *                                 this node starts get 4 times as many threads and queue beyond them
 * @param maxSessions              sessions (established or handshaking) kept at once
 * @param maxPendingPerPeer        datagrams queued for sending while a session's handshake runs
 * @param maxInboundPerPeer        datagrams queued for a running handshake to read
 * @param mtu                      largest UDP payload this layer sends (the DTLS record included)
 * @param helloVerifyPerSecond     HelloVerifyRequests sent per second at most (answers to cookie-less
 *                                 ClientHellos, which may come from spoofed addresses); bursts of twice that
 */
public record DtlsConfig(
        long keepaliveIntervalMillis,
        long deadPeerTimeoutMillis,
        long unusedSessionTimeoutMillis,
        int handshakeTimeoutMillis,
        int handshakeResendMillis,
        int maxConcurrentHandshakes,
        int maxSessions,
        int maxPendingPerPeer,
        int maxInboundPerPeer,
        int mtu,
        int helloVerifyPerSecond) {

    /** Keepalive interval when the NAT's binding lifetime is unknown. */
    public static final long DEFAULT_KEEPALIVE_MILLIS = 15_000;
    /** Shortest keepalive interval {@link #withBindingLifetime} chooses. */
    public static final long MIN_KEEPALIVE_MILLIS = 1_000;
    /** Bytes a DTLS 1.2 record adds to its payload at most with this layer's cipher suites (header 13, GCM nonce 8, tag 16). */
    public static final int RECORD_OVERHEAD = 37;

    public DtlsConfig {
        if (keepaliveIntervalMillis < 1 || deadPeerTimeoutMillis <= keepaliveIntervalMillis) {
            throw new IllegalArgumentException("need keepaliveIntervalMillis >= 1 and deadPeerTimeoutMillis > keepaliveIntervalMillis");
        }
        if (unusedSessionTimeoutMillis < 0) {
            throw new IllegalArgumentException("unusedSessionTimeoutMillis must be >= 0 (0 disables it)");
        }
        if (handshakeTimeoutMillis < 100 || handshakeResendMillis < 10) {
            throw new IllegalArgumentException("need handshakeTimeoutMillis >= 100 and handshakeResendMillis >= 10");
        }
        if (maxConcurrentHandshakes < 1 || maxSessions < 1 || maxPendingPerPeer < 1 || maxInboundPerPeer < 1) {
            throw new IllegalArgumentException("the handshake, session and queue limits must be positive");
        }
        if (mtu < 576 || mtu > 65_507) {
            throw new IllegalArgumentException("mtu must be within 576..65507");
        }
        if (helloVerifyPerSecond < 1) {
            throw new IllegalArgumentException("helloVerifyPerSecond must be positive");
        }
    }

    /** Defaults: keepalive 15 s, dead peer after 45 s, unused session after 30 min, handshakes 5 s, 8 answered at once. */
    public static DtlsConfig defaults() {
        return new DtlsConfig(DEFAULT_KEEPALIVE_MILLIS, 3 * DEFAULT_KEEPALIVE_MILLIS, 30 * 60_000L, 5_000, 1_000, 8, 2_048,
                64, 64, 1_472, 1_000);
    }

    /** Sets the keepalive interval and the dead-peer timeout. */
    public DtlsConfig withKeepalive(long intervalMillis, long deadPeerTimeout) {
        return new DtlsConfig(intervalMillis, deadPeerTimeout, unusedSessionTimeoutMillis, handshakeTimeoutMillis,
                handshakeResendMillis, maxConcurrentHandshakes, maxSessions, maxPendingPerPeer, maxInboundPerPeer, mtu,
                helloVerifyPerSecond);
    }

    /**
     * Keepalives for a NAT whose UDP bindings live at least {@code atLeastMillis} (NAT behaviour discovery's
     * {@code atLeast()}): half of it, between 1 s and 15 s; the dead-peer timeout is 3 intervals. A value of 0
     * or less (unknown) gives the defaults.
     */
    public DtlsConfig withBindingLifetime(long atLeastMillis) {
        long interval = atLeastMillis <= 0 ? DEFAULT_KEEPALIVE_MILLIS
                : Math.max(MIN_KEEPALIVE_MILLIS, Math.min(DEFAULT_KEEPALIVE_MILLIS, atLeastMillis / 2));
        return withKeepalive(interval, 3 * interval);
    }

    /**
     * Keepalives for the binding lifetime NAT behaviour discovery measured: {@link #withBindingLifetime(long)} of its
     * {@code atLeast()}; when even the shortest silence lost the binding, a third of {@code lessThan()}; the defaults
     * when the lifetime is unknown (null).
     */
    public DtlsConfig withBindingLifetime(NatDiscovery.BindingLifetime lifetime) {
        if (lifetime == null) {
            return withBindingLifetime(0);
        }
        Duration atLeast = lifetime.atLeast();
        if (atLeast != null) {
            return withBindingLifetime(atLeast.toMillis());
        }
        Duration lessThan = lifetime.lessThan();
        return withBindingLifetime(lessThan == null ? 0 : Math.max(1, lessThan.toMillis() * 2 / 3));
    }

    public DtlsConfig withUnusedSessionTimeout(long millis) {
        return new DtlsConfig(keepaliveIntervalMillis, deadPeerTimeoutMillis, millis, handshakeTimeoutMillis,
                handshakeResendMillis, maxConcurrentHandshakes, maxSessions, maxPendingPerPeer, maxInboundPerPeer, mtu,
                helloVerifyPerSecond);
    }

    public DtlsConfig withHandshake(int timeoutMillis, int resendMillis, int maxConcurrent) {
        return new DtlsConfig(keepaliveIntervalMillis, deadPeerTimeoutMillis, unusedSessionTimeoutMillis, timeoutMillis,
                resendMillis, maxConcurrent, maxSessions, maxPendingPerPeer, maxInboundPerPeer, mtu, helloVerifyPerSecond);
    }

    public DtlsConfig withLimits(int sessions, int pendingPerPeer, int inboundPerPeer, int helloVerifiesPerSecond) {
        return new DtlsConfig(keepaliveIntervalMillis, deadPeerTimeoutMillis, unusedSessionTimeoutMillis,
                handshakeTimeoutMillis, handshakeResendMillis, maxConcurrentHandshakes, sessions, pendingPerPeer,
                inboundPerPeer, mtu, helloVerifiesPerSecond);
    }

    public DtlsConfig withMtu(int v) {
        return new DtlsConfig(keepaliveIntervalMillis, deadPeerTimeoutMillis, unusedSessionTimeoutMillis,
                handshakeTimeoutMillis, handshakeResendMillis, maxConcurrentHandshakes, maxSessions, maxPendingPerPeer,
                maxInboundPerPeer, v, helloVerifyPerSecond);
    }

    /** Largest datagram the layer carries in one record: the MTU less the record overhead. */
    public int maxPayloadBytes() {
        return mtu - RECORD_OVERHEAD;
    }
}
