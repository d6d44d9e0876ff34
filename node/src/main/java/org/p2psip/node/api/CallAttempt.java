package org.p2psip.node.api;

import java.util.concurrent.CompletableFuture;

/**
 * A call being placed with {@link P2pSip#dial}, from the INVITE to its final response: it may ring
 * ({@link #ringing()}), be answered ({@link #answered()}) or be cancelled by the application before that
 * ({@link #cancel()}, RFC 3261 §9.1).
 */
public final class CallAttempt {
    /** What the API does for a call being placed. */
    interface Control {
        CompletableFuture<Void> cancel();
    }

    private final String from;
    private final String to;
    private final String callId;
    private final CompletableFuture<Integer> ringing;
    private final CompletableFuture<OutgoingCall> answered;
    private final Control control;

    CallAttempt(String from, String to, String callId, CompletableFuture<Integer> ringing,
            CompletableFuture<OutgoingCall> answered, Control control) {
        this.from = from;
        this.to = to;
        this.callId = callId;
        this.ringing = ringing;
        this.answered = answered;
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

    /** The INVITE's Call-ID. */
    public String callId() {
        return callId;
    }

    /**
     * Completes with the status of the first provisional response other than 100 (180 Ringing, 183 Session
     * Progress); fails as {@link #answered()} does if the call ends without one.
     */
    public CompletableFuture<Integer> ringing() {
        return ringing;
    }

    /**
     * Completes with the established call once the callee answered and the 2xx was acknowledged; fails with a
     * {@link CallRefusedException} for a final non-2xx response (404, 480, 486, 603...; the proxy's Timer C turns a
     * call ringing unanswered for 3 minutes into 408), with a {@link java.util.concurrent.CancellationException}
     * after {@link #cancel()}, or when this peer's proxy did not answer.
     */
    public CompletableFuture<OutgoingCall> answered() {
        return answered;
    }

    /**
     * Cancels the call before it is answered: a CANCEL as soon as the callee's side has sent a provisional response
     * (at once if it has), which it answers with 487 to the INVITE. A 2xx that crosses the CANCEL is acknowledged
     * and the call ended with a BYE at once.
     *
     * @return completes when the attempt is over (the INVITE's final response, or 64*T1 without one); completes at
     *         once when it was already refused; fails with {@link IllegalStateException} when it was already
     *         answered (then hang up with {@link OutgoingCall#hangup()})
     */
    public CompletableFuture<Void> cancel() {
        return control.cancel();
    }
}
