package org.p2psip.nat.ice;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Carries Attach messages between two nodes over a channel that already works. In the overlay this is an RPC routed
 * over existing links to the target's id (as RELOAD routes Attach); {@link RelaySignaling} carries them through a
 * rendezvous relay. Signaling is not trusted: the DTLS handshake on the resulting link authenticates the peer.
 *
 * <p>A signaling that can also carry {@link AttachMessage.Candidates} one way ({@link #supportsTrickle()}) lets
 * {@link IceLinks} send the Attach with its host candidates at once and trickle the others (server-reflexive,
 * relayed) as they are found, instead of waiting for a STUN round trip and a TURN allocation first.
 */
public interface Signaling extends AutoCloseable {
    /** Sends {@code request} to {@code request.to()}; completes with its answer or refusal, or fails. */
    CompletableFuture<AttachMessage> attach(AttachMessage.Request request);

    /** Sets the one handler of Attach requests addressed to this node. */
    void serve(Handler handler);

    /** Whether {@link #trickle} reaches the peer. Without it, ICE gathers all candidates before each message. */
    default boolean supportsTrickle() {
        return false;
    }

    /** Sends trickled candidates to {@code candidates.to()}, best effort (no answer, no retransmission). */
    default void trickle(AttachMessage.Candidates candidates) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot trickle candidates");
    }

    /** Sets the one listener of trickled candidates addressed to this node. */
    default void onCandidates(Consumer<AttachMessage.Candidates> listener) {
        // a signaling that cannot trickle never delivers any
    }

    @Override
    void close();

    /** Answers an Attach request: with an {@link AttachMessage.Answer} or an {@link AttachMessage.Refused}. */
    @FunctionalInterface
    interface Handler {
        CompletableFuture<AttachMessage> onRequest(AttachMessage.Request request);
    }
}
