package org.p2psip.nat.stun;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * A response that completed a client transaction.
 *
 * @param message the decoded response (success or error)
 * @param from the address it came from (differs from the server's when CHANGE-REQUEST was honoured)
 * @param receivedOn the local socket that received it (differs from the sender when RESPONSE-PORT was used)
 * @param transmissions how many times the request had been sent
 * @param elapsed time from the first transmission to the response
 */
public record StunResponse(StunMessage message, InetSocketAddress from, InetSocketAddress receivedOn,
        int transmissions, Duration elapsed) {
    public boolean isSuccess() {
        return message.messageClass() == StunClass.SUCCESS_RESPONSE;
    }

    /** The error code of an error response, or 0. */
    public int errorCode() {
        return message.get(StunAttribute.ErrorCode.class).map(StunAttribute.ErrorCode::code).orElse(0);
    }
}
