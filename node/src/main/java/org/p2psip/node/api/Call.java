package org.p2psip.node.api;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * What every call of the application does once it is established, whichever side placed it: a re-INVITE either way
 * (RFC 3261 §14: hold and resume, a new codec, a session refresh) and the BYE that ends it (§15). Methods are safe
 * from any thread.
 */
public abstract sealed class Call permits IncomingCall, OutgoingCall {
    /** What the API does in an established dialog; implemented by the endpoint. */
    interface Control {
        CompletableFuture<Void> hangup();

        CompletableFuture<Void> ended();

        CompletableFuture<SessionDescription> reinvite(SessionDescription offer);

        void onReinvite(Consumer<Reinvite> handler);
    }

    private final String from;
    private final String to;
    private final String callId;
    private final Control control;

    Call(String from, String to, String callId, Control control) {
        this.from = from;
        this.to = to;
        this.callId = callId;
        this.control = control;
    }

    /** The caller (the From of the INVITE, without its tag). */
    public String from() {
        return from;
    }

    /** The called AOR. */
    public String to() {
        return to;
    }

    /** The dialog's Call-ID. */
    public String callId() {
        return callId;
    }

    /** Ends the established call with a BYE; completes with the BYE's final response (fails on timeout). */
    public CompletableFuture<Void> hangup() {
        return control.hangup();
    }

    /** Completes when the call is over: a BYE from either side, or (incoming) a rejection, CANCEL or no ACK. */
    public CompletableFuture<Void> ended() {
        return control.ended();
    }

    /**
     * Sends a re-INVITE in the established dialog with a new offer (e.g. the SDP of a hold with
     * {@code a=sendonly}, of a resume, or the same one again as a session refresh), and ACKs its 2xx (every
     * retransmission of it too). The dialog goes on whatever the outcome, except after a 481 or 408 or no answer at
     * all, which end it (§12.2.1.2; a BYE is sent on a timeout).
     *
     * @param contentType the offer's type ({@code application/sdp}); may be null only with an empty body
     * @param body the new offer; empty for an offerless re-INVITE (the 2xx then carries the offer)
     * @return completes with the other side's answer (its 2xx body); fails with a {@link CallRefusedException} for a
     *         non-2xx (488 Not Acceptable Here, 491 Request Pending when both sides re-INVITE at once: try again
     *         later), with {@link IllegalStateException} when the call is not established, is over, or has a
     *         re-INVITE in progress, and on timeout
     * @throws IllegalArgumentException for a body without a content type
     */
    public CompletableFuture<SessionDescription> reinvite(String contentType, String body) {
        return control.reinvite(new SessionDescription(contentType, body));
    }

    /**
     * Sets what happens to re-INVITEs the other side sends in this call (replacing the previous handler, for every
     * re-INVITE that arrives once this returns); it runs on the API's event thread and must {@link Reinvite#accept} or {@link Reinvite#reject} each. Without a handler a
     * re-INVITE is accepted with this side's current session description (the last one it sent), which is right for
     * a session refresh. A re-INVITE that arrives while one is in progress gets 491 (ours) or 500 (theirs) as
     * §14 says.
     */
    public void onReinvite(Consumer<Reinvite> handler) {
        control.onReinvite(handler);
    }
}
