package org.p2psip.sip.message;

import java.util.Optional;

/**
 * Malformed SIP input. Carries the status code and reason phrase a server should answer with (400, 413, 505, 416...)
 * and, when the input was a request whose start line and Via could be read, the request as far as it was read so
 * that the server can answer it ({@link #answerable()}). Responses and unreadable requests are simply dropped.
 */
public final class SipParseException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final transient SipRequest answerable;
    private final boolean framingLost;

    public SipParseException(String reason) {
        this(400, reason, null, false);
    }

    public SipParseException(int status, String reason) {
        this(status, reason, null, false);
    }

    SipParseException(int status, String reason, SipRequest answerable, boolean framingLost) {
        super(reason);
        this.status = status;
        this.answerable = answerable;
        this.framingLost = framingLost;
    }

    /** The status code to answer with if the input was a request: 400, 413 (too large) or 505 (version). */
    public int status() {
        return status;
    }

    /** A short reason phrase that says what was wrong, suitable as the response's Reason-Phrase. */
    public String reason() {
        return getMessage();
    }

    /** The request as far as it could be read, when it can be answered (request line and a Via were readable). */
    public Optional<SipRequest> answerable() {
        return Optional.ofNullable(answerable);
    }

    /** True when a stream transport cannot find the next message boundary any more: the connection must close. */
    public boolean framingLost() {
        return framingLost;
    }

    SipParseException withAnswerable(SipRequest request) {
        return new SipParseException(status, getMessage(), request, framingLost);
    }

    SipParseException fatal() {
        return new SipParseException(status, getMessage(), answerable, true);
    }
}
