package org.p2psip.nat.ice;

import java.util.concurrent.CompletableFuture;

/**
 * Carries Attach messages between two nodes over a channel that already works. In the overlay this is an RPC routed
 * over existing links to the target's id (as RELOAD routes Attach); {@link RelaySignaling} carries them through a
 * rendezvous relay. Signaling is not trusted: the DTLS handshake on the resulting link authenticates the peer.
 */
public interface Signaling extends AutoCloseable {
    /** Sends {@code request} to {@code request.to()}; completes with its answer or refusal, or fails. */
    CompletableFuture<AttachMessage> attach(AttachMessage.Request request);

    /** Sets the one handler of Attach requests addressed to this node. */
    void serve(Handler handler);

    @Override
    void close();

    /** Answers an Attach request: with an {@link AttachMessage.Answer} or an {@link AttachMessage.Refused}. */
    @FunctionalInterface
    interface Handler {
        CompletableFuture<AttachMessage> onRequest(AttachMessage.Request request);
    }
}
