package org.p2psip.sip.overlay;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.route.RouteMode;

/**
 * {@link SipOverlay} on the overlay's routed requests: each datagram is one {@code route(target, "sip", payload)}
 * (hop by hop over existing links, so through NATs), answered with an empty acknowledgement by the target's handler.
 * The overlay node may change (a site peer gets a new one each time it is elected): the handler is installed on every
 * node this sees.
 */
public final class RoutedSipOverlay implements SipOverlay {
    /** The application id of SIP datagrams on the overlay. */
    public static final String APP_ID = "sip";
    /** How long one datagram may take to be routed and acknowledged (SIP retransmits meanwhile). */
    static final long ROUTE_TIMEOUT_MILLIS = 4_000;

    private final Supplier<OverlayNode> node;
    private final Supplier<SipLocation> location;
    private volatile Receiver receiver;
    private volatile OverlayNode installed;
    private final AtomicLong noNode = new AtomicLong();

    /**
     * @param node     the overlay node serving now, or null (a leaf: it has none)
     * @param location where this peer is now
     */
    public RoutedSipOverlay(Supplier<OverlayNode> node, Supplier<SipLocation> location) {
        this.node = node;
        this.location = location;
    }

    @Override
    public SipLocation location() {
        install();
        return location.get();
    }

    @Override
    public CompletableFuture<Void> send(NodeId target, byte[] datagram) {
        OverlayNode n = install();
        if (n == null) {
            noNode.incrementAndGet();
            return CompletableFuture.failedFuture(new IllegalStateException(
                    "this peer runs no overlay node now (a leaf sends through its superpeer)"));
        }
        return n.route(target, APP_ID, Bytes.wrap(datagram), RouteMode.EXACT, ROUTE_TIMEOUT_MILLIS)
                .thenApply(a -> null);
    }

    @Override
    public void receiver(Receiver r) {
        this.receiver = r;
        install();
    }

    /** Installs the SIP handler on the current overlay node if it is new; returns that node (or null). */
    public OverlayNode install() {
        OverlayNode n = node.get();
        if (n != null && n != installed && receiver != null) {
            synchronized (this) {
                if (n != installed) {
                    n.handle(APP_ID, req -> {
                        Receiver r = receiver;
                        if (r != null) {
                            r.onDatagram(req.origin(), req.payload().toArray());
                        }
                        return CompletableFuture.completedFuture(Bytes.EMPTY);
                    });
                    installed = n;
                }
            }
        }
        return n;
    }
}
