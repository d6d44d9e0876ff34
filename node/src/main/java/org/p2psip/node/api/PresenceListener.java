package org.p2psip.node.api;

/**
 * Receives the presence notifications of one subscription ({@link P2pSip#subscribePresence}), in order, on the
 * API's event thread: do not block in it.
 */
@FunctionalInterface
public interface PresenceListener {
    /** A NOTIFY arrived: the presentity's status now. */
    void onPresence(PresenceState state);
}
