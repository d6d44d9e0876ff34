package org.p2psip.nat.ice;

import java.net.InetSocketAddress;
import org.ice4j.ice.Agent;
import org.p2psip.nat.dtls.DtlsLinkLayer;
import org.p2psip.overlay.NodeId;

/**
 * An overlay link set up by ICE: the peer is reached at {@link #remote()} through the {@link DtlsLinkLayer}, whose
 * records for that address travel over the selected candidate pair. The DTLS session on it authenticates the peer;
 * {@link #authenticated()} tells whether it proved to be {@link #peer()}.
 */
public final class IceLink implements AutoCloseable {
    private final NodeId peer;
    private final boolean controlling;
    private final IceCandidate.Type localType;
    private final IceCandidate.Type remoteType;
    private final InetSocketAddress localAddress;
    private final InetSocketAddress remote;
    private final long setupMillis;
    private final IcePhases phases;
    private final Agent agent;
    private final IcePath path;
    private final DtlsLinkLayer layer;
    private final java.util.function.Consumer<IceLink> onClose;
    /** Frees what the setup holds besides the agent (a port mapping). */
    private final Runnable release;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    IceLink(NodeId peer, boolean controlling, IceCandidate.Type localType, IceCandidate.Type remoteType,
            InetSocketAddress localAddress, long setupMillis, IcePhases phases, Agent agent, IcePath path,
            DtlsLinkLayer layer, Runnable release, java.util.function.Consumer<IceLink> onClose) {
        this.release = release;
        this.peer = peer;
        this.controlling = controlling;
        this.localType = localType;
        this.remoteType = remoteType;
        this.localAddress = localAddress;
        this.remote = path.remote();
        this.setupMillis = setupMillis;
        this.phases = phases;
        this.agent = agent;
        this.path = path;
        this.layer = layer;
        this.onClose = onClose;
    }

    /** The node this link was set up with (as signaling claimed it; see {@link #authenticated()}). */
    public NodeId peer() {
        return peer;
    }

    /** The address the overlay sends to for this peer: the selected pair's remote candidate. */
    public InetSocketAddress remote() {
        return remote;
    }

    /** The selected pair's local candidate address (for a relayed one, the address on the TURN server). */
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    public IceCandidate.Type localType() {
        return localType;
    }

    public IceCandidate.Type remoteType() {
        return remoteType;
    }

    /** True when either end of the selected pair is a TURN relayed candidate. */
    public boolean relayed() {
        return localType == IceCandidate.Type.RELAYED || remoteType == IceCandidate.Type.RELAYED;
    }

    /** Whether this side was the controlling agent (the one that sent the Attach request). */
    public boolean controlling() {
        return controlling;
    }

    /** From the start of the Attach (requester) or the arrival of the request (target) to ICE completion. */
    public long setupMillis() {
        return setupMillis;
    }

    /** When the steps of this link's setup ended (Attach, gathering, first valid pair, completion). */
    public IcePhases phases() {
        return phases;
    }

    /** True once the DTLS session over this link authenticated exactly {@link #peer()}. */
    public boolean authenticated() {
        return layer.authenticatedId(remote).map(peer::equals).orElse(false);
    }

    /** Datagrams this link's path handed to the link layer. */
    public long datagramsReceived() {
        return path.received();
    }

    /**
     * Ends the link: the DTLS session over it, the path and the ICE agent (its sockets and TURN allocation), and a
     * port mapping made for it. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        path.close();
        layer.detachPath(path);
        // ice4j's shutdown of the agent (threads, sockets, TURN refresh with lifetime 0) runs on its own thread:
        // closing a link must not wait for it (see IceLinks.freeAgent)
        Thread free = new Thread(() -> {
            IceLinks.freeAgent(agent);
            release.run();
        }, "ice-free-" + peer.shortHex());
        free.setDaemon(true);
        free.start();
        onClose.accept(this);
    }

    @Override
    public String toString() {
        return "IceLink[" + peer.shortHex() + " " + localType.sdpName() + " " + localAddress + " -> "
                + remoteType.sdpName() + " " + remote + (relayed() ? " relayed" : " direct") + ", " + setupMillis + " ms]";
    }
}
