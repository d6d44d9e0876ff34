package org.p2psip.node.links;

import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.p2psip.nat.dtls.DtlsConfig;
import org.p2psip.nat.dtls.DtlsIdentity;
import org.p2psip.nat.dtls.DtlsLinkLayer;
import org.p2psip.nat.dtls.DtlsStats;
import org.p2psip.nat.ice.IceConfig;
import org.p2psip.nat.ice.IceLink;
import org.p2psip.nat.links.SecureOverlayLinks;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.OverlayObserver;
import org.p2psip.overlay.link.LinkLayer;
import org.p2psip.overlay.link.UdpLinkLayer;

/**
 * The overlay node of a superpeer and the links it runs on: with {@link LinkSecurity#DTLS} nat's
 * {@link SecureOverlayLinks} (a {@link DtlsLinkLayer} authenticated with the node key, ICE links whose Attach is routed
 * through the overlay), with {@link LinkSecurity#NONE} a plain {@link UdpLinkLayer}. Counts its open links by kind, and
 * runs the {@link Attacher} and the {@link DirectoryRelay}. A plain superpeer has one for its life ({@link #start}); a
 * site peer gets one for each overlay node it runs while elected ({@link #over}), closed when it is unseated.
 */
public final class NodeLinks implements AutoCloseable {
    /**
     * The DTLS MTU of a site peer's socket: one full DTLS record (16 KiB of data). Leaf-protocol messages up to this
     * size travel as one datagram (on the LAN, where IP fragmentation carries it); larger ones are fragmented by
     * superpeer's {@code LinkMux}; overlay frames stay at the overlay's own fragment size.
     */
    public static final int SITE_MTU = 16_384 + DtlsConfig.RECORD_OVERHEAD;

    private final LinkSecurity security;
    private final OverlayNode node;
    private final SecureOverlayLinks secure;
    private volatile Attacher attacher;
    private volatile DirectoryRelay directoryRelay;
    private volatile java.util.concurrent.ScheduledFuture<?> relayTask;
    private volatile boolean closed;
    /**
     * How often a node without a configured relay looks for one in the service directory while it has none: first
     * after this, then twice as long each time up to {@link #RELAY_CHECK_MAX_MILLIS}; once it has one, every
     * {@link #RELAY_CHECK_MAX_MILLIS} (cheap: nothing is asked until its grant runs low).
     */
    static final long RELAY_CHECK_MILLIS = 2_000;
    static final long RELAY_CHECK_MAX_MILLIS = 300_000;

    private NodeLinks(LinkSecurity security, OverlayNode node, SecureOverlayLinks secure) {
        this.security = security;
        this.node = node;
        this.secure = secure;
    }

    /**
     * Binds the link layer on {@code bind} and builds the overlay node on it with {@code nodeFactory} (which starts it,
     * with the id of {@code keys}).
     *
     * @param keys the node's Ed25519 key pair: its DTLS identity, so peers authenticate the node id as its hash
     * @param ice  where ICE links find STUN and TURN (unused with {@link LinkSecurity#NONE})
     */
    public static CompletableFuture<NodeLinks> start(LinkSecurity security, EventLoopGroup group, InetSocketAddress bind,
            KeyPair keys, int maxUdpDatagramBytes, IceConfig ice, Function<LinkLayer, OverlayNode> nodeFactory) {
        if (security == LinkSecurity.NONE) {
            return UdpLinkLayer.bind(group, bind, maxUdpDatagramBytes).thenApply(link -> {
                try {
                    return new NodeLinks(security, nodeFactory.apply(link), null);
                } catch (RuntimeException e) {
                    link.close();
                    throw e;
                }
            });
        }
        DtlsIdentity identity = DtlsIdentity.of(keys.getPrivate(), keys.getPublic());
        return SecureOverlayLinks.start(group, bind, identity, DtlsConfig.defaults(), ice, nodeFactory::apply)
                .thenApply(s -> {
                    Attacher.serveProbes(s.node());
                    return new NodeLinks(security, s.node(), s);
                });
    }

