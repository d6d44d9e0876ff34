package org.p2psip.node.links;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.p2psip.nat.ice.IceLinks;
import org.p2psip.node.HostPort;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.route.RouteMode;
import org.p2psip.storage.DhtService;
import org.p2psip.storage.api.ServiceDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds a TURN relay for a superpeer's ICE links when none is configured ({@code --link-turn-*}): the service
 * directory lists superpeers that run one ({@code <serviceHost service="turn" Id="node-NODEID">turn:HOST:PORT?...},
 * see {@code ServiceAds}); this asks the first that answers for a grant ({@link RelayGrants}, a routed request to its node
 * id) and gives the relay and the grant to the node's {@link IceLinks}, for later setups in both roles. A grant is
 * renewed when less than {@link #RENEW_BEFORE_MILLIS} of it is left. Nothing happens while this node runs a relay
 * itself (it is publicly reachable, so others reach it without one).
 */
public final class DirectoryRelay {
    private static final Logger LOG = LoggerFactory.getLogger(DirectoryRelay.class);
    static final long RENEW_BEFORE_MILLIS = 3_600_000;
    private static final long ROUTE_TIMEOUT_MILLIS = 5_000;

    private final NodeId self;
    private final OverlayNode node;
    private final IceLinks ice;
    private final Supplier<CompletableFuture<List<ServiceDirectory.Registration>>> hosts;
    private final BooleanSupplier relaysItself;
    private volatile long validUntil;
    private volatile String relay;
    private CompletableFuture<Boolean> inFlight;
    private volatile boolean toldNone;

    /**
     * @param hosts        the service directory's registrations of namespace {@code p2p-sip}
     * @param relaysItself whether this node runs a TURN relay itself now
     */
    DirectoryRelay(OverlayNode node, IceLinks ice, Supplier<CompletableFuture<List<ServiceDirectory.Registration>>> hosts,
            BooleanSupplier relaysItself) {
        this.self = node.id();
        this.node = node;
        this.ice = ice;
        this.hosts = hosts;
        this.relaysItself = relaysItself;
    }

    /** How a relay's overlay node id is carried in its {@code serviceHost}'s {@code Id} (the schema's ID type, an NCName). */
    static final String ID_PREFIX = "node-";

    /** The {@code Id} of a relay's {@code serviceHost}: {@code node-} and its node id in hex. */
    public static String serviceHostId(NodeId id) {
        return ID_PREFIX + id.toHex();
    }

    /** The relay in use, {@code HOST:PORT (node HEX)}, or null while none was found. */
    public String relay() {
        return System.currentTimeMillis() < validUntil ? relay : null;
    }

    /**
     * Makes sure ICE has a relay from the directory: completes with true when it has one (found now or before), false
     * when the directory lists none that grants one, or this node relays itself. Never fails.
     */
    public synchronized CompletableFuture<Boolean> ensure() {
        if (System.currentTimeMillis() < validUntil - RENEW_BEFORE_MILLIS) {
            return CompletableFuture.completedFuture(true);
        }
        if (relaysItself.getAsBoolean()) {
            return CompletableFuture.completedFuture(false);
        }
        if (inFlight != null) {
            return inFlight;
        }
        CompletableFuture<Boolean> f = find().exceptionally(e -> {
            LOG.debug("node {}: no TURN relay from the service directory: {}", self.shortHex(), e.toString());
            return false;
        });
        inFlight = f;
        f.whenComplete((x, e) -> {
            synchronized (this) {
                inFlight = null;
            }
        });
        return f;
    }

    /** A relay listed in the directory: its node id and address. */
    record Candidate(NodeId id, InetSocketAddress address) { }

    private CompletableFuture<Boolean> find() {
        return hosts.get().thenCompose(regs -> {
            List<Candidate> found = new ArrayList<>();
            for (ServiceDirectory.Registration r : regs) {
                for (DhtService.ServiceHost h : r.hosts()) {
                    Candidate c = candidate(h);
                    if (c != null && !c.id().equals(self)) {
                        found.add(c);
                    }
                }
            }
            if (found.isEmpty()) {
                if (!toldNone) {
                    toldNone = true;
                    LOG.info("node {}: the service directory lists no TURN relay yet ({} registrations); ICE links go "
                            + "without one until a superpeer advertises one (checked again at growing intervals up to "
                            + "{} min)", self.shortHex(), regs.size(), NodeLinks.RELAY_CHECK_MAX_MILLIS / 60_000);
                }
                return CompletableFuture.completedFuture(false);
            }
            return ask(found, 0);
        });
    }

    /** A {@code turn} service host with a node id and a {@code turn:HOST:PORT} URI that resolves, else null. */
    static Candidate candidate(DhtService.ServiceHost h) {
        if (!"turn".equals(h.service()) || h.id() == null || !h.id().startsWith(ID_PREFIX) || !h.uri().startsWith("turn:")) {
            return null;
        }
        try {
            String hostPort = h.uri().substring(5);
            int q = hostPort.indexOf('?');
            if (q >= 0) {
                hostPort = hostPort.substring(0, q);
            }
            InetSocketAddress a = HostPort.parse(hostPort, 3478);
            if (a.isUnresolved()) {
                a = new InetSocketAddress(a.getHostString(), a.getPort());
            }
            return a.isUnresolved() ? null : new Candidate(NodeId.fromHex(h.id().substring(ID_PREFIX.length())), a);
        } catch (RuntimeException e) {
            return null; // a malformed entry: someone else's registration; skip it
        }
    }

    private CompletableFuture<Boolean> ask(List<Candidate> relays, int i) {
        if (i >= relays.size()) {
            return CompletableFuture.completedFuture(false);
        }
        Candidate c = relays.get(i);
        return node.route(c.id(), RelayGrants.APP, Bytes.EMPTY, RouteMode.EXACT, ROUTE_TIMEOUT_MILLIS)
                .thenApply(a -> {
                    LinkTurn grant = RelayGrants.parse(a.payload(), c.address());
                    long expiry = Long.parseLong(grant.user().substring(0, grant.user().indexOf(':'))) * 1000;
                    ice.config(ice.config().withTurn(c.address(), grant.user(), grant.password()));
                    relay = HostPort.format(c.address()) + " (node " + c.id().shortHex() + ")";
                    validUntil = expiry;
                    LOG.info("node {}: ICE links use the TURN relay at {}, found in the service directory (a grant "
                            + "valid until {})", self.shortHex(), relay, java.time.Instant.ofEpochMilli(expiry));
                    return true;
                })
                .exceptionallyCompose(e -> {
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    LOG.info("node {}: the TURN relay of node {} at {} granted no credential ({}); trying the next",
                            self.shortHex(), c.id().shortHex(), HostPort.format(c.address()), cause.getMessage());
                    return ask(relays, i + 1);
                });
    }
}
