package org.p2psip.sip.overlay;

import java.util.concurrent.CompletableFuture;
import org.p2psip.overlay.NodeId;

/**
 * What the SIP adapter needs from the overlay to carry SIP to peers that have no direct path from here (a peer
 * behind another site's NAT): where this peer is, and routed datagrams to and from other peers' overlay nodes. The
 * node implements it on its overlay node (routed requests, {@code OverlayNode.route}/{@code handle}); with site mode,
 * a leaf's requests go through its superpeer.
 */
public interface SipOverlay {
    /** Where this peer is now (it changes with NAT discovery, role changes and a leaf's failover). */
    SipLocation location();

    /**
     * Routes one datagram to the overlay node {@code target}; completes when that node accepted it, fails when there
     * is no route (or this peer runs no overlay node now).
     */
    CompletableFuture<Void> send(NodeId target, byte[] datagram);

    /** Sets who receives the datagrams routed to this peer (called once, at start). */
    void receiver(Receiver receiver);

    /** Receives a routed datagram; called on an overlay thread, must not block. */
    @FunctionalInterface
    interface Receiver {
        void onDatagram(NodeId origin, byte[] datagram);
    }
}
