package org.p2psip.node.api;

import java.util.concurrent.CompletableFuture;

/**
 * An INVITE for an AOR registered through the API. The application answers it ({@link #answer}: 200 with its
 * session description, retransmitted until the caller's ACK) or rejects it ({@link #reject}); a caller's CANCEL
 * ends it with 487 and {@link #ended()}. Once answered, the dialog ends with a BYE from either side
 * ({@link #hangup}). Methods are safe from any thread; only the first answer or rejection counts.
 */
public final class IncomingCall implements IncomingRequest {
    /** What the API does for a call; implemented by the endpoint that received the INVITE. */
    interface Control {
        void ringing();

        CompletableFuture<Void> answer(String contentType, String body);

        void reject(int status, String reason);

        CompletableFuture<Void> hangup();

        CompletableFuture<Void> ended();
    }

    private final String from;
    private final String to;
    private final String callId;
    private final String offerType;
    private final String offer;
    private final Control control;

    IncomingCall(String from, String to, String callId, String offerType, String offer, Control control) {
        this.from = from;
        this.to = to;
        this.callId = callId;
        this.offerType = offerType;
        this.offer = offer;
        this.control = control;
    }

    @Override
    public String from() {
        return from;
    }

    @Override
    public String to() {
        return to;
    }

    /** The INVITE's Call-ID. */
    public String callId() {
        return callId;
    }

    /** The offer's content type ({@code application/sdp}), or null when the INVITE had no body. */
    public String offerType() {
        return offerType;
    }

    /** The caller's session description (the INVITE's body as text), empty when it had none. */
    public String offer() {
        return offer;
    }

    /** Sends 180 Ringing. */
    public void ringing() {
        control.ringing();
    }

    /**
     * Accepts the call with 200 OK carrying {@code body} (e.g. an SDP answer). Completes when the caller's ACK
     * arrives; fails if none comes within 64*T1 (32 s), after which the call is over.
     */
    public CompletableFuture<Void> answer(String contentType, String body) {
        return control.answer(contentType, body);
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

    /** Ends an answered call with a BYE to the caller; completes with the BYE's final response. */
    public CompletableFuture<Void> hangup() {
        return control.hangup();
    }

    /** Completes when the call is over: BYE from the caller, {@link #hangup}, rejection, CANCEL or no ACK. */
    public CompletableFuture<Void> ended() {
        return control.ended();
    }
}
