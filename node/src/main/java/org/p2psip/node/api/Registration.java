package org.p2psip.node.api;

import java.time.Instant;

/**
 * An AOR registered through {@link P2pSip#register}: the embedding application is its user agent, reached at this
 * peer's own SIP address.
 *
 * @param aor     the address of record, {@code sip:alice@example.net}
 * @param contact the Contact stored in the signed contact record, {@code <sip:alice@host:port>} (this peer's SIP
 *                address)
 * @param expires when the stored record expires; the API refreshes it before then until {@link P2pSip#unregister}
 */
public record Registration(String aor, String contact, Instant expires) {
}
