package org.p2psip.node.api;

/**
 * A call the application placed with {@link P2pSip#call} or {@link P2pSip#dial} that the callee answered: the 2xx
 * was acknowledged (ACK along the dialog's route set, again for each retransmission of the 2xx). It may be
 * re-INVITEd either way ({@link #reinvite}, {@link #onReinvite}) and ends with {@link #hangup} or the callee's BYE
 * ({@link #ended()}).
 */
public final class OutgoingCall extends Call {
    private final SessionDescription answer;

    OutgoingCall(String from, String to, String callId, SessionDescription answer, Call.Control control) {
        super(from, to, callId, control);
        this.answer = answer;
    }

    /** The answer's content type ({@code application/sdp}), or null when the 2xx had no body. */
    public String answerType() {
        return answer.contentType();
    }

    /** The callee's session description (the 2xx body as text), empty when it had none. */
    public String answer() {
        return answer.body();
    }
}
