package org.p2psip.superpeer.leaf;

/** A leaf-protocol datagram that is malformed, forged, replayed or oversized; the receiver drops and counts it. */
public final class MalformedLeafMessageException extends Exception {
    private static final long serialVersionUID = 1L;

    public MalformedLeafMessageException(String message) {
        super(message);
    }
}
