package org.p2psip.node.api;

/**
 * Receives the requests addressed to AORs registered through {@link P2pSip#register} ({@link P2pSip#onIncoming}),
 * on the API's event thread, one at a time: do not block in it.
 */
public interface IncomingListener {
    /** A MESSAGE: returning answers 200; throwing answers 500. */
    void onMessage(IncomingMessage message);

    /**
     * An INVITE: answer with {@link IncomingCall#answer}, or {@link IncomingCall#reject}, now or later. The default
     * declines (603).
     */
    default void onCall(IncomingCall call) {
        call.reject(603, "Decline");
    }
}