    /**
     * The same links for a site superpeer's overlay node, which runs on a view of the site peer's shared DTLS socket
     * (the leaf protocol uses it too) and lives for one term as superpeer: ICE links with Attach through that node,
     * lookups over them ({@code linkPaths}), probes answered. {@link #close()} closes the ICE links and this node's
     * attacher and relay search, and leaves the node and the socket to the site peer.
     *
     * @param layer the site peer's socket, as bound by {@link #binder}
     * @param node  its overlay node, with {@code layer}'s identity as id
     */
    public static NodeLinks over(DtlsLinkLayer layer, OverlayNode node, IceConfig ice) {
        SecureOverlayLinks s = SecureOverlayLinks.over(layer, node, ice);
        Attacher.serveProbes(node);
        return new NodeLinks(LinkSecurity.DTLS, node, s);
    }

    /**
     * A binder for a site peer's shared socket ({@code SitePeer}): a DTLS link layer authenticated with {@code keys}, or
     * plain UDP. While the peer is elected, {@link #over} adds ICE links on the DTLS layer.
     */
    public static Function<InetSocketAddress, CompletableFuture<? extends LinkLayer>> binder(LinkSecurity security,
            EventLoopGroup group, KeyPair keys, int maxUdpDatagramBytes) {
        if (security == LinkSecurity.NONE) {
            return a -> UdpLinkLayer.bind(group, a, maxUdpDatagramBytes);
        }
        DtlsIdentity identity = DtlsIdentity.of(keys.getPrivate(), keys.getPublic());
        DtlsConfig config = DtlsConfig.defaults().withMtu(SITE_MTU);
        return a -> DtlsLinkLayer.bind(group, a, identity, config);
    }

    /**
     * ICE settings of a plain superpeer: server-reflexive candidates from {@code stun} (the {@code --stun-server}, by
     * default the bootstrap's STUN server), relayed ones from {@code turn} when given; each resolved now and skipped when
     * it does not resolve; host candidates always.
     */
    public static IceConfig iceConfig(InetSocketAddress stun, LinkTurn turn) {
        IceConfig c = IceConfig.hostOnly();
        InetSocketAddress r = resolve(stun);
        if (r != null) {
            c = c.withStun(r);
        }
        InetSocketAddress t = turn == null ? null : resolve(turn.server());
        if (t != null) {
            c = c.withTurn(t, turn.user(), turn.password());
        }
        return c;
    }

    private static InetSocketAddress resolve(InetSocketAddress a) {
        if (a == null) {
            return null;
        }
        InetSocketAddress r = a.isUnresolved() ? new InetSocketAddress(a.getHostString(), a.getPort()) : a;
        return r.isUnresolved() ? null : r;
    }

    public LinkSecurity security() {
        return security;
    }

    public OverlayNode node() {
        return node;
    }

    /** The secure links (DTLS layer, ICE), or null with {@link LinkSecurity#NONE}. */
    public SecureOverlayLinks secure() {
        return secure;
    }

    /**
     * Datagrams a DTLS layer dropped as malformed: not DTLS, no session for them, records that failed, invalid
     * ClientHellos. 0 for null (plain UDP, where the overlay counts its own malformed frames).
     */
    public static long malformed(DtlsStats d) {
        return d == null ? 0 : d.get(DtlsStats.Counter.NOT_DTLS) + d.get(DtlsStats.Counter.NO_SESSION)
                + d.get(DtlsStats.Counter.RECORDS_DROPPED) + d.get(DtlsStats.Counter.CLIENT_HELLO_INVALID);
    }

    /** The DTLS layer's counters, or null with {@link LinkSecurity#NONE}. */
    public DtlsStats dtlsStats() {
        return secure == null ? null : secure.layer().stats();
    }

