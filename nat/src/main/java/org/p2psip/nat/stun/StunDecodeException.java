package org.p2psip.nat.stun;

/** A datagram that is not a well-formed STUN message. The message says which rule it broke and where. */
public final class StunDecodeException extends Exception {
    private static final long serialVersionUID = 1L;

    public StunDecodeException(String message) {
        super(message);
    }
}
