package org.p2psip.node.api;

import java.util.concurrent.CompletableFuture;

/**
 * An INVITE for an AOR registered through the API. The application answers it ({@link #answer}: 200 with its
 * session description, retransmitted until the caller's ACK) or rejects it ({@link #reject}); a caller's CANCEL
 * ends it with 487 and {@link #ended()}. Once answered it is an established {@link Call}: re-INVITEs either way, and
 * a BYE from either side ends it ({@link #hangup}). Methods are safe from any thread; only the first answer or
 * rejection counts.
 */
public final class IncomingCall extends Call implements IncomingRequest {
    /** What the API does for a call; implemented by the endpoint that received the INVITE. */
    interface Control extends Call.Control {
        void ringing();

        CompletableFuture<Void> answer(SessionDescription answer);

        void reject(int status, String reason);
    }

    private final SessionDescription offer;
    private final Control control;

    IncomingCall(String from, String to, String callId, SessionDescription offer, Control control) {
        super(from, to, callId, control);
        this.offer = offer;
        this.control = control;
    }

    /** The caller's address as in the INVITE's From (without its tag), e.g. {@code <sip:alice@example.net>}. */
    @Override
    public String from() {
        return super.from();
    }

    /** The addressed AOR, {@code sip:bob@example.net}. */
    @Override
    public String to() {
        return super.to();
    }

    /** The offer's content type ({@code application/sdp}), or null when the INVITE had no body. */
    public String offerType() {
        return offer.contentType();
    }

    /** The caller's session description (the INVITE's body as text), empty when it had none. */
    public String offer() {
        return offer.body();
    }

    /** Sends 180 Ringing. */
    public void ringing() {
        control.ringing();
    }

    /**
     * Accepts the call with 200 OK carrying {@code body} (e.g. an SDP answer). Completes when the caller's ACK
     * arrives; fails if none comes within 64*T1 (32 s), after which the call is over, or when the call was already
     * answered, rejected or cancelled.
     *
     * @throws IllegalArgumentException for a body without a content type
     */
    public CompletableFuture<Void> answer(String contentType, String body) {
        return control.answer(new SessionDescription(contentType, body));
    }

    /**
     * Refuses the call with a final status of 300 to 699 (e.g. 486 Busy Here, 603 Decline).
     *
     * @throws IllegalArgumentException for a status outside 300..699
     */
    public void reject(int status, String reason) {
        if (status < 300 || status > 699) {
            throw new IllegalArgumentException("a call is rejected with a status of 300 to 699, not " + status);
        }
        control.reject(status, reason);
    }
}
