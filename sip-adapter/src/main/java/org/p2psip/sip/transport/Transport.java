package org.p2psip.sip.transport;

/** The transports the stack speaks. TLS is next. */
public enum Transport {
    UDP(false), TCP(true);

    private final boolean reliable;

    Transport(boolean reliable) {
        this.reliable = reliable;
    }

    /** Reliable transports need no retransmissions (RFC 3261 §17). */
    public boolean reliable() {
        return reliable;
    }

    /** From a Via transport token; null for one we do not speak. */
    public static Transport fromVia(String token) {
        return switch (token.toUpperCase(java.util.Locale.ROOT)) {
            case "UDP" -> UDP;
            case "TCP" -> TCP;
            default -> null;
        };
    }
}
