package org.p2psip.nat.portmap;

/** A router's reply broke the protocol (too short, wrong version, wrong opcode, hostile XML...). */
public final class MalformedReplyException extends PortMappingException {
    private static final long serialVersionUID = 1L;

    public MalformedReplyException(String message) {
        super(message);
    }

    public MalformedReplyException(String message, Throwable cause) {
        super(message, cause);
    }
}
