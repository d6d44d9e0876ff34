package org.p2psip.storage;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One {@code contact} of the p2p-sip namespace: where a phone of the user can be reached.
 *
 * @param uri the contact URI with its URI parameters (the element's text), e.g. {@code sip:bob@192.1.2.3:5060;transport=tcp}
 * @param id the {@code Id} attribute, or null
 * @param user the {@code user} attribute (anyURI), or null
 * @param displayName or null
 * @param expires the contact's own expiry, or null (the value's expiry applies)
 * @param priority a SIP q-value ({@code 0} to {@code 1}, three decimals at most), or null
 * @param params extension: the Contact header parameters outside the URI, verbatim (e.g.
 *        {@code ;+sip.instance="<urn:uuid:...>";reg-id=1}), or null
 * @param path extension: the route through the phone's own peer, first hop first (RFC 3327 Path), maybe empty
 * @param peer extension: the node id (40 lower-case hex digits) of the overlay peer the phone is attached to, or null
 */
public record Contact(String uri, String id, String user, String displayName, Instant expires, String priority,
        String params, List<String> path, String peer) {
    private static final java.util.regex.Pattern Q_VALUE = java.util.regex.Pattern.compile("0(\\.[0-9]{0,3})?|1(\\.0{0,3})?");
    private static final java.util.regex.Pattern NODE_ID = java.util.regex.Pattern.compile("[0-9a-f]{40}");

    public Contact {
        Objects.requireNonNull(uri, "uri");
        path = path == null ? List.of() : List.copyOf(path);
        for (String hop : path) {
            if (hop.isEmpty() || hop.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("a path hop is a URI without white space: " + hop);
            }
        }
        if (priority != null && !Q_VALUE.matcher(priority).matches()) {
            throw new IllegalArgumentException("priority is a q-value: " + priority);
        }
        if (peer != null && !NODE_ID.matcher(peer).matches()) {
            throw new IllegalArgumentException("peer is a node id of 40 lower-case hex digits");
        }
        expires = expires == null ? null : Times.truncate(expires);
    }

    /** A contact with just a URI. */
    public static Contact of(String uri) {
        return new Contact(uri, null, null, null, null, null, null, List.of(), null);
    }
}
