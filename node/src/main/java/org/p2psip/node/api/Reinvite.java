package org.p2psip.node.api;

import java.util.concurrent.CompletableFuture;

/**
 * A re-INVITE the other side of an established {@link Call} sent (RFC 3261 §14.2): its offer, which the application
 * accepts with its answer (200 OK, retransmitted until the ACK) or rejects (e.g. 488 Not Acceptable Here); the call
 * goes on either way. Only the first accept or reject counts. Methods are safe from any thread.
 */
public final class Reinvite {
    /** How the answer goes out; implemented by the dialog. */
    interface Control {
        CompletableFuture<Void> accept(SessionDescription answer);

        void reject(int status, String reason);
    }

    private final Call call;
    private final SessionDescription offer;
    private final Control control;

    Reinvite(Call call, SessionDescription offer, Control control) {
        this.call = call;
        this.offer = offer;
        this.control = control;
    }

    /** The call this re-INVITE belongs to. */
    public Call call() {
        return call;
    }

    /** The new offer (empty for an offerless re-INVITE: then the 2xx carries an offer and the ACK the answer). */
    public SessionDescription offer() {
        return offer;
    }

    /**
     * Accepts with 200 OK carrying {@code body}.
     *
     * @return completes at the ACK; fails when none came within 64*T1 (the call is then ended with a BYE) or when
     *         this re-INVITE was already answered
     * @throws IllegalArgumentException for a body without a content type
     */
    public CompletableFuture<Void> accept(String contentType, String body) {
        return control.accept(new SessionDescription(contentType, body));
    }

    /**
     * Refuses the new session with a final status of 300 to 699 (488 Not Acceptable Here, 491 Request Pending...);
     * the call keeps its current session.
     *
     * @throws IllegalArgumentException for a status outside 300..699
     */
    public void reject(int status, String reason) {
        if (status < 300 || status > 699) {
            throw new IllegalArgumentException("a re-INVITE is rejected with a status of 300 to 699, not " + status);
        }
        control.reject(status, reason);
    }
}
