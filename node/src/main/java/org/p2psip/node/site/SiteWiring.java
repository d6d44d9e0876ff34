package org.p2psip.node.site;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.lang.management.ManagementFactory;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.p2psip.node.HostPort;
import org.p2psip.node.event.LinkKind;
import org.p2psip.node.event.PeerEvent;
import org.p2psip.node.event.PeerRole;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.OverlayObserver;
import org.p2psip.overlay.store.LocalStore;
import org.p2psip.overlay.wire.WireCodec;
import org.p2psip.superpeer.SiteNode;
import org.p2psip.superpeer.SitePeer;
import org.p2psip.superpeer.SiteStatus;
import org.p2psip.superpeer.discovery.Ed25519Keys;
import org.p2psip.superpeer.discovery.LanDiscovery;
import org.p2psip.superpeer.discovery.NatInfo;
import org.p2psip.superpeer.discovery.Role;
import org.p2psip.superpeer.leaf.LeafDht;
import org.p2psip.superpeer.leaf.LeafService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A peer in site mode ({@code --role auto|leaf}): starts a {@link SitePeer} (LAN discovery, election, leaf links
 * and, when elected, an overlay node) from the peer's settings, logs its progress (role changes, the superpeers a
 * leaf is attached to, the leaves a superpeer serves), turns its role and link changes into {@link PeerEvent}s, and
 * tells when the peer first serves calls ({@link #ready()}).
 */
public final class SiteWiring implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SiteWiring.class);
    /** Announced spare bandwidth: not measured yet, so the same for every peer (it then never decides). */
    static final long BANDWIDTH_KBPS = 10_000;

    private final SiteOptions options;
    private final Consumer<PeerEvent> events;
    private final EventLoopGroup lan;
    private final String name;
    private volatile SitePeer peer;
    private volatile OverlayObserver observer = OverlayObserver.NONE;
    private volatile NatInfo nat = NatInfo.UNKNOWN;
    private volatile InetSocketAddress reflexive;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private volatile ScheduledFuture<?> readyPoll;
    private final NodeStun stun;
    private volatile EventLoopGroup links;
    private volatile InetAddress bindAddress;
    private volatile org.p2psip.nat.stun.StunServer stunServer;
    private final NodeTurn turn;
    private volatile org.p2psip.nat.turn.TurnServer turnServer;
    private volatile boolean superpeer;
    private volatile boolean closed;
    // touched only on the site peer's threads, in the order its listener is called
    private LeafDht.SuperpeerRef primary;
    private LeafDht.SuperpeerRef standby;
    private final Set<NodeId> leaves = new HashSet<>();
    private final LinkSetup linkSetup;
    /** The site peer's DTLS socket once bound (null over plain UDP): the layer ICE links attach their paths to. */
    private volatile org.p2psip.nat.dtls.DtlsLinkLayer dtls;
    /** The links of the overlay node this peer runs while elected, else null. */
    private volatile org.p2psip.node.links.NodeLinks siteLinks;

    /**
     * How a site peer's links are made and managed.
     *
     * @param security        what protects the peer's shared socket: DTLS authenticated with the node key, or plain UDP
     * @param ice             where the ICE links of an elected peer find STUN and TURN (as a plain superpeer's); null
     *                        for none
     * @param manage          called with the links of each overlay node the peer runs while elected, before its join
     *                        (the peer adds what a plain superpeer adds to its own: relay grants, a relay from the
     *                        service directory); on the overlay's thread
     * @param turnCredentials wraps the SIP accounts its TURN relay checks (a relay grants other superpeers' links)
     */
    public record LinkSetup(org.p2psip.node.links.LinkSecurity security, org.p2psip.nat.ice.IceConfig ice,
                            Consumer<org.p2psip.node.links.NodeLinks> manage,
                            java.util.function.UnaryOperator<org.p2psip.nat.turn.CredentialStore> turnCredentials) {
        public LinkSetup {
            Objects.requireNonNull(security, "security");
            Objects.requireNonNull(manage, "manage");
            Objects.requireNonNull(turnCredentials, "turnCredentials");
        }

        /** Plain links of {@code security} and nothing else: no ICE, no grants. */
        public static LinkSetup plain(org.p2psip.node.links.LinkSecurity security) {
            return new LinkSetup(security, null, l -> { }, c -> c);
        }
    }

    /** Where an elected peer's overlay node verifies records (see {@link OverlayNode#checkValuesOn}). */
    private final java.util.concurrent.Executor recordChecks;

    private SiteWiring(SiteOptions options, NodeId id, Consumer<PeerEvent> events, NodeStun stun, NodeTurn turn,
                       LinkSetup linkSetup, java.util.concurrent.Executor recordChecks) {
        this.linkSetup = linkSetup;
        this.recordChecks = Objects.requireNonNull(recordChecks, "recordChecks");
        this.options = options;
        this.stun = stun;
        this.turn = turn;
        this.events = events;
        this.name = id.shortHex();
        this.lan = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    /**
     * Starts the site peer: binds its overlay socket at {@code bind} and its discovery socket at the site port, and
     * begins to announce and elect. Blocks while binding (a few ms); fails for a port in use.
     *
     * @param links     the peer's UDP event loops
     * @param bootstrap nodes the peer's overlay node joins through when elected (unresolved names are resolved now;
     *                  entries naming this peer are skipped)
     * @param stores    the store each overlay node of the peer keeps its share of the DHT in
     * @param events    receives role and link events (on the site peer's threads)
     * @param stun      the STUN server it runs while superpeer, and the one it discovers its NAT against
     * @param turn      the TURN server it runs while superpeer (and, with {@link TurnMode#AUTO}, publicly reachable)
     * @param linkSetup what protects the peer's shared socket (DTLS authenticated with {@code keyPair}, or plain UDP)
     *                  and, with DTLS, the ICE links an elected peer sets up to other sites' superpeers
     * @param recordChecks where an elected peer's overlay node verifies the records it is asked to store
     *                  ({@link OverlayNode#checkValuesOn}), off its event-loop thread
     */
    public static SiteWiring start(SiteOptions options, NodeId id, java.security.KeyPair keyPair, InetSocketAddress bind,
                                   List<InetSocketAddress> bootstrap, OverlayConfig overlay, EventLoopGroup links,
                                   Supplier<LocalStore> stores, Consumer<PeerEvent> events, NodeStun stun,
                                   NodeTurn turn, LinkSetup linkSetup, java.util.concurrent.Executor recordChecks)
            throws InterruptedException {
        if (!options.siteMode()) {
            throw new IllegalArgumentException("role superpeer runs a plain overlay node, not a site peer");
        }
        SiteWiring w = new SiteWiring(options, id, events, stun, turn, linkSetup, recordChecks);
        java.util.function.Function<InetSocketAddress, CompletableFuture<? extends org.p2psip.overlay.link.LinkLayer>> bind0
                = org.p2psip.node.links.NodeLinks.binder(linkSetup.security(), links, keyPair, overlay.maxDatagramBytes());
        try {
            // keep the DTLS layer: an elected peer's ICE links attach their paths to it
            w.startPeer(Ed25519Keys.of(keyPair), bind, bootstrap, overlay, links, stores, a -> bind0.apply(a)
                    .thenApply(l -> {
                        if (l instanceof org.p2psip.nat.dtls.DtlsLinkLayer d) {
                            w.dtls = d;
                        }
                        return l;
                    }));
        } catch (RuntimeException | InterruptedException e) {
            w.lan.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        return w;
    }

    private void startPeer(Ed25519Keys keys, InetSocketAddress bind, List<InetSocketAddress> bootstrap,
                           OverlayConfig overlay, EventLoopGroup links, Supplier<LocalStore> stores,
                           java.util.function.Function<InetSocketAddress,
                                   java.util.concurrent.CompletableFuture<? extends org.p2psip.overlay.link.LinkLayer>> binder)
            throws InterruptedException {
        InetAddress announced = announcedAddress(bind.getAddress());
        int prefix = prefixLength(announced);
        NetworkInterface iface = options.multicast() ? multicastInterface(announced) : null;
        boolean ipv6 = iface != null && Collections.list(iface.getInetAddresses()).stream()
                .anyMatch(a -> a instanceof Inet6Address);
        InetAddress discoveryBind = iface != null ? wildcard() : bind.getAddress();
        List<InetSocketAddress> sitePeers = resolve(options.peers(), "--site-peer");
        LanDiscovery.Config discovery = new LanDiscovery.Config(new InetSocketAddress(discoveryBind, options.port()),
                sitePeers, iface, ipv6, Duration.ofSeconds(2), 1024);
        List<InetSocketAddress> boot = new ArrayList<>();
        for (InetSocketAddress a : resolve(bootstrap, "--bootstrap")) {
            if (!(bind.getPort() != 0 && a.getPort() == bind.getPort() && isLocal(a.getAddress()))) {
                boot.add(a);
            }
        }
        SitePeer.Config cfg = new SitePeer.Config(SiteNode.Config.defaults(), boot, overlay,
                LeafService.Config.defaults(), LeafDht.Config.defaults());
        LOG.info("node {}: site mode (role {}, preference {}): announcing {} (/{}) from discovery port {}, static site "
                        + "peers {}, multicast {}; overlay bootstrap {}", name, options.mode().name().toLowerCase(),
                options.effectivePreference().name().toLowerCase(), announced.getHostAddress(), prefix, options.port(),
                HostPort.format(sitePeers), iface == null ? "off" : iface.getName() + (ipv6 ? " (IPv4 and IPv6)" : ""),
                boot.isEmpty() ? "none (the site's superpeers join through each other)" : HostPort.format(boot));
        // discover the NAT before the first announcement, so the warm-up already sees it (and checks public claims)
        CompletableFuture<NodeStun.Found> first = stun.server() == null ? null : stun.discover(bind.getAddress());
        boolean late = false;
        if (first != null) {
            try {
                apply(first.get(3, TimeUnit.SECONDS), 1);
            } catch (java.util.concurrent.TimeoutException e) {
                // a silent server costs a few seconds of retransmissions: start meanwhile, announce the result later
                LOG.info("node {}: NAT discovery against {} goes on in the background; announcing an unknown NAT "
                        + "until it finishes", name, HostPort.format(stun.server()));
                late = true;
            } catch (java.util.concurrent.ExecutionException e) {
                LOG.warn("node {}: NAT discovery against {} failed: {}; announcing an unknown NAT for now",
                        name, HostPort.format(stun.server()), e.getMessage());
            }
        } else {
            LOG.info("node {}: NAT not discovered: no STUN server to ask (--stun-server, or a --bootstrap node)", name);
        }
        this.links = links;
        this.bindAddress = bind.getAddress();
        peer = SitePeer.start(links, lan, keys, bind,
                local -> new SiteNode.SelfInfo(List.of(new InetSocketAddress(
                        local.getAddress().isAnyLocalAddress() ? announced : local.getAddress(), local.getPort())),
                        prefix, reflexive(), nat, options.effectivePreference(), capacity().cpuPermille(),
                        capacity().memoryMiB(), BANDWIDTH_KBPS),
                discovery, cfg, stores, new WireCodec(), new Listener(), binder);
        readyPoll = links.next().scheduleAtFixedRate(this::checkReady, 100, 100, TimeUnit.MILLISECONDS);
        this.noNatReflexive = new InetSocketAddress(announced, peer.site().discovery().localAddress().getPort());
        if (late) {
            first.thenAccept(f -> apply(f, 2)); // found nothing: apply schedules the next attempt
        } else if (first != null && nat.natDetected() == null) {
            lan.schedule(() -> discoverNat(bind.getAddress(), 2), 30, TimeUnit.SECONDS);
        }
    }

    private volatile InetSocketAddress noNatReflexive;

    /**
     * The reflexive address announced: the one STUN saw behind a NAT; with no NAT, the discovery socket (where a
     * connect-back reaches this peer); null when unknown.
     */
    public InetSocketAddress reflexive() {
        if (Boolean.FALSE.equals(nat.natDetected())) {
            return noNatReflexive;
        }
        return reflexive;
    }

    /** NAT discovery against the configured STUN server, again every 30 s while it finds nothing. */
    private void discoverNat(InetAddress local, int attempt) {
        if (closed) {
            return;
        }
        stun.discover(local).thenAccept(f -> apply(f, attempt));
    }

    private void apply(NodeStun.Found f, int attempt) {
        if (closed) {
            return;
        }
        if (f.nat().natDetected() == null) {
            if (attempt <= 3 || attempt % 20 == 0) {
                LOG.warn("node {}: NAT discovery against {} found nothing ({}); trying again in 30 s", name,
                        HostPort.format(stun.server()), f.note());
            }
            if (attempt > 1) {
                lan.schedule(() -> discoverNat(bindAddress, attempt + 1), 30, TimeUnit.SECONDS);
            }
            return;
        }
        nat(f.nat(), f.reflexive());
        lan.execute(this::turnCheck); // AUTO: a superpeer found publicly reachable starts its relay now
        LOG.info("node {}: NAT discovered against {}: {}, reflexive address {}{}", name,
                HostPort.format(stun.server()), StatusLines.nat(f.nat()), f.reflexive() == null
                        ? (f.nat().natDetected() ? "unknown" : "its own") : HostPort.format(f.reflexive()),
                f.note().isEmpty() ? "" : " (" + f.note() + ")");
    }

    /** Starts the STUN server (off the event loops: it blocks while binding) while the peer is a superpeer. */
    private void stunWhileSuperpeer(boolean superpeer) {
        lan.execute(() -> {
            org.p2psip.nat.stun.StunServer s = stunServer;
            if (superpeer && s == null && !closed) {
                try {
                    stunServer = stun.startServer(bindAddress, links, name);
                } catch (IllegalStateException e) {
                    LOG.error("node {}: {}", name, e.getMessage());
                }
            } else if (!superpeer && s != null) {
                stunServer = null;
                s.close();
                LOG.info("node {}: STUN server stopped (no longer superpeer)", name);
            }
            turnCheck();
        });
    }

    /**
     * Runs the TURN server while the peer is a superpeer that {@link NodeTurn#runs} (on {@link #lan}: it blocks while
     * binding); stops it when the peer is unseated. Called on role changes and when NAT discovery finishes.
     */
    private void turnCheck() {
        org.p2psip.nat.turn.TurnServer t = turnServer;
        boolean wanted = superpeer && !closed && turn.runs(nat);
        if (wanted && t == null) {
            try {
                turnServer = turn.start(bindAddress, announcedAddress(bindAddress), name, linkSetup.turnCredentials());
            } catch (IllegalStateException e) {
                LOG.error("node {}: {}", name, e.getMessage());
            }
        } else if (!wanted && t != null) {
            turnServer = null;
            t.close();
            LOG.info("node {}: TURN server stopped ({})", name, superpeer ? "no longer publicly reachable"
                    : "no longer superpeer");
        }
    }

    /** The TURN server's bound address while this peer is a superpeer and runs one, else null. */
    public InetSocketAddress turnAddress() {
        org.p2psip.nat.turn.TurnServer t = turnServer;
        return t == null ? null : t.listenAddress();
    }

    /** The STUN server's address while this peer is a superpeer and runs one, else null. */
    public InetSocketAddress stunAddress() {
        org.p2psip.nat.stun.StunServer s = stunServer;
        return s == null ? null : s.primaryAddress();
    }

    /** Turns the site peer's changes into logs and events. */
    private final class Listener implements SitePeer.Listener {
        @Override
        public void roleChanged(Role from, Role to) {
            SitePeer p = peer;
            LOG.info("node {}: role {} -> {} (site superpeers {})", name, from, to, p == null ? "?"
                    : p.site().superpeers().stream().map(NodeId::shortHex).toList());
            if (to == Role.SUPERPEER || from == Role.SUPERPEER) {
                superpeer = to == Role.SUPERPEER;
                stunWhileSuperpeer(to == Role.SUPERPEER);
            }
            events.accept(new PeerEvent.RoleChanged(role(from), role(to)));
        }

        @Override
        public void overlayStarted(OverlayNode n) {
            n.checkValuesOn(recordChecks);
            org.p2psip.nat.dtls.DtlsLinkLayer d = dtls;
            org.p2psip.node.links.NodeLinks l = null;
            if (d != null && linkSetup.ice() != null && !closed) {
                // the same link machinery as a plain superpeer's: ICE links to superpeers behind other NATs
                l = org.p2psip.node.links.NodeLinks.over(d, n, linkSetup.ice());
                siteLinks = l;
                linkSetup.manage().accept(l);
            }
            n.observer(l != null ? l.observer(observer, links) : observer);
        }

        @Override
        public void overlayStopped(OverlayNode n) {
            org.p2psip.node.links.NodeLinks l = siteLinks;
            if (l != null && l.node() == n) {
                siteLinks = null;
                l.close();
                LOG.info("node {}: ICE links of its overlay node closed (unseated or stopping)", name);
            }
        }

        @Override
        public void superpeerLinks(LeafDht.SuperpeerRef p, LeafDht.SuperpeerRef s) {
            LeafDht.SuperpeerRef oldP = primary;
            LeafDht.SuperpeerRef oldS = standby;
            primary = p;
            standby = s;
            if (!Objects.equals(oldP, p)) {
                if (oldP != null) {
                    events.accept(new PeerEvent.LinkDown(oldP.id(), LinkKind.SUPERPEER));
                }
            }
            if (!Objects.equals(oldS, s) && oldS != null) {
                events.accept(new PeerEvent.LinkDown(oldS.id(), LinkKind.STANDBY));
            }
            if (!Objects.equals(oldP, p) && p != null) {
                events.accept(new PeerEvent.LinkUp(p.id(), LinkKind.SUPERPEER));
            }
            if (!Objects.equals(oldS, s) && s != null) {
                events.accept(new PeerEvent.LinkUp(s.id(), LinkKind.STANDBY));
            }
            if (p != null && !Objects.equals(oldP, p)) {
                LOG.info("node {}: leaf attached to superpeer {} at {} (standby {})", name, p.id().shortHex(),
                        HostPort.format(p.address()), s == null ? "none yet" : s.id().shortHex());
            } else if (p == null && oldP != null) {
                LOG.info("node {}: no superpeer link (was {})", name, oldP.id().shortHex());
            } else if (s != null && !Objects.equals(oldS, s)) {
                LOG.info("node {}: standby superpeer {} at {}", name, s.id().shortHex(), HostPort.format(s.address()));
            }
        }

        @Override
        public void leafLinks(List<LeafService.LeafInfo> now) {
            Set<NodeId> ids = new HashSet<>();
            now.forEach(l -> ids.add(l.id()));
            for (NodeId gone : new ArrayList<>(leaves)) {
                if (!ids.contains(gone)) {
                    leaves.remove(gone);
                    events.accept(new PeerEvent.LinkDown(gone, LinkKind.LEAF));
                }
            }
            for (NodeId id : ids) {
                if (leaves.add(id)) {
                    events.accept(new PeerEvent.LinkUp(id, LinkKind.LEAF));
                }
            }
        }
    }

    /** The node-level name of a site role. */
    public static PeerRole role(Role r) {
        return switch (r) {
            case LEAF -> PeerRole.LEAF;
            case CANDIDATE -> PeerRole.CANDIDATE;
            case SUPERPEER -> PeerRole.SUPERPEER;
        };
    }

    private void checkReady() {
        SitePeer p = peer;
        if (p == null || ready.isDone()) {
            return;
        }
        OverlayNode n = p.overlayNode();
        LeafDht l = p.leafDht();
        if (p.role() == Role.SUPERPEER && n != null && n.isJoined()) {
            LOG.info("node {}: serving as a superpeer of its site ({} peers), overlay joined", name, p.site().site().size());
            ready.complete(null);
        } else if (l != null && l.primary().isPresent()) {
            LOG.info("node {}: serving as a leaf through superpeer {}", name, l.primary().get().id().shortHex());
            ready.complete(null);
        }
        if (ready.isDone() && readyPoll != null) {
            readyPoll.cancel(false);
        }
    }

    /**
     * Completes once the peer first serves calls: as a superpeer whose overlay node has joined, or as a leaf attached
     * to a superpeer. Until then calls wait in the leaf client (up to its call timeout).
     */
    public CompletableFuture<Void> ready() {
        return ready;
    }

    /** The site peer: the {@code Dht} whatever its role. */
    public SitePeer peer() {
        return peer;
    }

    /** Role, site, superpeers, links or leaves, NAT: for {@code p2psip status}. */
    public SiteStatus status() {
        return peer.status();
    }

    /** The overlay node while superpeer, else null. */
    public OverlayNode overlayNode() {
        SitePeer p = peer;
        return p == null ? null : p.overlayNode();
    }

    /** The observer given to each overlay node this peer runs (metrics), now and after each election. */
    public void observer(OverlayObserver o) {
        this.observer = Objects.requireNonNull(o, "observer");
        OverlayNode n = overlayNode();
        if (n != null) {
            org.p2psip.node.links.NodeLinks l = siteLinks;
            n.observer(l != null && l.node() == n ? l.observer(o, links) : o);
        }
    }

    /**
     * The links of the overlay node this peer runs while elected (DTLS layer, ICE links, attacher), else null (a leaf,
     * plain UDP, or no ICE configured).
     */
    public org.p2psip.node.links.NodeLinks links() {
        return siteLinks;
    }

    /** What the peer announces of its NAT from now on (after NAT discovery). */
    public void nat(NatInfo info, InetSocketAddress reflexiveAddress) {
        this.nat = Objects.requireNonNull(info, "info");
        this.reflexive = reflexiveAddress;
    }

    /** What the peer announces of its NAT now. */
    public NatInfo natInfo() {
        return nat;
    }

    /** The reflexive address NAT discovery found behind a NAT (null when none or unknown). */
    public InetSocketAddress reflexiveAddress() {
        return reflexive;
    }

    /** The socket of the overlay and leaf protocol. */
    public InetSocketAddress address() {
        return peer.address();
    }

    /** A graceful stop: leaves handed to the backup, records to the next responsible nodes. */
    @Override
    public void close() {
        closed = true;
        ScheduledFuture<?> r = readyPoll;
        if (r != null) {
            r.cancel(false);
        }
        SitePeer p = peer;
        if (p != null) {
            p.close();
        }
        ready.completeExceptionally(new IllegalStateException("the site peer stopped"));
        org.p2psip.nat.stun.StunServer s = stunServer;
        if (s != null) {
            stunServer = null;
            s.close();
        }
        lan.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        org.p2psip.nat.turn.TurnServer t = turnServer; // after lan stopped: no start can still be under way
        if (t != null) {
            turnServer = null;
            t.close();
        }
    }

    // ------------------------------------------------------------------ host facts

    /** The address others reach this peer at: the bound one, or for a wildcard bind the first routable IPv4. */
    public static InetAddress announcedAddress(InetAddress bound) {
        if (!bound.isAnyLocalAddress()) {
            return bound;
        }
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!ni.isUp() || ni.isLoopback()) {
                    continue;
                }
                for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                    if (a instanceof Inet4Address && !a.isLinkLocalAddress() && !a.isLoopbackAddress()) {
                        return a;
                    }
                }
            }
        } catch (SocketException e) {
            LOG.debug("cannot list the network interfaces: {}", e.toString());
        }
        return InetAddress.getLoopbackAddress();
    }

    /** The prefix length of {@code a} on its interface (site rule: same subnet); 32 or 128 when unknown. */
    static int prefixLength(InetAddress a) {
        try {
            NetworkInterface ni = NetworkInterface.getByInetAddress(a);
            if (ni != null) {
                for (InterfaceAddress ia : ni.getInterfaceAddresses()) {
                    if (ia.getAddress().equals(a)) {
                        return ia.getNetworkPrefixLength();
                    }
                }
            }
        } catch (SocketException e) {
            LOG.debug("cannot read the prefix of {}: {}", a, e.toString());
        }
        return a instanceof Inet4Address ? 32 : 128;
    }

    private NetworkInterface multicastInterface(InetAddress a) {
        try {
            NetworkInterface ni = NetworkInterface.getByInetAddress(a);
            if (ni != null && ni.isUp() && ni.supportsMulticast() && !ni.isLoopback()) {
                return ni;
            }
            LOG.info("node {}: multicast discovery off: the interface of {} ({}) does not carry multicast; "
                    + "list the site's peers with --site-peer", name, a.getHostAddress(), ni == null ? "none" : ni.getName());
        } catch (SocketException e) {
            LOG.info("node {}: multicast discovery off: {}", name, e.toString());
        }
        return null;
    }

    private static InetAddress wildcard() {
        try {
            return InetAddress.getByAddress(new byte[4]);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private List<InetSocketAddress> resolve(List<InetSocketAddress> in, String option) {
        List<InetSocketAddress> out = new ArrayList<>();
        for (InetSocketAddress a : in) {
            InetSocketAddress r = a.isUnresolved() ? new InetSocketAddress(a.getHostString(), a.getPort()) : a;
            if (r.isUnresolved()) {
                LOG.warn("node {}: {} {} does not resolve to an address; skipped", name, option, a.getHostString());
            } else {
                out.add(r);
            }
        }
        return out;
    }

    private static boolean isLocal(InetAddress a) {
        if (a.isAnyLocalAddress() || a.isLoopbackAddress()) {
            return true;
        }
        try {
            return NetworkInterface.getByInetAddress(a) != null;
        } catch (SocketException e) {
            return false;
        }
    }

    /** Spare capacity as announced: coarse and sampled once a minute (see {@link #capacity()}). */
    record Capacity(int cpuPermille, long memoryMiB, long sampledAtNanos) { }

    private volatile Capacity capacity;

    /**
     * The spare CPU (in steps of 100 permille) and memory (in steps of 64 MiB), sampled at most once a minute. Every
     * peer elects from the others' announced values: values that moved at each announcement (free heap does) would
     * give each peer a different ranking, and with no incumbent yet no one would be elected by all.
     */
    Capacity capacity() {
        Capacity c = capacity;
        long now = System.nanoTime();
        if (c == null || now - c.sampledAtNanos() > TimeUnit.MINUTES.toNanos(1)) {
            c = new Capacity(spareCpuPermille() / 100 * 100, spareMemoryMiB() / 64 * 64, now);
            capacity = c;
        }
        return c;
    }

    private static int spareCpuPermille() {
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        int cores = Runtime.getRuntime().availableProcessors();
        if (load < 0) {
            return 500; // not available on this platform
        }
        return (int) Math.max(0, Math.min(1000, 1000 - load * 1000 / cores));
    }

    private static long spareMemoryMiB() {
        Runtime r = Runtime.getRuntime();
        return Math.max(0, (r.maxMemory() - (r.totalMemory() - r.freeMemory())) >> 20);
    }
}
