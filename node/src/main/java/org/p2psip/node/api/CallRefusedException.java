package org.p2psip.node.api;

/** A call placed with {@link P2pSip#call} got a final response other than 2xx (e.g. 404, 480, 486, 603). */
public final class CallRefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String reason;

    CallRefusedException(String to, int status, String reason) {
        super("the call to " + to + " was refused: " + status + " " + reason);
        this.status = status;
        this.reason = reason;
    }

    /** The final status code. */
    public int status() {
        return status;
    }

    /** The reason phrase. */
    public String reason() {
        return reason;
    }
}
