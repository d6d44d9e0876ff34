package org.p2psip.nat.portmap;

/**
 * The router did not grant or delete a mapping: it refused, did not answer, or answered something malformed. The
 * message says which router, which protocol and what went wrong.
 */
public class PortMappingException extends Exception {
    private static final long serialVersionUID = 1L;

    public PortMappingException(String message) {
        super(message);
    }

    public PortMappingException(String message, Throwable cause) {
        super(message, cause);
    }
}
