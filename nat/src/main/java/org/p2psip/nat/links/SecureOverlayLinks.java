package org.p2psip.nat.links;

import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import org.p2psip.nat.dtls.DtlsConfig;
import org.p2psip.nat.dtls.DtlsIdentity;
import org.p2psip.nat.dtls.DtlsLinkLayer;
import org.p2psip.nat.ice.IceConfig;
import org.p2psip.nat.ice.IceLink;
import org.p2psip.nat.ice.IceLinks;
import org.p2psip.nat.ice.OverlaySignaling;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An overlay node whose links are secure and can cross NATs, turned on with one call: a {@link DtlsLinkLayer} (every
 * link authenticated with the node key), the {@link OverlayNode} on it, and {@link IceLinks} whose Attach travels
 * through the overlay itself ({@link OverlaySignaling}). {@link #connect} gives a link to a superpeer this node cannot
 * reach directly, over which the overlay then talks to it: every request of the overlay to that node id goes over the
 * link once its DTLS session authenticated the node ({@link OverlayNode#linkPaths}).
 *
 * <pre>
 *   SecureOverlayLinks s = SecureOverlayLinks.start(group, bind, identity, DtlsConfig.defaults(), iceConfig,
 *           layer -> new OverlayNode(identity.id(), layer, overlayConfig, store, codec, random).start()).get();
 *   s.node().join(bootstrap).get();
 *   s.connect(peerBehindANat).get();     // Attach routed through the overlay, ICE, DTLS, then a ping over the link
 * </pre>
 */
public final class SecureOverlayLinks implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SecureOverlayLinks.class);
    /** Pings over a new link before giving up: the first also opens the DTLS session, slow in a cold JVM. */
    private static final int PING_ATTEMPTS = 4;

    private final DtlsLinkLayer layer;
    private final OverlayNode node;
    private final OverlaySignaling signaling;
    private final IceLinks ice;
    /** Whether {@link #close()} closes the node and the layer too (built by {@link #start}, not {@link #over}). */
    private final boolean owned;

    private SecureOverlayLinks(DtlsLinkLayer layer, OverlayNode node, OverlaySignaling signaling, IceLinks ice,
            boolean owned) {
        this.owned = owned;
        this.layer = layer;
        this.node = node;
        this.signaling = signaling;
        this.ice = ice;
    }

    /**
     * Binds the DTLS link layer on {@code bind}, makes the overlay node on it with {@code nodeFactory} (which must start
     * it, and give it {@code identity}'s id), and serves Attach requests routed to it.
     *
     * @param ice where ICE finds STUN and TURN (a public superpeer's), and its timeouts; the signaling timeout is
     *            also how long an Attach may take through the overlay
     */
    public static CompletableFuture<SecureOverlayLinks> start(EventLoopGroup group, InetSocketAddress bind,
            DtlsIdentity identity, DtlsConfig dtls, IceConfig ice, Function<DtlsLinkLayer, OverlayNode> nodeFactory) {
        return DtlsLinkLayer.bind(group, bind, identity, dtls).thenApply(layer -> {
            try {
                OverlayNode node = nodeFactory.apply(layer);
                if (!node.id().equals(identity.id())) {
                    node.close();
                    throw new IllegalArgumentException("the overlay node's id " + node.id().shortHex()
                            + " is not the DTLS identity's " + identity.id().shortHex() + "; build it with identity.id()");
                }
                return wire(layer, node, ice, true);
            } catch (RuntimeException e) {
                layer.close();
                throw e;
            }
        });
    }

    /**
     * The same links for an overlay node that runs over a DTLS layer it does not own: a site superpeer's node, which
     * shares the peer's socket with the leaf protocol ({@code node}'s link layer is a view of {@code layer}) and comes
     * and goes with elections while the socket stays. {@link #close()} then closes the ICE links and stops serving
     * Attach, and leaves the node and the layer open.
     *
     * @throws IllegalArgumentException when the node's id is not the id {@code layer} authenticates as
     */
    public static SecureOverlayLinks over(DtlsLinkLayer layer, OverlayNode node, IceConfig ice) {
        if (!node.id().equals(layer.identity().id())) {
            throw new IllegalArgumentException("the overlay node's id " + node.id().shortHex()
                    + " is not the DTLS identity's " + layer.identity().id().shortHex());
        }
        return wire(layer, node, ice, false);
    }

    private static SecureOverlayLinks wire(DtlsLinkLayer layer, OverlayNode node, IceConfig ice, boolean owned) {
        OverlaySignaling signaling = new OverlaySignaling(node, Math.min(60_000, ice.signalingTimeout().toMillis()));
        IceLinks links = new IceLinks(node.id(), layer, signaling, ice);
        // a closed ICE link leaves no routing entry behind: routes to that peer go through the overlay again
        links.onClosed(l -> node.linkClosed(l.remote()));
        // lookups reach a linked peer over its link, not at the address other nodes report (its NAT's)
        node.linkPaths(links::pathTo);
        LOG.info("node {}: secure links on {} (DTLS, ICE with Attach through the overlay)", node.id().shortHex(),
                layer.localAddress());
        return new SecureOverlayLinks(layer, node, signaling, links, owned);
    }

    public OverlayNode node() {
        return node;
    }

    public DtlsLinkLayer layer() {
        return layer;
    }

    public IceLinks ice() {
        return ice;
    }

    public OverlaySignaling signaling() {
        return signaling;
    }

    /**
     * Sets up a link to {@code peer} that the overlay uses: an Attach routed through the overlay to the peer's id, ICE
     * checks, the selected pair as the peer's DTLS path, then a ping over it, so the peer is in the routing table at
     * {@link IceLink#remote()}. Completes once the peer answered over the link and its DTLS session authenticated
     * exactly {@code peer}; fails (and closes the link) otherwise.
     */
    public CompletableFuture<IceLink> connect(NodeId peer) {
        return ice.connect(peer).thenCompose(link -> ping(link, 1).handle((ok, e) -> {
            if (e == null && link.authenticated()) {
                return link;
            }
            link.close();
            Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            throw new CompletionException(new IOException(e != null
                    ? "the ICE link to " + peer.shortHex() + " carried no overlay answer: " + c.getMessage()
                    : "the DTLS session over the ICE link did not authenticate " + peer.shortHex(), c));
        }));
    }

    private CompletableFuture<Void> ping(IceLink link, int attempt) {
        return node.ping(link.remote()).handle((c, e) -> {
            if (e == null) {
                if (!c.id().equals(link.peer())) {
                    throw new CompletionException(new IOException("node " + c.id().shortHex() + " answered over the link to "
                            + link.peer().shortHex()));
                }
                return CompletableFuture.<Void>completedFuture(null);
            }
            if (attempt >= PING_ATTEMPTS) {
                return CompletableFuture.<Void>failedFuture(e);
            }
            LOG.debug("ping {} over {} unanswered (attempt {}), trying again", link.peer().shortHex(), link, attempt);
            return ping(link, attempt + 1);
        }).thenCompose(f -> f);
    }

    /**
     * Closes the ICE links and stops serving Attach; then, when built by {@link #start}, the overlay node and the link
     * layer (one built by {@link #over} leaves both open and its node sends to linked peers at their addresses again).
     */
    @Override
    public void close() {
        ice.close();
        signaling.close();
        if (owned) {
            node.close();
            layer.close();
        } else {
            node.linkPaths(x -> null);
        }
    }
}
