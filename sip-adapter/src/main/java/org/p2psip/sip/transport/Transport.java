package org.p2psip.sip.transport;

/** The transports the stack speaks. */
public enum Transport {
    UDP(false), TCP(true), TLS(true);

    private final boolean reliable;

    Transport(boolean reliable) {
        this.reliable = reliable;
    }

    /** Reliable transports need no retransmissions (RFC 3261 §17). */
    public boolean reliable() {
        return reliable;
    }

    /** The default port of a URI without one (RFC 3261 §19.1.2, RFC 3263): 5061 for TLS, else 5060. */
    public int defaultPort() {
        return this == TLS ? 5061 : 5060;
    }

    /** From a Via transport token; null for one we do not speak. */
    public static Transport fromVia(String token) {
        return switch (token.toUpperCase(java.util.Locale.ROOT)) {
            case "UDP" -> UDP;
            case "TCP" -> TCP;
            case "TLS" -> TLS;
            default -> null;
        };
    }
}
