package org.p2psip.overlay;

import org.p2psip.overlay.wire.Message.Status;

/** A DHT operation failed; {@link #status()} says how (CAPACITY: try later or elsewhere; REFUSED: not allowed). */
public final class DhtException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final Status status;

    public DhtException(Status status, String message) {
        super(message);
        this.status = status;
    }

    public Status status() {
        return status;
    }
}
