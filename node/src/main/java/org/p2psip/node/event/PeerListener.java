package org.p2psip.node.event;

/**
 * Receives a peer's {@link PeerEvent}s, one at a time and in order, on the peer's event thread (not a network
 * thread): it may take a moment, but should not block for long, or later events wait.
 */
@FunctionalInterface
public interface PeerListener {
    void onEvent(PeerEvent event);
}
