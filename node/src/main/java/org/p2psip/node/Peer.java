package org.p2psip.node;

import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.p2psip.node.control.ControlServer;
import org.p2psip.node.control.ControlService;
import org.p2psip.node.identity.NodeKeys;
import org.p2psip.node.metrics.MetricsServer;
import org.p2psip.node.metrics.PeerMetrics;
import org.p2psip.node.xmlrpc.GatewayMethods;
import org.p2psip.node.xmlrpc.XmlRpcServer;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.NodeStatus;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.link.UdpLinkLayer;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.storage.NameOwners;
import org.p2psip.storage.PersistentLocalStore;
import org.p2psip.storage.RecordStore;
import org.p2psip.storage.api.DraftPolicy;
import org.p2psip.overlay.wire.WireCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running p2psip peer, embedded in a Java program: its node key, an overlay node that stores
 * OpenDHT-style values ({@link SecretHashPolicy}), and optionally the local control port. Its overlay links are DTLS
 * sessions authenticated with the node key, plus ICE links to superpeers it cannot reach directly
 * ({@link Builder#linkSecurity}, {@link org.p2psip.node.links.NodeLinks}).
 *
 * <pre>{@code
 * Peer peer = Peer.builder()
 *         .dataDir(Path.of("/var/lib/p2psip"))
 *         .port(4222)
 *         .bootstrap(HostPort.parse("boot.example.net:4222", Peer.DEFAULT_PORT))
 *         .build();
 * peer.start().join();              // completes once the peer has joined the overlay
 * peer.dht().put(NodeId.ofName("sip:bob@example.net"), value);
 * peer.close();
 * }</pre>
 *
 * <p>{@link #start()} binds the UDP socket, starts the overlay node and the control port, then joins
 * through the bootstrap nodes, retrying every {@link Builder#joinRetryMillis(long) 5 s} while none of them
 * answers (failed attempts are logged for the first three, then once a minute). It logs the node id, its
 * addresses and its neighbour count as it goes, and later each change of the neighbour count. A peer with
 * bootstrap nodes that loses every neighbour joins again. The returned future
 * fails only for errors a retry cannot fix (a damaged key, a port in use, a data directory in use by
 * another peer); while the bootstrap nodes stay silent it simply stays pending, and the peer serves
 * requests from nodes that reach it in the meantime.
 *
 * <p>With {@link Builder#site} role auto or leaf the peer is a site peer ({@link org.p2psip.node.site.SiteWiring}):
 * it takes part in its LAN's superpeer election, and {@link #dht()} is the same API whatever its role (a leaf's calls
 * go through its superpeer); {@link #siteStatus()} and {@link #addListener} follow its role and links. Every
 * superpeer runs a STUN server, a TURN relay when {@link Builder#turn} selects it, and advertises them (and its SIP
 * adapter as {@code presence}) in the draft's service directory ({@link #services()}).
 *
 * <p>Thread-safety: all methods may be called from any thread. DHT futures complete on the peer's event
 * loop: never block in their callbacks.
 */
public final class Peer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Peer.class);
    /** The default overlay UDP port. */
    public static final int DEFAULT_PORT = 4222;
    /** The default control port when the overlay port is ephemeral (0); otherwise it is the overlay port + 1. */
    public static final int DEFAULT_CONTROL_PORT = DEFAULT_PORT + 1;
    /** The file that marks a data directory as in use by a running peer. */
    /** The default XML-RPC gateway port when the overlay port is ephemeral (0); otherwise it is the overlay port + 2. */
    public static final int DEFAULT_XMLRPC_PORT = DEFAULT_PORT + 2;
    /** The metrics port of a peer on the default overlay port: the overlay port + 3. */
    public static final int DEFAULT_METRICS_PORT = DEFAULT_PORT + 3;
    public static final String LOCK_FILE = "node.lock";
    private static final long MONITOR_MILLIS = 30_000;
    /** How often the routing table is compared for overlay link events. */
    private static final long OVERLAY_LINK_WATCH_MILLIS = 2_000;
    /** How often the service advertisement is checked against the peer's role and servers. */
    private static final long SERVICE_CHECK_MILLIS = 2_000;
    /** The record store's file in the data dir. */
    public static final String RECORDS_FILE = "records.mv";

    private final Path dataDir;
    private final InetAddress bindAddress;
    private final int port;
    private final List<InetSocketAddress> bootstrap;
    private final OverlayConfig config;
    private final int controlPort;
    private final long joinRetryMillis;
    private final int xmlrpcPort;
    private final int metricsPort;
    private final InetAddress xmlrpcBind;
    private final String xmlrpcToken;
    private final boolean persistent;
    private final org.p2psip.node.sip.SipOptions sipOptions;
    private volatile org.p2psip.sip.SipPeer sip;
    private final Entitlement entitlement;
    /** What this peer's SIP adapter signed: its local replica of those records is not verified again. */
    private final org.p2psip.storage.LocallySigned signedHere = new org.p2psip.storage.LocallySigned();
    private final org.p2psip.node.site.SiteOptions siteOptions;
    private final org.p2psip.node.event.EventHub events = new org.p2psip.node.event.EventHub();
    private volatile org.p2psip.node.site.SiteWiring site;
    private volatile org.p2psip.node.event.OverlayLinkWatch overlayLinks;
    private final Integer stunPort;
    private final InetSocketAddress stunServer;
    private volatile org.p2psip.nat.stun.StunServer stun;
    private volatile org.p2psip.node.site.ServiceAds serviceAds;
    private final Integer turnPort;
    private final org.p2psip.node.site.TurnMode turnMode;
    private final org.p2psip.node.links.LinkSecurity linkSecurity;
    private final org.p2psip.node.links.LinkTurn linkTurn;
    /** A plain superpeer's overlay node and its links (DTLS and ICE, or plain UDP). */
    private volatile org.p2psip.node.links.NodeLinks links;
    /** Grants of this peer's TURN relay to other superpeers' ICE links (found through the service directory). */
    private final org.p2psip.node.links.RelayGrants relayGrants = new org.p2psip.node.links.RelayGrants();
    /** A plain superpeer's TURN server (a site peer's is in its SiteWiring). */
    private volatile org.p2psip.nat.turn.TurnServer turn;
    /** A plain superpeer's NAT as discovered at start (site peers keep theirs in their site status). */
    private volatile org.p2psip.superpeer.discovery.NatInfo plainNat = org.p2psip.superpeer.discovery.NatInfo.UNKNOWN;
    /** The address STUN saw a plain superpeer's discovery come from, or null (for {@link #reflexiveAddress()}; SIP over the overlay names it as the site). */
    private volatile InetSocketAddress plainReflexive;
    /** The node key's service registration, shared by the services it advertises and the gateway's join/leave. */
    private final org.p2psip.node.site.HostRegistration hostRegistration = new org.p2psip.node.site.HostRegistration();
    private final CompletableFuture<Peer> joined = new CompletableFuture<>();
    private final Object lock = new Object();

    private volatile NodeKeys keys;
    private volatile EventLoopGroup group;
    /**
     * Verifies the records other nodes ask this one to store, one thread per core, so that the overlay's single
     * event-loop thread keeps answering meanwhile (see {@link OverlayNode#checkValuesOn}).
     */
    private final java.util.concurrent.ExecutorService recordChecks = org.p2psip.overlay.store.AheadChecks.newWorkers(
            "record-check", Math.max(1, Runtime.getRuntime().availableProcessors()));
    private volatile OverlayNode node;
    private volatile RecordStore records;
    private volatile ControlServer control;
    private volatile XmlRpcServer xmlrpc;
    private volatile PeerMetrics metrics;
    private volatile MetricsServer metricsServer;
    private volatile FileChannel lockChannel;
    private volatile FileLock fileLock;
    private volatile ScheduledFuture<?> timer;
    private volatile boolean started;
    private volatile boolean closed;
    private volatile long startedAtMillis;
    private int lastNeighbours = -1;

    private Peer(Builder b) {
        this.dataDir = b.dataDir;
        this.persistent = b.persistent;
        this.sipOptions = b.sip;
        this.entitlement = b.entitlement;
        this.siteOptions = b.site;
        this.stunPort = b.stunPort;
        this.stunServer = b.stunServer;
        this.turnPort = b.turnPort;
        this.turnMode = b.turnMode;
        this.linkSecurity = b.linkSecurity;
        this.linkTurn = b.linkTurn;
        this.bindAddress = b.bindAddress;
        this.port = b.port;
        this.bootstrap = List.copyOf(b.bootstrap);
        this.config = b.config;
        this.controlPort = b.controlPort != null ? b.controlPort : defaultControlPort(b.port);
        this.joinRetryMillis = b.joinRetryMillis;
        this.xmlrpcPort = b.xmlrpcPort != null ? b.xmlrpcPort : defaultXmlRpcPort(b.port);
        this.xmlrpcBind = b.xmlrpcBind != null ? b.xmlrpcBind : ControlServer.loopback();
        this.xmlrpcToken = b.xmlrpcToken == null || b.xmlrpcToken.isEmpty() ? null : b.xmlrpcToken;
        this.keys = b.keys;
        this.metricsPort = b.metricsPort != null ? b.metricsPort : defaultMetricsPort(b.port);
    }

    /**
     * The metrics port used when none is configured: the overlay port + 3; a free port when the overlay port is 0
     * (unlike the control port, nothing local needs to find it, and peers of a test or a host never collide on it).
     */
    public static int defaultMetricsPort(int overlayPort) {
        return overlayPort == 0 ? 0 : overlayPort + 3;
    }

    /** The control port used when none is configured: the overlay port + 1, or 4223 when the overlay port is 0. */
    public static int defaultControlPort(int overlayPort) {
        return overlayPort == 0 ? DEFAULT_CONTROL_PORT : overlayPort + 1;
    }

    /** The XML-RPC port used when none is configured: the overlay port + 2, or 4224 when the overlay port is 0. */
    public static int defaultXmlRpcPort(int overlayPort) {
        return overlayPort == 0 ? DEFAULT_XMLRPC_PORT : overlayPort + 2;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Configures a {@link Peer}. Every setting has a default; {@link #dataDir} is {@code ~/.p2psip}. */
    public static final class Builder {
        private Path dataDir = Path.of(System.getProperty("user.home"), ".p2psip");
        private InetAddress bindAddress = anyAddress();
        private int port = DEFAULT_PORT;
        private final List<InetSocketAddress> bootstrap = new ArrayList<>();
        private OverlayConfig config = OverlayConfig.defaults();
        private Integer controlPort;
        private long joinRetryMillis = 5_000;
        private NodeKeys keys;
        private Integer xmlrpcPort;
        private Integer metricsPort;
        private InetAddress xmlrpcBind;
        private String xmlrpcToken;
        private boolean persistent = true;
        private org.p2psip.node.sip.SipOptions sip = org.p2psip.node.sip.SipOptions.disabled();
        private Entitlement entitlement = Entitlement.tofu();
        private org.p2psip.node.site.SiteOptions site = org.p2psip.node.site.SiteOptions.superpeer();
        private Integer stunPort;
        private InetSocketAddress stunServer;
        private Integer turnPort;
        private org.p2psip.node.site.TurnMode turnMode = org.p2psip.node.site.TurnMode.AUTO;
        private org.p2psip.node.links.LinkSecurity linkSecurity = org.p2psip.node.links.LinkSecurity.DTLS;
        private org.p2psip.node.links.LinkTurn linkTurn;

        /**
         * The TURN relay and account ICE links use for relayed candidates (where both NATs map per destination); none by
         * default (links are then direct or fail, and the overlay keeps reaching such peers through other nodes).
         */
        public Builder linkTurn(org.p2psip.node.links.LinkTurn turn) {
            this.linkTurn = turn;
            return this;
        }

        private Builder() { }

        /**
         * What protects the overlay links: {@link org.p2psip.node.links.LinkSecurity#DTLS} (the default: DTLS 1.2 on
         * every link, authenticated with the node key, and ICE links to superpeers behind NATs) or
         * {@link org.p2psip.node.links.LinkSecurity#NONE} (plain UDP, for labs and benchmarks). Every node of an
         * overlay, and of a site, needs the same.
         */
        public Builder linkSecurity(org.p2psip.node.links.LinkSecurity security) {
            this.linkSecurity = java.util.Objects.requireNonNull(security, "security");
            return this;
        }

        /**
         * The UDP port of the TURN relay a superpeer runs (RFC 8656; on the bind address, relaying on its advertised
         * address); default the overlay port + 5 (a free one when the overlay port is 0; skipped with a warning when
         * taken); 0 picks a free port; -1 runs none.
         */
        public Builder turnPort(int port) {
            if (port < -1 || port > 65_535) {
                throw new IllegalArgumentException("TURN port must be within 0..65535, or -1 to run none");
            }
            this.turnPort = port;
            return this;
        }

        /**
         * When a superpeer runs its TURN relay: {@link org.p2psip.node.site.TurnMode#AUTO} (the default) only when its
         * NAT discovery found no NAT or a port mapping, ON always, OFF never. Its users are the SIP accounts.
         */
        public Builder turn(org.p2psip.node.site.TurnMode mode) {
            this.turnMode = java.util.Objects.requireNonNull(mode, "mode");
            return this;
        }

        /**
         * The UDP port of the STUN server a superpeer runs (on the bind address), so peers behind NATs learn their
         * reflexive address and NAT behaviour; default the overlay port + 4 (a free one when the overlay port is 0;
         * skipped with a warning when taken); 0 picks a free port; -1 runs none. A site peer runs it while elected.
         */
        public Builder stunPort(int port) {
            if (port < -1 || port > 65_535) {
                throw new IllegalArgumentException("STUN port must be within 0..65535, or -1 to run none");
            }
            this.stunPort = port;
            return this;
        }

        /**
         * The STUN server a site peer discovers its NAT behaviour against (RFC 5780; announced to its site and shown by
         * status); default the first bootstrap node's host at its port + 4 (its default STUN port), none without one.
         */
        public Builder stunServer(InetSocketAddress server) {
            this.stunServer = server;
            return this;
        }

        /**
         * How the peer takes part in its site: {@link org.p2psip.node.site.SiteOptions#superpeer()} (the default: a
         * plain overlay node, no election), or role auto/leaf, where a {@link org.p2psip.superpeer.SitePeer} discovers
         * the LAN's peers, takes part in the election and, as a leaf, sends its DHT calls through its superpeer.
         */
        public Builder site(org.p2psip.node.site.SiteOptions options) {
            this.site = Objects.requireNonNull(options, "site");
            return this;
        }

        /**
         * Who may write a name: {@link Entitlement#tofu()} (the default, first key owns a name) or
         * {@link Entitlement#ca} with the overlay's trust anchors. Every peer of an overlay needs the same.
         */
        public Builder entitlement(Entitlement entitlement) {
            this.entitlement = Objects.requireNonNull(entitlement, "entitlement");
            return this;
        }

        /**
         * The XML-RPC gateway's TCP port (OpenDHT's and the draft's interface, {@code POST /RPC2}); default the
         * overlay port + 2 (4224 when the overlay port is 0); 0 picks a free port; -1 disables the gateway.
         */
        public Builder xmlrpcPort(int port) {
            if (port < -1 || port > 65_535) {
                throw new IllegalArgumentException("XML-RPC port must be within 0..65535, or -1 to disable it");
            }
            this.xmlrpcPort = port;
            return this;
        }

        /**
         * The address the XML-RPC gateway binds; default 127.0.0.1. Any other than a loopback address needs
         * {@link #xmlrpcToken(String) a token}, or {@link Peer#start()} fails.
         */
        public Builder xmlrpcBind(InetAddress address) {
            this.xmlrpcBind = Objects.requireNonNull(address, "xmlrpcBind");
            return this;
        }

        /**
         * A bearer token every XML-RPC request must carry ({@code Authorization: Bearer <token>} or a
         * {@code token} query parameter); null or empty for none (then only loopback binds are allowed).
         */
        public Builder xmlrpcToken(String token) {
            this.xmlrpcToken = token;
            return this;
        }

        /**
         * The Prometheus metrics endpoint's TCP port on 127.0.0.1 ({@code GET /metrics}); default the overlay port + 3
         * (a free port when the overlay port is 0, see {@link Peer#metricsAddress()}); 0 picks a free port; -1 disables it.
         */
        public Builder metricsPort(int port) {
            if (port < -1 || port > 65_535) {
                throw new IllegalArgumentException("metrics port must be within 0..65535, or -1 to disable it");
            }
            this.metricsPort = port;
            return this;
        }

        /** Where the node key (and later the record store) lives; created, mode 700, if missing. */
        /**
         * Whether the peer keeps its share of the DHT on disk ({@code records.mv} in the data dir, the default), so
         * a restart keeps every record it held; false keeps it in memory only.
         */
        public Builder persistent(boolean persistent) {
            this.persistent = persistent;
            return this;
        }

        public Builder dataDir(Path dir) {
            this.dataDir = Objects.requireNonNull(dir, "dataDir");
            return this;
        }

        /** The address the overlay's UDP socket binds; default 0.0.0.0 (all interfaces). */
        public Builder bindAddress(InetAddress address) {
            this.bindAddress = Objects.requireNonNull(address, "bindAddress");
            return this;
        }

        /** The overlay's UDP port; default {@value Peer#DEFAULT_PORT}; 0 picks a free port. */
        public Builder port(int port) {
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException("port must be within 0..65535");
            }
            this.port = port;
            return this;
        }

        /**
         * Adds bootstrap nodes. Unresolved addresses (from {@link HostPort#parse}) are resolved at every join
         * attempt. Entries that point at this peer itself are skipped, so every peer of a deployment can
         * share one bootstrap list. With no bootstrap node (or only itself) the peer is the first node.
         */
        public Builder bootstrap(InetSocketAddress... nodes) {
            return bootstrap(List.of(nodes));
        }

        /** As {@link #bootstrap(InetSocketAddress...)}. */
        public Builder bootstrap(List<InetSocketAddress> nodes) {
            for (InetSocketAddress a : nodes) {
                this.bootstrap.add(Objects.requireNonNull(a, "bootstrap address"));
            }
            return this;
        }

        /** Overlay tuning; default {@link OverlayConfig#defaults()}. */
        public Builder config(OverlayConfig config) {
            this.config = Objects.requireNonNull(config, "config");
            return this;
        }

        /**
         * The TCP control port on 127.0.0.1; default the overlay port + 1 (4223 when the overlay port is 0);
         * 0 picks a free port; -1 disables the control port.
         */
        public Builder controlPort(int port) {
            if (port < -1 || port > 65_535) {
                throw new IllegalArgumentException("control port must be within 0..65535, or -1 to disable it");
            }
            this.controlPort = port;
            return this;
        }

        /** Wait between join attempts while no bootstrap node answers; default 5 s. */
        public Builder joinRetryMillis(long millis) {
            if (millis < 1) {
                throw new IllegalArgumentException("joinRetryMillis must be positive");
            }
            this.joinRetryMillis = millis;
            return this;
        }

        /** Uses these keys instead of the ones in the data directory (for tests and tools). */
        public Builder keys(NodeKeys keys) {
            this.keys = keys;
            return this;
        }

        /**
         * The SIP adapter's settings: port, domains and realm, accounts file. Default: disabled (embedded peers and
         * tests opt in; {@code p2psip run} enables it on port 5060). It starts on this peer's DHT after the join.
         */
        public Builder sip(org.p2psip.node.sip.SipOptions options) {
            this.sip = java.util.Objects.requireNonNull(options, "options");
            return this;
        }

        public Peer build() {
            return new Peer(this);
        }
    }

    private static InetAddress anyAddress() {
        try {
            return InetAddress.getByAddress("0.0.0.0", new byte[4]);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ lifecycle

    /**
     * Starts the peer: loads or creates its key, binds its sockets, starts the overlay node and joins.
     * May be called once.
     *
     * @return a future that completes with this peer once it has joined the overlay (at once when it has
     *         no bootstrap node), and fails if it cannot start or is closed before it joins
     */
    /**
     * Opens the on-disk record store. Its TOFU name claims live in the same file, so a name's first owner stays
     * its owner across restarts.
     */
    private RecordStore openRecords() {
        RecordStore.Options o = new RecordStore.Options(config.storeMaxBytes(), config.storeMaxBytesPerSource(),
                config.maxValuesPerKey(), config.maxTtlMillis(), true, 16);
        return RecordStore.open(dataDir.resolve(RECORDS_FILE), o,
                rs -> new PeerPolicy(DraftPolicy.of(entitlement.policy(rs.nameOwners(), signedHere))));
    }

    public CompletableFuture<Peer> start() {
        synchronized (lock) {
            if (started || closed) {
                return CompletableFuture.failedFuture(new IllegalStateException(
                        closed ? "this peer is closed" : "this peer was already started"));
            }
            started = true;
        }
        startedAtMillis = System.currentTimeMillis();
        try {
            NodeKeys.createDirectory(dataDir);
            lockDataDir();
            if (keys == null) {
                keys = NodeKeys.loadOrCreate(dataDir);
            }
            if (persistent) {
                records = openRecords();
            }
        } catch (IOException | RuntimeException e) {
            joined.completeExceptionally(e);
            close();
            return joined;
        }
        group = UdpLinkLayer.newEventLoopGroup(1);
        InetSocketAddress udp = new InetSocketAddress(bindAddress, port);
        org.p2psip.node.site.NodeStun nodeStun = org.p2psip.node.site.NodeStun.of(stunPort, port, bootstrap, stunServer);
        org.p2psip.node.site.NodeTurn nodeTurn;
        try {
            nodeTurn = org.p2psip.node.site.NodeTurn.of(turnPort, port, turnMode, sipOptions, dataDir);
        } catch (IOException e) {
            joined.completeExceptionally(e);
            close();
            return joined;
        }
        if (!siteOptions.siteMode()) {
            if (nodeStun.server() != null) {
                nodeStun.discover(bindAddress).thenAccept(f -> {
                    plainNat = f.nat();
                    plainReflexive = f.reflexive();
                    LOG.info("node {}: NAT {} (discovered against {}{})", keys.id().shortHex(),
                            org.p2psip.node.site.StatusLines.nat(f.nat()), HostPort.format(nodeStun.server()),
                            f.note().isEmpty() ? "" : ": " + f.note());
                    if (nodeTurn.mode() == org.p2psip.node.site.TurnMode.AUTO) {
                        startPlainTurn(nodeTurn);
                    }
                });
            }
            try {
                stun = nodeStun.startServer(bindAddress, group, keys.id().shortHex());
                if (nodeTurn.mode() == org.p2psip.node.site.TurnMode.ON) {
                    turn = nodeTurn.start(bindAddress,
                            org.p2psip.node.site.SiteWiring.announcedAddress(bindAddress), keys.id().shortHex(),
                            relayGrants::credentials);
                }
            } catch (IllegalStateException e) {
                joined.completeExceptionally(e);
                close();
                return joined;
            }
        }
        org.p2psip.nat.ice.IceConfig ice = org.p2psip.node.links.NodeLinks.iceConfig(nodeStun.server(),
                linkTurn == null ? null : linkTurn.resolve(bootstrap, port));
        CompletableFuture<Void> core = siteOptions.siteMode() ? startSite(udp, nodeStun, nodeTurn, ice)
                : org.p2psip.node.links.NodeLinks.start(linkSecurity, group, udp,
                        new java.security.KeyPair(keys.publicKey(), keys.privateKey()), config.maxDatagramBytes(), ice,
                        link -> new OverlayNode(keys.id(), link, config, newStore(), new WireCodec(), new SecureRandom())
                                .checkValuesOn(recordChecks).start()).thenAccept(l -> {
                    synchronized (lock) {
                        if (closed) {
                            l.close();
                            throw new CancellationException("the peer was closed while starting");
                        }
                        links = l;
                        node = l.node();
                    }
                    manageLinks(l);
                });
        core.thenCompose(x -> {
            if (controlPort < 0) {
                return CompletableFuture.completedFuture(null);
            }
            return ControlServer.bind(group, controlPort, new ControlService(this)).thenAccept(c -> {
                synchronized (lock) {
                    control = c;
                    if (closed) {
                        c.close();
                    }
                }
            });
        }).thenCompose(x -> {
            if (xmlrpcPort < 0) {
                return CompletableFuture.completedFuture(null);
            }
            return XmlRpcServer.bind(group, new InetSocketAddress(xmlrpcBind, xmlrpcPort), xmlrpcToken,
                    new GatewayMethods(dht(), keys.signingIdentity(), hostRegistration)).thenAccept(s -> {
                synchronized (lock) {
                    xmlrpc = s;
                    if (closed) {
                        s.close();
                    }
                }
            });
        }).thenCompose(x -> {
            metrics = new PeerMetrics(this::currentOverlay).links(this::links);
            if (site != null) {
                site.observer(metrics);
            } else {
                org.p2psip.node.links.NodeLinks nl = links;
                node.observer(nl != null ? nl.observer(metrics, group) : metrics);
            }
            if (metricsPort < 0) {
                return CompletableFuture.completedFuture(null);
            }
            return MetricsServer.bind(group, new InetSocketAddress(ControlServer.loopback(), metricsPort), metrics)
                    .thenAccept(m -> {
                        synchronized (lock) {
                            metricsServer = m;
                            if (closed) {
                                m.close();
                            }
                        }
                    });
        }).whenComplete((x, e) -> {
            if (e != null) {
                Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                        ? e.getCause() : e;
                joined.completeExceptionally(cause);
                close();
                return;
            }
            logStarted();
            overlayLinks = org.p2psip.node.event.OverlayLinkWatch.start(group, this::currentOverlay, events::publish,
                    OVERLAY_LINK_WATCH_MILLIS);
            serviceAds = new org.p2psip.node.site.ServiceAds(dht(), keys.signingIdentity(), this::serviceHosts,
                    this::isJoined, hostRegistration, group, keys.id().shortHex(), SERVICE_CHECK_MILLIS);
            if (site != null) {
                site.ready().thenRun(() -> {
                    if (!closed && startSip()) {
                        joined.complete(this);
                    }
                });
            } else {
                attemptJoin(1);
            }
        });
        return joined;
    }

    /** The store of this peer's share of the DHT: on disk, or in memory with the entitlement's policy. */
    private org.p2psip.overlay.store.LocalStore newStore() {
        if (records != null) {
            return new PersistentLocalStore(records);
        }
        return new org.p2psip.overlay.store.ValueStore(new PeerPolicy(DraftPolicy.of(entitlement.policy(NameOwners.inMemory(),
                signedHere))),
                config.storeMaxBytes(), config.storeMaxBytesPerSource(), config.maxValuesPerKey(), config.maxTtlMillis());
    }

    /**
     * What a superpeer adds to the links of its overlay node, a plain superpeer's for its life and a site peer's for
     * each term as superpeer: grants of its TURN relay to other superpeers' ICE links, and with no {@code --link-turn-*}
     * a relay for its own from the service directory.
     */
    private void manageLinks(org.p2psip.node.links.NodeLinks l) {
        relayGrants.serve(l.node(), () -> turnAddress() != null);
        if (linkTurn == null) { // no --link-turn-*: a relay from the service directory
            l.useDirectoryRelay(() -> services().hosts(org.p2psip.storage.Namespaces.P2P_SIP),
                    () -> turnAddress() != null, group);
        }
    }

    /** Site mode: a site peer in place of the plain overlay node (see {@link org.p2psip.node.site.SiteWiring}). */
    private CompletableFuture<Void> startSite(InetSocketAddress udp, org.p2psip.node.site.NodeStun nodeStun,
                                              org.p2psip.node.site.NodeTurn nodeTurn, org.p2psip.nat.ice.IceConfig ice) {
        try {
            org.p2psip.node.site.SiteWiring w = org.p2psip.node.site.SiteWiring.start(siteOptions, keys.id(),
                    new java.security.KeyPair(keys.publicKey(), keys.privateKey()), udp, bootstrap, config, group,
                    this::newStore, events::publish, nodeStun, nodeTurn, new org.p2psip.node.site.SiteWiring.LinkSetup(
                            linkSecurity, linkSecurity == org.p2psip.node.links.LinkSecurity.DTLS ? ice : null,
                            this::manageLinks, relayGrants::credentials), recordChecks);
            synchronized (lock) {
                site = w;
                if (closed) {
                    throw new CancellationException("the peer was closed while starting");
                }
            }
            return CompletableFuture.completedFuture(null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(e);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The overlay node serving now: the plain one, or a site peer's while it is a superpeer; null as a leaf. */
    private OverlayNode currentOverlay() {
        org.p2psip.node.site.SiteWiring w = site;
        return w != null ? w.overlayNode() : node;
    }

    private void lockDataDir() throws IOException {
        Path file = dataDir.resolve(LOCK_FILE);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            l = null;
        }
        if (l == null) {
            ch.close();
            throw new IOException("another p2psip peer is using the data directory " + dataDir + " (" + file
                    + " is locked); stop it or choose another --data-dir");
        }
        ch.truncate(0);
        ch.write(java.nio.ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)));
        lockChannel = ch;
        fileLock = l;
    }

    private void logStarted() {
        InetSocketAddress udp = overlayAddress();
        StringBuilder sb = new StringBuilder();
        sb.append("node ").append(keys.id().toHex()).append(" listening on UDP ").append(HostPort.format(udp));
        if (udp.getAddress().isAnyLocalAddress()) {
            List<String> addrs = interfaceAddresses();
            if (!addrs.isEmpty()) {
                sb.append(" (").append(addrs.stream().map(a -> a + ":" + udp.getPort()).collect(Collectors.joining(", ")))
                        .append(")");
            }
        }
        ControlServer c = control;
        if (c != null) {
            sb.append("; control port TCP ").append(HostPort.format(c.localAddress()));
        }
        MetricsServer m = metricsServer;
        if (m != null) {
            sb.append("; metrics http://").append(HostPort.format(m.localAddress())).append(MetricsServer.PATH);
        }
        XmlRpcServer x = xmlrpc;
        if (x != null) {
            sb.append("; XML-RPC gateway http://").append(HostPort.format(x.localAddress())).append("/RPC2");
            if (xmlrpcToken != null) {
                sb.append(" (token required)");
            }
        }
        sb.append("; data dir ").append(dataDir);
        sb.append("; entitlement ").append(entitlement);
        LOG.info(sb.toString());
    }

    private static List<String> interfaceAddresses() {
        List<String> out = new ArrayList<>();
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!ni.isUp() || ni.isLoopback()) {
                    continue;
                }
                for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                    if (a instanceof java.net.Inet4Address) {
                        out.add(a.getHostAddress());
                    } else if (!a.isLinkLocalAddress()) {
                        out.add("[" + HostPort.address(a) + "]");
                    }
                }
            }
        } catch (SocketException e) {
            LOG.debug("cannot list the network interfaces: {}", e.toString());
        }
        return out;
    }

    private void attemptJoin(int attempt) {
        if (closed) {
            return;
        }
        List<InetSocketAddress> targets = resolveBootstrap();
        if (targets == null) {
            if (attempt <= 3 || attempt % 12 == 0) {
                LOG.warn("node {}: none of the bootstrap nodes {} resolves to an address; retrying every {} s (attempt {})",
                        keys.id().shortHex(), HostPort.format(bootstrap), joinRetryMillis / 1000.0, attempt);
            }
            schedule(() -> attemptJoin(attempt + 1), joinRetryMillis);
            return;
        }
        if (targets.isEmpty()) {
            LOG.info("node {}: no bootstrap node to join; this is the first node of a new overlay", keys.id().shortHex());
        } else if (attempt == 1) {
            LOG.info("node {}: joining through {}", keys.id().shortHex(), HostPort.format(targets));
        }
        node.join(targets).whenComplete((n, e) -> {
            if (closed) {
                return;
            }
            if (e != null) {
                Throwable c = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
                if (attempt <= 3 || attempt % 12 == 0) {
                    LOG.warn("node {}: join attempt {} failed: {}; retrying every {} s", keys.id().shortHex(), attempt,
                            c.getMessage(), joinRetryMillis / 1000.0);
                }
                schedule(() -> attemptJoin(attempt + 1), joinRetryMillis);
                return;
            }
            if (!targets.isEmpty()) {
                LOG.info("node {} joined the overlay: {} neighbours", keys.id().shortHex(), n);
            }
            synchronized (lock) {
                lastNeighbours = n;
            }
            schedule(this::monitor, MONITOR_MILLIS);
            if (!startSip()) {
                return;
            }
            joined.complete(this);
        });
    }

    /** Starts the SIP adapter if enabled; on failure fails the start and closes the peer (false). */
    private boolean startSip() {
        if (!sipOptions.enabled()) {
            return true;
        }
        try {
            // SIP to peers behind other sites' NATs goes over the overlay (a leaf's through its superpeer)
            org.p2psip.node.sip.NodeSipLocation where = new org.p2psip.node.sip.NodeSipLocation(keys.id(),
                    this::currentOverlay, () -> site, () -> plainNat, () -> plainReflexive);
            where.sipPort(sipOptions.port());
            org.p2psip.sip.SipPeer s = org.p2psip.node.sip.NodeSip.start(sipOptions, bindAddress, dataDir, dht(),
                    new org.p2psip.sip.overlay.RoutedSipOverlay(this::currentOverlay, where), signedHere);
            where.sipPort(s.localAddress().getPort());
            events.add(ev -> { // a new role or superpeer: the contact records name the new location
                if (!(ev instanceof org.p2psip.node.event.PeerEvent.LinkDown)) {
                    s.locationChanged();
                }
            });
            synchronized (lock) {
                if (closed) {
                    s.close();
                    return false;
                }
                sip = s;
                if (metrics != null) {
                    org.p2psip.node.metrics.SipMetrics.register(metrics.registry(), s); // SIP transactions, drops
                }
            }
            return true;
        } catch (IOException | RuntimeException e) {
            joined.completeExceptionally(e);
            close();
            return false;
        }
    }

    /** Logs neighbour-count changes and re-joins when a peer with bootstrap nodes has lost every neighbour. */
    private void monitor() {
        if (closed) {
            return;
        }
        node.status().whenComplete((s, e) -> {
            if (closed) {
                return;
            }
            if (s != null) {
                int before;
                synchronized (lock) {
                    before = lastNeighbours;
                    lastNeighbours = s.neighbours();
                }
                if (before != s.neighbours()) {
                    LOG.info("node {}: {} neighbours (was {}), {} values stored", keys.id().shortHex(), s.neighbours(),
                            before, s.values());
                }
                List<InetSocketAddress> targets = s.neighbours() == 0 ? resolveBootstrap() : null;
                if (targets != null && !targets.isEmpty()) {
                    LOG.warn("node {}: lost every neighbour; joining again through {}", keys.id().shortHex(),
                            HostPort.format(targets));
                    node.join(targets).exceptionally(x -> null);
                }
            }
            schedule(this::monitor, MONITOR_MILLIS);
        });
    }

    private void schedule(Runnable task, long delayMillis) {
        synchronized (lock) {
            if (closed) {
                return;
            }
            timer = group.next().schedule(task, delayMillis, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * The bootstrap nodes resolved now, without this peer itself; null when there are bootstrap nodes but
     * none resolves; empty when there are none besides this peer.
     */
    private List<InetSocketAddress> resolveBootstrap() {
        List<InetSocketAddress> out = new ArrayList<>();
        boolean any = false;
        for (InetSocketAddress a : bootstrap) {
            InetSocketAddress r = a.isUnresolved() ? new InetSocketAddress(a.getHostString(), a.getPort()) : a;
            if (r.isUnresolved()) {
                LOG.debug("cannot resolve bootstrap node {}", a.getHostString());
                continue;
            }
            any = true;
            if (!isSelf(r)) {
                out.add(r);
            }
        }
        return !bootstrap.isEmpty() && !any ? null : out;
    }

    private boolean isSelf(InetSocketAddress a) {
        InetSocketAddress local = node.contact().address();
        if (a.getPort() != local.getPort()) {
            return false;
        }
        InetAddress addr = a.getAddress();
        if (!local.getAddress().isAnyLocalAddress()) {
            return addr.equals(local.getAddress());
        }
        if (addr.isAnyLocalAddress() || addr.isLoopbackAddress()) {
            return true;
        }
        try {
            return NetworkInterface.getByInetAddress(addr) != null;
        } catch (SocketException e) {
            return false;
        }
    }

    /**
     * Stops the peer: the control port, the overlay node, its sockets and threads, and releases the data
     * directory. Idempotent. Values it stored live on at their other replicas.
     */
    @Override
    public void close() {
        ScheduledFuture<?> t;
        ControlServer c;
        XmlRpcServer x;
        MetricsServer ms;
        OverlayNode n;
        org.p2psip.node.site.SiteWiring sw;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            t = timer;
            c = control;
            x = xmlrpc;
            ms = metricsServer;
            n = node;
            sw = site;
        }
        if (t != null) {
            t.cancel(false);
        }
        org.p2psip.node.event.OverlayLinkWatch olw = overlayLinks;
        if (olw != null) {
            olw.close();
        }
        org.p2psip.node.site.ServiceAds ads = serviceAds;
        if (ads != null) {
            ads.close();
            EventLoopGroup g0 = group;
            if (g0 != null && !g0.next().inEventLoop()) {
                ads.withdraw(3_000); // best effort: peers would otherwise be sent to a stopped STUN server for an hour
            }
        }
        org.p2psip.sip.SipPeer sp = sip;
        if (sp != null) {
            try {
                sp.close();
            } catch (RuntimeException e) {
                LOG.debug("closing the SIP adapter: {}", e.toString());
            }
        }
        if (c != null) {
            try {
                c.close();
            } catch (RuntimeException e) {
                LOG.debug("closing the control port: {}", e.toString());
            }
        }
        if (x != null) {
            try {
                x.close();
            } catch (RuntimeException e) {
                LOG.debug("closing the XML-RPC gateway: {}", e.toString());
            }
        }
        if (ms != null) {
            try {
                ms.close();
            } catch (RuntimeException e) {
                LOG.debug("closing the metrics endpoint: {}", e.toString());
            }
        }
        org.p2psip.node.links.NodeLinks nl = links;
        if (nl != null) {
            nl.close();
        } else if (n != null) {
            n.close();
        }
        org.p2psip.nat.turn.TurnServer tu;
        synchronized (lock) {
            tu = turn;
            turn = null;
        }
        if (tu != null) {
            try {
                tu.close();
            } catch (RuntimeException e) {
                LOG.debug("closing the TURN server: {}", e.toString());
            }
        }
        org.p2psip.nat.stun.StunServer st = stun;
        if (st != null) {
            try {
                st.close();
            } catch (RuntimeException e) {
                LOG.debug("closing the STUN server: {}", e.toString());
            }
        }
        if (sw != null) {
            try {
                sw.close();
            } catch (RuntimeException e) {
                LOG.warn("stopping the site peer: {}", e.toString());
            }
        }
        events.close();
        recordChecks.shutdownNow(); // requests still waiting are checked on the node's thread, or dropped with it
        RecordStore r = records;
        if (r != null) {
            try {
                r.close();
            } catch (RuntimeException e) {
                LOG.warn("closing the record store {}: {}", dataDir.resolve(RECORDS_FILE), e.toString());
            }
        }
        EventLoopGroup g = group;
        if (g != null && !g.isShuttingDown()) {
            var f = g.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            if (!g.next().inEventLoop()) {
                f.awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
        }
        try {
            if (fileLock != null) {
                fileLock.release();
            }
            if (lockChannel != null) {
                lockChannel.close();
            }
        } catch (IOException e) {
            LOG.debug("releasing {}: {}", LOCK_FILE, e.toString());
        }
        joined.completeExceptionally(new CancellationException("the peer was closed before it joined the overlay"));
        if (n != null || sw != null) {
            LOG.info("node {} stopped", keys.id().shortHex());
        }
    }

    // ------------------------------------------------------------------ accessors

    /** The node id: SHA-1 of the raw Ed25519 public key; available once {@link #start()} has loaded the key. */
    public NodeId id() {
        return keys().id();
    }

    /** The node's key pair; available once {@link #start()} has loaded it. */
    public NodeKeys keys() {
        NodeKeys k = keys;
        if (k == null) {
            throw new IllegalStateException("the peer has not loaded its key yet; call start() first");
        }
        return k;
    }

    /**
     * The DHT this peer serves and uses; available once the overlay node (or in site mode the site peer) runs, before
     * it has joined. In site mode it is the same API whatever the role: a leaf's calls go through its superpeer.
     */
    public Dht dht() {
        org.p2psip.node.site.SiteWiring w = site;
        if (w != null) {
            return w.peer();
        }
        return overlay();
    }

    /**
     * The overlay node itself, for tools that need more than the {@link Dht} API. In site mode: the node of the
     * site peer while it is a superpeer; a leaf has none (IllegalStateException).
     */
    public OverlayNode overlay() {
        org.p2psip.node.site.SiteWiring w = site;
        OverlayNode n = w != null ? w.overlayNode() : node;
        if (n == null) {
            throw new IllegalStateException(closed ? "the peer is closed" : w != null
                    ? "the peer is a " + w.peer().role().name().toLowerCase(java.util.Locale.ROOT)
                    + " of its site and runs no overlay node; use dht()" : "the peer is not started yet");
        }
        return n;
    }

    /** In site mode (role auto or leaf): role, site, superpeers, links or leaves, NAT; null otherwise or before start. */
    public org.p2psip.superpeer.SiteStatus siteStatus() {
        org.p2psip.node.site.SiteWiring w = site;
        return w == null || w.peer() == null ? null : w.status();
    }

    /** A plain superpeer's NAT behaviour, discovered at start against its bootstrap's STUN server (else unknown). */
    public org.p2psip.superpeer.discovery.NatInfo plainNat() {
        return plainNat;
    }

    /**
     * The address STUN discovery saw this peer's requests come from (its NAT's public address when behind one), or
     * null when not discovered; the port is the discovery socket's mapping, not the overlay port's.
     */
    public InetSocketAddress reflexiveAddress() {
        org.p2psip.node.site.SiteWiring w = site;
        return w != null ? w.reflexive() : plainReflexive;
    }

    /** The site settings this peer was built with. */
    public org.p2psip.node.site.SiteOptions siteOptions() {
        return siteOptions;
    }

    /**
     * Adds a listener for role and link events ({@link org.p2psip.node.event.PeerEvent}); they are delivered in order
     * on the peer's event thread. Add it before {@link #start()} to see every event.
     */
    public void addListener(org.p2psip.node.event.PeerListener listener) {
        events.add(listener);
    }

    /** Removes a listener added with {@link #addListener}. */
    public void removeListener(org.p2psip.node.event.PeerListener listener) {
        events.remove(listener);
    }

    /** The running SIP adapter, or null when SIP is disabled or not started yet (it starts after the join). */
    public org.p2psip.sip.SipPeer sip() {
        return sip;
    }

    /** A snapshot of the overlay node: id, address, neighbours, store. */
    public CompletableFuture<NodeStatus> status() {
        OverlayNode n = currentOverlay();
        return n == null
                ? CompletableFuture.failedFuture(new IllegalStateException(site != null
                        ? "the peer is not a superpeer now and runs no overlay node; see siteStatus()"
                        : "the peer is not started yet"))
                : n.status();
    }

    /** The overlay's bound UDP address (0.0.0.0 when bound to all interfaces), or null before it is bound. */
    public InetSocketAddress overlayAddress() {
        org.p2psip.node.site.SiteWiring w = site;
        if (w != null) {
            return w.peer() == null ? null : w.address();
        }
        OverlayNode n = node;
        return n == null ? null : n.contact().address();
    }

    /** The STUN server's bound address (a site peer's only while it is a superpeer), or null when it runs none. */
    public InetSocketAddress stunAddress() {
        org.p2psip.node.site.SiteWiring w = site;
        if (w != null) {
            return w.stunAddress();
        }
        org.p2psip.nat.stun.StunServer s = stun;
        return s == null ? null : s.primaryAddress();
    }

    /** The TURN server's bound address (a site peer's only while it is a superpeer), or null when it runs none. */
    public InetSocketAddress turnAddress() {
        org.p2psip.node.site.SiteWiring w = site;
        if (w != null) {
            return w.turnAddress();
        }
        org.p2psip.nat.turn.TurnServer t = turn;
        return t == null ? null : t.listenAddress();
    }

    /** A plain superpeer with {@code --turn auto} whose NAT discovery found it publicly reachable starts its relay. */
    private void startPlainTurn(org.p2psip.node.site.NodeTurn nodeTurn) {
        if (!nodeTurn.runs(plainNat) || closed) {
            if (!closed && nodeTurn.port() >= 0) {
                LOG.info("node {}: no TURN server: not publicly reachable (NAT {}); --turn on runs one anyway",
                        keys.id().shortHex(), org.p2psip.node.site.StatusLines.nat(plainNat));
            }
            return;
        }
        org.p2psip.nat.turn.TurnServer t;
        try {
            t = nodeTurn.start(bindAddress, org.p2psip.node.site.SiteWiring.announcedAddress(bindAddress),
                    keys.id().shortHex(), relayGrants::credentials);
        } catch (IllegalStateException e) {
            LOG.error("node {}: {}", keys.id().shortHex(), e.getMessage());
            return;
        }
        synchronized (lock) {
            if (!closed) {
                turn = t;
                return;
            }
        }
        if (t != null) {
            t.close();
        }
    }

    /**
     * The services this peer advertises now: its STUN and TURN servers, and its SIP adapter as {@code presence}
     * (the sip-adapter's presence agent) while it is a superpeer. Addresses are those others reach (a wildcard
     * bind gives the announced address).
     */
    private List<org.p2psip.storage.DhtService.ServiceHost> serviceHosts() {
        InetAddress ip = org.p2psip.node.site.SiteWiring.announcedAddress(bindAddress);
        List<org.p2psip.storage.DhtService.ServiceHost> out = new ArrayList<>();
        InetSocketAddress s = stunAddress();
        if (s != null) {
            out.add(new org.p2psip.storage.DhtService.ServiceHost("stun",
                    org.p2psip.node.site.ServiceAds.stunUri(org.p2psip.node.site.ServiceAds.reach(s, ip)), null));
        }
        InetSocketAddress t = turnAddress();
        if (t != null) {
            // Id: this node's overlay id, where superpeers' ICE links ask for a grant (RelayGrants)
            out.add(new org.p2psip.storage.DhtService.ServiceHost("turn",
                    org.p2psip.node.site.NodeTurn.uri(org.p2psip.node.site.ServiceAds.reach(t, ip)),
                    org.p2psip.node.links.DirectoryRelay.serviceHostId(keys.id())));
        }
        org.p2psip.sip.SipPeer sp = sip;
        org.p2psip.node.site.SiteWiring w = site;
        boolean superpeer = w == null || (w.peer() != null
                && w.peer().role() == org.p2psip.superpeer.discovery.Role.SUPERPEER);
        if (sp != null && superpeer) {
            out.add(new org.p2psip.storage.DhtService.ServiceHost("presence",
                    org.p2psip.node.site.ServiceAds.sipUri(org.p2psip.node.site.ServiceAds.reach(sp.localAddress(), ip)),
                    null));
        }
        return out;
    }

    /**
     * The draft's service directory (namespace {@code p2p-sip}: superpeers advertise their STUN server there) on this
     * peer's DHT: a leaf's lookups go through its superpeer.
     */
    public org.p2psip.storage.api.ServiceDirectory services() {
        return new org.p2psip.storage.api.ServiceDirectory(new org.p2psip.storage.api.DraftDht(dht()));
    }

    /** The control port's address on 127.0.0.1, or null when it is disabled or not bound yet. */
    public InetSocketAddress controlAddress() {
        ControlServer c = control;
        return c == null ? null : c.localAddress();
    }

    /** The XML-RPC gateway's bound address, or null when it is disabled or not bound yet. */
    public InetSocketAddress xmlrpcAddress() {
        XmlRpcServer x = xmlrpc;
        return x == null ? null : x.localAddress();
    }

    /** The metrics endpoint's address on 127.0.0.1, or null when it is disabled or not bound yet. */
    public InetSocketAddress metricsAddress() {
        MetricsServer m = metricsServer;
        return m == null ? null : m.localAddress();
    }

    /**
     * The serving overlay node's open links by kind (direct, ICE, relayed): a plain superpeer's, or a site peer's while
     * elected (its direct DTLS sessions include its leaves'); over plain UDP the overlay's link table counts as direct.
     */
    public CompletableFuture<org.p2psip.node.links.LinkCounts> linkCounts() {
        org.p2psip.node.links.NodeLinks nl = links();
        OverlayNode n = currentOverlay();
        if (n == null) {
            return CompletableFuture.completedFuture(org.p2psip.node.links.LinkCounts.NONE);
        }
        return n.status().thenApply(s -> nl != null ? nl.counts(s.links())
                : new org.p2psip.node.links.LinkCounts(s.links(), 0, 0));
    }

    /**
     * The counters of the DTLS layer under the overlay, a plain superpeer's or a site peer's; null over plain UDP or
     * before start.
     */
    public org.p2psip.nat.dtls.DtlsStats linkStats() {
        org.p2psip.node.links.NodeLinks nl = links();
        if (nl != null) {
            return nl.dtlsStats();
        }
        org.p2psip.node.site.SiteWiring w = site;
        org.p2psip.superpeer.SitePeer sp = w == null ? null : w.peer();
        return sp != null && sp.link() instanceof org.p2psip.nat.dtls.DtlsLinkLayer d ? d.stats() : null;
    }

    /**
     * The overlay links of the node serving now: a plain superpeer's, or a site peer's while it is elected (null as a
     * leaf, and before start): the DTLS layer, ICE links, the attacher.
     */
    public org.p2psip.node.links.NodeLinks links() {
        org.p2psip.node.links.NodeLinks nl = links;
        if (nl != null) {
            return nl;
        }
        org.p2psip.node.site.SiteWiring w = site;
        return w == null ? null : w.links();
    }

    /** What protects the overlay links ({@code --link-security}). */
    public org.p2psip.node.links.LinkSecurity linkSecurity() {
        return linkSecurity;
    }

    /** The peer's metrics (Prometheus registry and text), once the overlay node runs; null before. */
    public PeerMetrics metrics() {
        return metrics;
    }

    /** Whether the peer has joined the overlay. */
    public boolean isJoined() {
        return joined.isDone() && !joined.isCompletedExceptionally();
    }

    /** Milliseconds since {@link #start()}. */
    public long uptimeMillis() {
        return started ? System.currentTimeMillis() - startedAtMillis : 0;
    }

    public Path dataDir() {
        return dataDir;
    }

    public OverlayConfig config() {
        return config;
    }
}
