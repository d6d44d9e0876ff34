package org.p2psip.sip.registrar;

import java.util.Optional;

/**
 * Where the digest verifier finds a user's secret: either a password ({@link DigestAccounts}) or stored HA1 values
 * ({@link Ha1Accounts}, the node's {@code sip-users} file). The verifier needs only HA1 = H(user:realm:password) for
 * the algorithm it challenged with.
 */
public interface Credentials {
    /**
     * The HA1 of {@code user} in {@code realm} for {@code algorithm} ({@code MD5} or {@code SHA-256}) in lower-case
     * hex; empty when the user is unknown, has no account in that realm, or none for that algorithm.
     */
    Optional<String> ha1(String user, String realm, String algorithm);

    /**
     * Why {@code user} cannot authenticate in {@code realm} when {@link #ha1} is empty, in words for the log (e.g. an
     * account that exists for another realm).
     */
    default String whyNot(String user, String realm) {
        return "unknown user " + user;
    }

    /**
     * The secret that protects the user's password-encrypted {@code private:} record, so that every peer holding the
     * same account opens it; empty when there is none (the user's key then stays on the peer that created it). Peers
     * of one user must use the same kind of credentials (a password and an HA1 give different secrets).
     */
    Optional<String> recordSecret(String user, String realm);

    /** How many accounts there are (for logs and status). */
    int size();
}
