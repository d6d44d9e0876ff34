package org.p2psip.node.api;

import java.util.Objects;

/**
 * A session description carried in an INVITE, a re-INVITE or their 2xx (an SDP offer or answer).
 *
 * @param contentType its content type, e.g. {@code application/sdp}; null when {@code body} is empty
 * @param body the description as text, empty when the message had no body
 */
public record SessionDescription(String contentType, String body) {
    /** No body. */
    public static final SessionDescription NONE = new SessionDescription(null, "");

    /** @throws IllegalArgumentException when a non-empty body has no content type with a {@code /} */
    public SessionDescription {
        body = Objects.requireNonNullElse(body, "");
        if (body.isEmpty()) {
            contentType = null;
        } else if (contentType == null || contentType.indexOf('/') < 0) {
            throw new IllegalArgumentException("a session description needs a content type such as application/sdp,"
                    + " not '" + contentType + "'");
        }
    }

    /** Whether there is no body. */
    public boolean isEmpty() {
        return body.isEmpty();
    }
}
