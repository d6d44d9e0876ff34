package org.p2psip.node.api;

/**
 * A call placed with {@link P2pSip#call} or {@link P2pSip#dial}, or a re-INVITE ({@link Call#reinvite}), got a final
 * response other than 2xx (e.g. 404, 480, 486, 603; 488 or 491 to a re-INVITE).
 */
public final class CallRefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String reason;

    /** @param what what was refused, e.g. "the call to sip:bob@example.net" */
    CallRefusedException(String what, int status, String reason) {
        super(what + " was refused: " + status + " " + reason);
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
