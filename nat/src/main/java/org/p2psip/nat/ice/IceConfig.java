package org.p2psip.nat.ice;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * Where ICE finds its servers, and how long an Attach may take.
 *
 * @param stunServer       a STUN server for server-reflexive candidates (a superpeer's), or null
 * @param turnServer       a TURN server for relayed candidates, or null
 * @param turnUser         long-term credential user for {@code turnServer}
 * @param turnPassword     its password
 * @param signalingTimeout how long the Attach answer may take (the target gathers its candidates meanwhile)
 * @param checkTimeout     how long connectivity checks may take before the link counts as failed
 * @param relayGrace       how long a valid relayed pair waits for a valid direct one before it is nominated
 * @param consentFreshness whether ice4j checks consent on the selected pair (RFC 7675, STUN every ~15 s); the DTLS
 *                         keepalives hold NAT bindings either way
 * @param preparedMaxAge   with a trickling signaling, {@link IceLinks} keeps one ICE agent ready (from its first
 *                         setup on, until it has set up none for 10 minutes) whose host, server-reflexive and
 *                         port-mapped candidates are already gathered, so an Attach and its answer carry them instead
 *                         of trickling them a STUN round trip later; it is replaced by a fresh one (new sockets, new
 *                         STUN round trip) every half of this age and never used older, so its NAT bindings are
 *                         recent. {@link Duration#ZERO} gathers for each setup instead
 */
public record IceConfig(InetSocketAddress stunServer, InetSocketAddress turnServer, String turnUser, String turnPassword,
        Duration signalingTimeout, Duration checkTimeout, Duration relayGrace, boolean consentFreshness,
        Duration preparedMaxAge) {
    /** Default {@link #preparedMaxAge()}: below the 30 s UDP binding lifetime common NATs give at least. */
    public static final Duration DEFAULT_PREPARED_MAX_AGE = Duration.ofSeconds(20);

    public IceConfig {
        Objects.requireNonNull(signalingTimeout, "signalingTimeout");
        Objects.requireNonNull(checkTimeout, "checkTimeout");
        Objects.requireNonNull(relayGrace, "relayGrace");
        Objects.requireNonNull(preparedMaxAge, "preparedMaxAge");
        if (preparedMaxAge.isNegative()) {
            throw new IllegalArgumentException("preparedMaxAge must not be negative (ZERO turns preparation off)");
        }
        if (turnServer != null && (turnUser == null || turnPassword == null)) {
            throw new IllegalArgumentException("a TURN server needs a user and a password (long-term credentials)");
        }
    }

    /**
     * Host candidates only (no servers); 10 s for the answer, 10 s for the checks, 2 s of grace for relayed pairs, an
     * agent prepared ahead, at most {@link #DEFAULT_PREPARED_MAX_AGE} old.
     */
    public static IceConfig hostOnly() {
        return new IceConfig(
                null, null, null, null, Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofSeconds(2),
                true, DEFAULT_PREPARED_MAX_AGE);
    }

    public IceConfig withStun(InetSocketAddress server) {
        return new IceConfig(
                server, turnServer, turnUser, turnPassword, signalingTimeout, checkTimeout, relayGrace,
                consentFreshness, preparedMaxAge);
    }

    public IceConfig withTurn(InetSocketAddress server, String user, String password) {
        return new IceConfig(
                stunServer, server, user, password, signalingTimeout, checkTimeout, relayGrace,
                consentFreshness, preparedMaxAge);
    }

    public IceConfig withTimeouts(Duration signaling, Duration checks) {
        return new IceConfig(
                stunServer, turnServer, turnUser, turnPassword, signaling, checks, relayGrace,
                consentFreshness, preparedMaxAge);
    }

    public IceConfig withConsentFreshness(boolean on) {
        return new IceConfig(
                stunServer, turnServer, turnUser, turnPassword, signalingTimeout, checkTimeout, relayGrace,
                on, preparedMaxAge);
    }

    public IceConfig withRelayGrace(Duration grace) {
        return new IceConfig(
                stunServer, turnServer, turnUser, turnPassword, signalingTimeout, checkTimeout, grace,
                consentFreshness, preparedMaxAge);
    }

    /** {@link #preparedMaxAge()}: {@link Duration#ZERO} gathers candidates for each setup instead. */
    public IceConfig withPreparedMaxAge(Duration maxAge) {
        return new IceConfig(stunServer, turnServer, turnUser, turnPassword, signalingTimeout, checkTimeout, relayGrace,
                consentFreshness, maxAge);
    }
}
