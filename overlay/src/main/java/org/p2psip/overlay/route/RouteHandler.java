package org.p2psip.overlay.route;

import java.util.concurrent.CompletableFuture;
import org.p2psip.overlay.Bytes;

/**
 * Answers routed requests of one application id at their destination. Called on the node's thread: it must not
 * block; slow work completes the returned future later, from any thread. A failed future, or an answer larger than
 * {@link org.p2psip.overlay.wire.WireCodec#MAX_ROUTED_PAYLOAD_BYTES}, reaches the origin as a refusal with the reason.
 */
@FunctionalInterface
public interface RouteHandler {
    CompletableFuture<Bytes> onRequest(RoutedRequest request);
}
