package org.p2psip.overlay.wire;

/** A datagram that is not a valid overlay frame. The node drops it and counts it. */
public final class MalformedFrameException extends Exception {
    private static final long serialVersionUID = 1L;

    public MalformedFrameException(String message) {
        super(message, null, false, false);
    }
}
