package org.p2psip.node.api;

import java.nio.charset.StandardCharsets;

/**
 * A MESSAGE (RFC 3428) for an AOR registered through the API; also a message that waited offline and is delivered
 * at registration. The API answers 200 once the listener returns, 500 if it throws.
 *
 * @param from        the sender, as in the From header (without tag)
 * @param to          the addressed AOR
 * @param contentType the body's type, {@code text/plain} when the request named none
 * @param body        the body bytes
 */
public record IncomingMessage(String from, String to, String contentType, byte[] body) implements IncomingRequest {
    public IncomingMessage {
        body = body.clone();
    }

    /** The body bytes (a copy). */
    @Override
    public byte[] body() {
        return body.clone();
    }

    /** The body as UTF-8 text. */
    public String text() {
        return new String(body, StandardCharsets.UTF_8);
    }
}
