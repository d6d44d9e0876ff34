package org.p2psip.superpeer;

import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.ValueEvent;
import org.p2psip.overlay.link.LinkLayer;
import org.p2psip.overlay.link.UdpLinkLayer;
import org.p2psip.overlay.runtime.Scheduler;
import org.p2psip.overlay.store.LocalStore;
import org.p2psip.overlay.store.StoragePolicy;
import org.p2psip.overlay.store.ValueStore;
import org.p2psip.overlay.wire.WireCodec;
import org.p2psip.superpeer.discovery.Ed25519Keys;
import org.p2psip.superpeer.discovery.LanDiscovery;
import org.p2psip.superpeer.discovery.NatInfo;
import org.p2psip.superpeer.discovery.PeerTable;
import org.p2psip.superpeer.discovery.Role;
import org.p2psip.superpeer.leaf.LeafDht;
import org.p2psip.superpeer.leaf.LeafService;
import org.p2psip.superpeer.leaf.LinkMux;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A peer of a self-organizing site with the {@link Dht} API whatever its role. It owns one UDP socket (the overlay
 * address it announces), shared by the overlay and the leaf protocol through a {@link LinkMux}, and a
 * {@link SiteNode} for discovery and election. As a leaf (and while the election warms up) its calls go through a
 * {@link LeafDht} to the site's superpeers; when elected it starts an {@link OverlayNode}, joins the overlay through
 * the bootstrap nodes and serves leaves with a {@link LeafService}; when unseated or stopped it hands its leaves to
 * the backup superpeer and its records to the next responsible overlay nodes.
 *
 * <p>Listens follow the role they were made in: a listen made as a leaf ends if the peer becomes a superpeer
 * (callers listening for long should listen again after {@link #role()} changes).
 */
public final class SitePeer implements Dht, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SitePeer.class);

    /** Everything a site peer needs besides its key and addresses. */
    public record Config(SiteNode.Config site, List<InetSocketAddress> bootstrap, OverlayConfig overlay,
                         LeafService.Config leafService, LeafDht.Config leaf) {
        public Config {
            bootstrap = List.copyOf(bootstrap);
        }
    }

    /**
     * Role and link changes of a site peer, for an embedding program. Called on the peer's threads: be quick and
     * do not block.
     */
    public interface Listener {
        /** The role the peer acts in changed (SUPERPEER once its overlay node runs). */
        default void roleChanged(Role from, Role to) { }

        /** As a leaf: the attached primary and standby superpeers changed (each null when none). */
        default void superpeerLinks(LeafDht.SuperpeerRef primary, LeafDht.SuperpeerRef standby) { }

        /** As a superpeer: the attached leaves (primary and standby links) changed. */
        default void leafLinks(List<LeafService.LeafInfo> leaves) { }

        /**
         * Elected: {@code node} was made on {@link #link()}'s overlay side and started, and joins next. The program may
         * add to it here (handlers, an observer, links to other sites' superpeers) before any answer of its join.
         */
        default void overlayStarted(OverlayNode node) { }

        /** Unseated or stopped: {@code node} handed its records over (when it could) and is closed. */
        default void overlayStopped(OverlayNode node) { }
    }

    private final Ed25519Keys keys;
    private final Config config;
    private final Supplier<LocalStore> stores;
    private final Listener listener;
    private final WireCodec codec;
    private final LinkMux mux;
    private final Scheduler scheduler;
    private final Random random = new Random();
    private volatile SiteNode site;
    private volatile OverlayNode overlay;
    private volatile LeafService service;
    private volatile LeafDht leaf;
    /**
     * A promoted peer's leaf client: it carries the peer's calls until the new overlay node has joined (an overlay
     * node with an empty routing table finds nothing), then closes once its calls in flight are answered.
     */
    private volatile LeafDht draining;
    private volatile Role acting = Role.CANDIDATE;
    private volatile boolean closed;
    private volatile NatInfo nat = NatInfo.UNKNOWN;

    private SitePeer(Ed25519Keys keys, Config config, Supplier<LocalStore> stores, WireCodec codec, LinkLayer link,
                     Listener listener) {
        this.keys = keys;
        this.config = config;
        this.stores = stores;
        this.listener = listener;
        this.codec = codec;
        this.mux = new LinkMux(link);
        this.scheduler = link.scheduler();
    }

    /** The link layer of the peer's one socket (plain UDP, or the DTLS layer the node bound), for its counters. */
    public org.p2psip.overlay.link.LinkLayer link() {
        return mux.link();
    }

    /**
     * Binds the peer's socket at {@code bind}, starts its leaf client and its site node.
     *
     * @param links     the group of the peer's UDP socket ({@link UdpLinkLayer#newEventLoopGroup}: epoll or NIO)
     * @param lan       the (NIO) group {@link LanDiscovery} and {@link SiteNode} run on
     * @param self      what the peer announces, given the address its socket is bound to
     * @param discovery where and to whom announcements go
     */
    public static SitePeer start(EventLoopGroup links, EventLoopGroup lan, Ed25519Keys keys, InetSocketAddress bind,
                                 Function<InetSocketAddress, SiteNode.SelfInfo> self, LanDiscovery.Config discovery,
                                 Config config, Supplier<StoragePolicy> policy, WireCodec codec)
            throws InterruptedException {
        OverlayConfig o = config.overlay();
        return start(links, lan, keys, bind, self, discovery, config, () -> new ValueStore(policy.get(), o.storeMaxBytes(),
                o.storeMaxBytesPerSource(), o.maxValuesPerKey(), o.maxTtlMillis()), codec, new Listener() { });
    }

    /**
     * As {@link #start(EventLoopGroup, EventLoopGroup, Ed25519Keys, InetSocketAddress, Function, LanDiscovery.Config,
     * Config, Supplier, WireCodec)}, with the store each overlay node keeps its share of the DHT in (a persistent one
     * may be handed out again: a node hands its records over before it closes, and the store is not closed with it),
     * and a listener for role and link changes. {@code self} is asked again at every announcement, so what it
     * returns may change (e.g. the NAT behaviour once discovered).
     */
    public static SitePeer start(EventLoopGroup links, EventLoopGroup lan, Ed25519Keys keys, InetSocketAddress bind,
                                 Function<InetSocketAddress, SiteNode.SelfInfo> self, LanDiscovery.Config discovery,
                                 Config config, Supplier<LocalStore> stores, WireCodec codec, Listener listener)
            throws InterruptedException {
        return start(links, lan, keys, bind, self, discovery, config, stores, codec, listener,
                a -> UdpLinkLayer.bind(links, a, config.overlay().maxDatagramBytes()));
    }

    /**
     * As the method above, with the peer's shared socket bound by {@code binder} instead of as plain UDP: e.g. nat's
     * {@code DtlsLinkLayer}, so the overlay and the leaf protocol run over DTLS sessions authenticated with node keys.
     */
    public static SitePeer start(EventLoopGroup links, EventLoopGroup lan, Ed25519Keys keys, InetSocketAddress bind,
                                 Function<InetSocketAddress, SiteNode.SelfInfo> self, LanDiscovery.Config discovery,
                                 Config config, Supplier<LocalStore> stores, WireCodec codec, Listener listener,
                                 Function<InetSocketAddress, CompletableFuture<? extends LinkLayer>> binder)
            throws InterruptedException {
        LinkLayer link;
        try {
            link = binder.apply(bind).get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot bind the site peer's socket at " + bind + ": " + e.getMessage(), e);
        }
        SitePeer p = new SitePeer(keys, config, stores, codec, link, listener);
        InetSocketAddress local = link.localAddress();
        SiteNode.SelfInfo first = self.apply(local);
        p.nat = first.nat();
        p.leaf = p.newLeaf();
        try {
            p.site = SiteNode.start(lan, keys, config.site(), () -> {
                SiteNode.SelfInfo i = self.apply(local);
                p.nat = i.nat();
                return i;
            }, discovery, null, (from, to) -> p.scheduler.execute(() -> p.onRole(to)));
        } catch (RuntimeException | InterruptedException e) {
            p.leaf.close();
            p.mux.close();
            throw e;
        }
        // a peer that never stands for election starts as LEAF, with no transition to report it
        Role initial = p.site.role();
        if (initial != Role.CANDIDATE) {
            p.scheduler.execute(() -> p.onRole(initial));
        }
        return p;
    }

    private LeafDht newLeaf() {
        return new LeafDht(keys, mux.leafSide(), this::superpeerRefs, config.leaf())
                .onLinks(listener::superpeerLinks).start();
    }

    /** The site's superpeers that announce themselves as such, best first, with the address they announce. */
    private List<LeafDht.SuperpeerRef> superpeerRefs() {
        SiteNode s = site;
        if (s == null) {
            return List.of();
        }
        List<LeafDht.SuperpeerRef> out = new ArrayList<>();
        for (NodeId id : s.superpeers()) {
            PeerTable.Entry e = s.discovery().table().get(id);
            if (e != null && e.announcement().role() == Role.SUPERPEER && !e.announcement().overlayAddresses().isEmpty()) {
                out.add(new LeafDht.SuperpeerRef(id, e.announcement().overlayAddresses().get(0)));
            }
        }
        return out;
    }

    /** Where this superpeer's leaves go when it stops: the other superpeer of the site, if any. */
    private InetSocketAddress backup() {
        for (LeafDht.SuperpeerRef r : superpeerRefs()) {
            if (!r.id().equals(keys.id())) {
                return r.address();
            }
        }
        return null;
    }

    private void onRole(Role to) {
        if (closed || to == acting) {
            return;
        }
        if (to == Role.SUPERPEER) {
            becomeSuperpeer();
        } else if (to == Role.LEAF && acting == Role.SUPERPEER) {
            becomeLeaf();
        }
        Role from = acting;
        acting = to;
        try {
            listener.roleChanged(from, to);
        } catch (RuntimeException e) {
            LOG.warn("{}: a role listener threw {}", keys.id().shortHex(), e.toString(), e);
        }
    }

    private void becomeSuperpeer() {
        long t0 = System.nanoTime();
        OverlayNode n = new OverlayNode(keys.id(), mux.overlay(), config.overlay(), stores.get(), codec,
                new Random(random.nextLong())).start();
        try {
            listener.overlayStarted(n);
        } catch (RuntimeException e) {
            LOG.warn("{}: an overlay listener threw {}", keys.id().shortHex(), e.toString(), e);
        }
        List<InetSocketAddress> boot = new ArrayList<>(config.bootstrap());
        // the site's sitting superpeers too: a site with no (reachable) bootstrap node still forms one overlay
        for (LeafDht.SuperpeerRef r : superpeerRefs()) {
            if (!r.id().equals(keys.id()) && !boot.contains(r.address())) {
                boot.add(r.address());
            }
        }
        boot.remove(mux.link().localAddress());
        overlay = n;
        join(n, boot, t0);
        service = new LeafService(keys, mux.superpeerSide(), n, config.leafService(), this::backup)
                .onLeaves(listener::leafLinks).start();
        draining = leaf;
        leaf = null;
    }

    /** The overlay node joined: the leaf client it took over from is no longer needed once idle. */
    private void retireDraining() {
        LeafDht d = draining;
        draining = null;
        if (d != null) {
            d.closeWhenIdle(config.leaf().callTimeoutMillis()); // no call of it waits longer
        }
    }

    /** Joins through the bootstrap nodes, and again every second while it fails and this node is still seated. */
    private void join(OverlayNode n, List<InetSocketAddress> boot, long t0) {
        n.join(boot).whenComplete((x, e) -> {
            if (e == null) {
                LOG.info("{}: superpeer joined the overlay in {} ms ({} neighbours)", keys.id().shortHex(),
                        (System.nanoTime() - t0) / 1_000_000, x);
                if (overlay == n) {
                    retireDraining();
                }
            } else if (!closed && overlay == n) {
                LOG.warn("{}: joining the overlay through {} failed: {}; retrying in 1 s", keys.id().shortHex(), boot,
                        e.getMessage());
                scheduler.schedule(() -> {
                    if (!closed && overlay == n) {
                        join(n, boot, t0);
                    }
                }, 1_000);
            }
        });
    }

    private void becomeLeaf() {
        LeafService s = service;
        OverlayNode n = overlay;
        service = null;
        overlay = null;
        LeafDht d = draining; // it still holds the leaf side of the socket, which the new leaf client takes
        draining = null;
        if (d != null) {
            d.close();
        }
        leaf = newLeaf();
        if (s != null) {
            s.handOff().whenComplete((x, e) -> scheduler.execute(s::close));
        }
        if (n != null) {
            n.handOverAll().whenComplete((x, e) -> scheduler.execute(() -> closeOverlay(n)));
        }
    }

    private void closeOverlay(OverlayNode n) {
        n.close();
        try {
            listener.overlayStopped(n);
        } catch (RuntimeException e) {
            LOG.warn("{}: an overlay listener threw {}", keys.id().shortHex(), e.toString(), e);
        }
    }

    private Dht active() {
        OverlayNode n = overlay;
        if (n != null) {
            LeafDht d = draining;
            return d != null && !n.isJoined() ? d : n;
        }
        LeafDht l = leaf;
        if (l != null) {
            return l;
        }
        throw new IllegalStateException("site peer " + keys.id().shortHex() + " is stopped");
    }

    public NodeId id() {
        return keys.id();
    }

    /** The role the peer acts in now (SUPERPEER once its overlay node runs). */
    public Role role() {
        return acting;
    }

    public SiteNode site() {
        return site;
    }

    /** The overlay node while superpeer, else null. */
    public OverlayNode overlayNode() {
        return overlay;
    }

    /** The leaf service while superpeer, else null. */
    public LeafService leafService() {
        return service;
    }

    /** The leaf client while not superpeer, else null. */
    public LeafDht leafDht() {
        return leaf;
    }

    public InetSocketAddress address() {
        return mux.link().localAddress();
    }

    /** Role, site, superpeers, links or leaves and NAT behaviour, for {@code p2psip status}; any thread. */
    public SiteStatus status() {
        SiteNode s = site;
        LeafDht l = leaf;
        LeafService svc = service;
        OverlayNode n = overlay;
        int neighbours = 0;
        if (n != null) {
            try {
                neighbours = n.neighbours().get(2, TimeUnit.SECONDS).size();
            } catch (Exception e) {
                neighbours = -1; // the node is busy or stopping; status must not hang
            }
        }
        return new SiteStatus(acting, address(), nat, s.site(), s.superpeers(),
                l == null ? null : l.primary().map(LeafDht.SuperpeerRef::id).orElse(null),
                l == null ? null : l.standby().map(LeafDht.SuperpeerRef::id).orElse(null),
                svc == null ? List.of() : svc.leaves(), neighbours, l == null ? 0 : l.failovers());
    }

    @Override
    public CompletableFuture<PutResult> put(NodeId key, DhtValue value) {
        return active().put(key, value);
    }

    @Override
    public CompletableFuture<PutResult> putRefresh(NodeId key, DhtValue compact, DhtValue full) {
        return active().putRefresh(key, compact, full);
    }

    @Override
    public CompletableFuture<List<DhtValue>> get(NodeId key) {
        return active().get(key);
    }

    @Override
    public CompletableFuture<PutResult> remove(NodeId key, Bytes owner, Bytes nonce, Bytes proof) {
        return active().remove(key, owner, nonce, proof);
    }

    @Override
    public Subscription listen(NodeId key, Consumer<ValueEvent> listener) {
        return active().listen(key, listener);
    }

    /**
     * A crash, for tests and benchmarks: the socket closes first so no goodbye leaves, then everything stops.
     */
    public void crash() {
        closed = true;
        mux.close();
        stopAll();
    }

    private void stopAll() {
        site.close();
        LeafService s = service;
        if (s != null) {
            s.close();
        }
        OverlayNode n = overlay;
        if (n != null) {
            closeOverlay(n);
        }
        LeafDht l = leaf;
        if (l != null) {
            l.close();
        }
        LeafDht d = draining;
        if (d != null) {
            d.close();
        }
    }

    /**
     * A graceful stop: leaves are told to move to the backup and the overlay node hands its records to the next
     * responsible nodes before the node and the socket close.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        LeafService s = service;
        if (s != null) {
            try {
                s.handOff().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("{}: hand-off of the leaves did not finish: {}", keys.id().shortHex(), e.toString());
            }
        }
        OverlayNode n = overlay;
        if (n != null) {
            try {
                n.handOverAll().get(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("{}: hand-over of the stored records did not finish: {}", keys.id().shortHex(), e.toString());
            }
        }
        stopAll();
        mux.close();
    }
}
