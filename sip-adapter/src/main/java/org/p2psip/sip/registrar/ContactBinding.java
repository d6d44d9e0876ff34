package org.p2psip.sip.registrar;

import java.util.List;

/**
 * One registered device of an AOR: the Contact as the phone sent it (name-addr, without {@code expires}), its q
 * value, the absolute expiry, the SIP URI of the peer that registered it ({@code path}), which is where other
 * peers forward requests for this contact, and the REGISTER's Path headers (RFC 3327, e.g. a superpeer in front of a
 * leaf's phone), which requests for it are routed through after that peer.
 *
 * <p>{@link SignedContactStore} stores it as a signed contact record.
 */
public record ContactBinding(String aor, String contact, String q, String path, List<String> pathHeaders,
        long expiresAtMillis) {
    public ContactBinding {
        pathHeaders = List.copyOf(pathHeaders);
    }

    /** A binding registered directly (no Path headers). */
    public ContactBinding(String aor, String contact, String q, String path, long expiresAtMillis) {
        this(aor, contact, q, path, List.of(), expiresAtMillis);
    }

    public ContactBinding withExpiry(long expiresAtMillis) {
        return new ContactBinding(aor, contact, q, path, pathHeaders, expiresAtMillis);
    }

    /** Seconds left at {@code nowMillis}, rounded up. */
    public long remainingSeconds(long nowMillis) {
        return Math.max(0, (expiresAtMillis - nowMillis + 999) / 1000);
    }
}
