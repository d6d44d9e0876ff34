package org.p2psip.node.api;

import java.time.Instant;

/**
 * One live contact of an AOR, read from the DHT: a contact record whose signature verified and whose signer's
 * certificate names the user.
 *
 * @param aor     the address of record, {@code sip:bob@example.net}
 * @param contact the device's Contact as registered, e.g. {@code <sip:bob@192.0.2.7:5062>}
 * @param peer    the SIP URI of the peer that registered it, where other peers forward requests for it
 * @param q       the Contact's q value, or null when it had none
 * @param expires when the binding expires unless refreshed
 */
public record ContactInfo(String aor, String contact, String peer, String q, Instant expires) {
}
