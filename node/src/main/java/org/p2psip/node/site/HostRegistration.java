package org.p2psip.node.site;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The one service registration a peer's host key has in the draft's service directory, shared by the peer's own
 * advertisement ({@link ServiceAds}) and the XML-RPC gateway's {@code join}/{@code leave}. Both sign with the node key
 * and the same nonce, so they write the same value; this class keeps them from undoing each other:
 * <ul>
 *   <li>one expiry clock: every registration expires strictly after the previous one, whoever wrote it, so the last
 *       written wins on every replica (a replica keeps the later expiry and refuses an earlier one as a replay);</li>
 *   <li>once a client joins or leaves through the gateway, the registration is the client's: the peer stops
 *       advertising and renewing on its own, so a later automatic renewal cannot bring back what the client removed
 *       or replace what it listed.</li>
 * </ul>
 */
public final class HostRegistration {
    private Instant lastExpiry;
    private boolean clientOwned;

    /**
     * now + {@code lifetime} in whole seconds, and always after the previous registration's: a leave leaves a
     * tombstone on the replicas until the removed registration's expiry, and only a later expiry passes it.
     */
    public synchronized Instant nextExpiry(Duration lifetime) {
        Instant e = Instant.now().plus(lifetime).truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
        if (lastExpiry != null && !e.isAfter(lastExpiry)) {
            e = lastExpiry.plusSeconds(1);
        }
        lastExpiry = e;
        return e;
    }

    /** A client joined or left through the gateway: from now on the peer leaves the registration to it. */
    public synchronized void takenByClient() {
        clientOwned = true;
    }

    /** Whether the peer still manages the registration itself (no client has joined or left through the gateway). */
    public synchronized boolean automatic() {
        return !clientOwned;
    }
}