    /**
     * Open links by kind. DTLS: sessions established over the node's own socket are direct; ICE links count as ice, or
     * relayed when either end of the selected pair is a TURN candidate. Plain UDP: {@code overlayLinks} (the overlay's
     * link table) are all direct.
     */
    public LinkCounts counts(int overlayLinks) {
        if (secure == null) {
            return new LinkCounts(overlayLinks, 0, 0);
        }
        List<IceLink> ice = secure.ice().links();
        Set<InetSocketAddress> overPaths = new HashSet<>(secure.layer().pathPeers());
        int iceCount = 0;
        int relayed = 0;
        for (IceLink l : ice) {
            overPaths.add(l.remote());
            if (l.relayed()) {
                relayed++;
            } else {
                iceCount++;
            }
        }
        int direct = 0;
        for (InetSocketAddress a : secure.layer().establishedPeers()) {
            if (!overPaths.contains(a)) {
                direct++;
            }
        }
        return new LinkCounts(direct, iceCount, relayed);
    }

    /**
     * The observer to install on the overlay node: {@code next} (metrics), and with DTLS the {@link Attacher} that sets
     * up ICE links to contacts that do not answer directly. Its timers run on {@code group}. A later call keeps the
     * attacher and hands the overlay's events on to the new {@code next}.
     */
    public synchronized OverlayObserver observer(OverlayObserver next, EventLoopGroup group) {
        if (secure == null) {
            return next;
        }
        Attacher a = attacher;
        if (a != null) {
            a.next(next);
            return a;
        }
        a = new Attacher(secure, next, group, () -> directoryRelay);
        attacher = a;
        return a;
    }

    /**
     * With DTLS and no relay configured for the ICE links: finds one in the service directory ({@link DirectoryRelay};
     * {@code hosts} lists the registrations of namespace {@code p2p-sip}), now and every {@value #RELAY_CHECK_MILLIS}
     * ms on {@code group} until found (then before its grant runs out), and before each attach. Nothing with plain
     * UDP. Call once.
     *
     * @param relaysItself whether this node runs a TURN relay itself now (then it looks for none)
     */
    public void useDirectoryRelay(java.util.function.Supplier<CompletableFuture<List<org.p2psip.storage.api.ServiceDirectory.Registration>>> hosts,
            java.util.function.BooleanSupplier relaysItself, EventLoopGroup group) {
        if (secure == null) {
            return;
        }
        DirectoryRelay r = new DirectoryRelay(node, secure.ice(), hosts, relaysItself);
        directoryRelay = r;
        checkRelay(r, group, RELAY_CHECK_MILLIS);
    }

    private void checkRelay(DirectoryRelay r, EventLoopGroup group, long delay) {
        if (closed) {
            return;
        }
        try {
            relayTask = group.next().schedule(() -> r.ensure().thenAccept(found -> checkRelay(r, group,
                    found ? RELAY_CHECK_MAX_MILLIS : Math.min(RELAY_CHECK_MAX_MILLIS, delay * 2))),
                    delay, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the event loop is shutting down
        }
    }

    /** The relay found in the service directory, or null (none found, one configured, or not looking). */
    public DirectoryRelay directoryRelay() {
        return directoryRelay;
    }

    /** What the ICE attempts came to (zeros without DTLS or before {@link #observer}). */
    public Attacher.Stats attachStats() {
        Attacher a = attacher;
        return a == null ? new Attacher.Stats(0, 0, 0, 0, 0, 0) : a.stats();
    }

    /**
     * Closes the ICE links and stops the attacher and the relay search; then the overlay node and the link layer, unless
     * made by {@link #over} (the site peer owns those).
     */
    @Override
    public void close() {
        Attacher a = attacher;
        if (a != null) {
            a.close();
        }
        closed = true;
        java.util.concurrent.ScheduledFuture<?> t = relayTask;
        if (t != null) {
            t.cancel(false);
        }
        if (secure != null) {
            secure.close();
        } else {
            node.close();
        }
    }
}
