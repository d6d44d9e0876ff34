package org.p2psip.nat.stun;

import java.util.concurrent.TimeoutException;

/** A STUN transaction got no (valid) response after all its retransmissions. */
public final class StunTimeoutException extends TimeoutException {
    private static final long serialVersionUID = 1L;

    public StunTimeoutException(String message) {
        super(message);
    }
}
