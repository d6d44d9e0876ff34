package org.p2psip.node.api;

import java.util.concurrent.CompletableFuture;

/**
 * A call the application placed with {@link P2pSip#call} that the callee answered: the 2xx was acknowledged (ACK
 * along the dialog's route set). It ends with {@link #hangup} or the callee's BYE ({@link #ended()}).
 */
public final class OutgoingCall {
    /** What the API does for an established call. */
    interface Control {
        CompletableFuture<Void> hangup();

        CompletableFuture<Void> ended();
    }

    private final String from;
    private final String to;
    private final String callId;
    private final String answerType;
    private final String answer;
    private final Control control;

    OutgoingCall(String from, String to, String callId, String answerType, String answer, Control control) {
        this.from = from;
        this.to = to;
        this.callId = callId;
        this.answerType = answerType;
        this.answer = answer;
        this.control = control;
    }

    /** The calling AOR. */
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

    /** The answer's content type ({@code application/sdp}), or null when the 2xx had no body. */
    public String answerType() {
        return answerType;
    }

    /** The callee's session description (the 2xx body as text), empty when it had none. */
    public String answer() {
        return answer;
    }

    /** Ends the call with a BYE; completes with the BYE's final response (fails on timeout). */
    public CompletableFuture<Void> hangup() {
        return control.hangup();
    }

    /** Completes when the call is over: {@link #hangup} or the callee's BYE. */
    public CompletableFuture<Void> ended() {
        return control.ended();
    }
}
