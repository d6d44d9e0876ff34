package org.p2psip.nat.turn;

/** A TURN attribute or ChannelData message whose value breaks its format rules. */
public final class TurnFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    public TurnFormatException(String message) {
        super(message);
    }
}
