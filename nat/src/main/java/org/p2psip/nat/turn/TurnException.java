package org.p2psip.nat.turn;

/** A TURN request that the server refused: its error code and reason phrase. */
public final class TurnException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int code;

    public TurnException(int code, String reason) {
        super(code + " " + reason);
        this.code = code;
    }

    /** The STUN error code (401, 403, 437, 438, 486, 508, ...). */
    public int code() {
        return code;
    }
}
