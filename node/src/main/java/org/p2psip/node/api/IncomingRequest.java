package org.p2psip.node.api;

/**
 * A request addressed to an AOR registered through {@link P2pSip#register}, delivered to the application's
 * {@link IncomingListener} instead of a phone.
 */
public sealed interface IncomingRequest permits IncomingMessage, IncomingCall {
    /** The sender's address as in the request's From, e.g. {@code <sip:alice@example.net>}. */
    String from();

    /** The addressed AOR, {@code sip:bob@example.net}. */
    String to();
}
