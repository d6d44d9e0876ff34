package org.p2psip.nat.ice;

/** An attach message that breaks the format; the message says which rule. */
public final class AttachFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    public AttachFormatException(String message) {
        super(message);
    }
}
