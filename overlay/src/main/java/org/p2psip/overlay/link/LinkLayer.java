package org.p2psip.overlay.link;

import java.net.InetSocketAddress;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.runtime.Scheduler;

/**
 * Carries datagrams between this node and its peers. This module provides the direct UDP link layer
 * and a simulated one; the NAT module adds ICE, DTLS and relayed links behind the same interface. The
 * overlay bounds the number of peers it keeps links to ({@link LinkTable}).
 */
public interface LinkLayer extends AutoCloseable {
    /** The address peers reach this node at (its bound address for a direct UDP link layer). */
    InetSocketAddress localAddress();

    /** The scheduler that receive callbacks run on; the node's state lives there too. */
    Scheduler scheduler();

    /** Sets the single receiver of inbound datagrams, called on {@link #scheduler()}'s thread. */
    void setReceiver(Receiver receiver);

    /** Sends one datagram. Fire and forget: losses are handled by the RPC layer's retries. */
    void send(InetSocketAddress to, byte[] datagram);

    /** Largest datagram this layer sends without fragmentation by the overlay. */
    int maxDatagramBytes();

    /**
     * Whether a frame that arrived from {@code from} may carry {@code sender} as its overlay sender id. The node
     * asks this for every decoded frame, on {@link #scheduler()}'s thread, and drops the frame when the answer is
     * no. A layer that authenticates its peers (DTLS with node keys) answers no when {@code sender} differs from
     * the id it authenticated for {@code from}, and may close that link; a plain layer accepts any id.
     */
    default boolean acceptSender(InetSocketAddress from, NodeId sender) {
        return true;
    }

    @Override
    void close();

    /** Receives datagrams. Implementations must not block. */
    @FunctionalInterface
    interface Receiver {
        void onDatagram(InetSocketAddress from, byte[] datagram, int length);
    }
}
