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
 */
public record IceConfig(InetSocketAddress stunServer, InetSocketAddress turnServer, String turnUser, String turnPassword,
        Duration signalingTimeout, Duration checkTimeout, Duration relayGrace, boolean consentFreshness) {
    public IceConfig {
        Objects.requireNonNull(signalingTimeout, "signalingTimeout");
        Objects.requireNonNull(checkTimeout, "checkTimeout");
        Objects.requireNonNull(relayGrace, "relayGrace");
        if (turnServer != null && (turnUser == null || turnPassword == null)) {
            throw new IllegalArgumentException("a TURN server needs a user and a password (long-term credentials)");
        }
    }

    /** Host candidates only (no servers); 10 s for the answer, 10 s for the checks, 2 s of grace for relayed pairs. */
    public static IceConfig hostOnly() {
        return new IceConfig(
                null, null, null, null, Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofSeconds(2),
                true);
    }

    public IceConfig withStun(InetSocketAddress server) {
        return new IceConfig(
                server, turnServer, turnUser, turnPassword, signalingTimeout, checkTimeout, relayGrace, consentFreshness);
    }

    public IceConfig withTurn(InetSocketAddress server, String user, String password) {
        return new IceConfig(
                stunServer, server, user, password, signalingTimeout, checkTimeout, relayGrace, consentFreshness);
    }

    public IceConfig withTimeouts(Duration signaling, Duration checks) {
        return new IceConfig(
                stunServer, turnServer, turnUser, turnPassword, signaling, checks, relayGrace, consentFreshness);
    }

    public IceConfig withConsentFreshness(boolean on) {
        return new IceConfig(
                stunServer, turnServer, turnUser, turnPassword, signalingTimeout, checkTimeout, relayGrace, on);
    }

    public IceConfig withRelayGrace(Duration grace) {
        return new IceConfig(
                stunServer, turnServer, turnUser, turnPassword, signalingTimeout, checkTimeout, grace, consentFreshness);
    }
}
