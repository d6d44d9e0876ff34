package org.p2psip.node.site;

import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.p2psip.node.HostPort;
import org.p2psip.overlay.Dht;
import org.p2psip.storage.DhtService;
import org.p2psip.storage.Namespaces;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.api.DraftDht;
import org.p2psip.storage.api.ServiceDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Advertises the STUN server a superpeer runs through the draft's service interface: a {@code join} of namespace
 * {@code p2p-sip} with {@code <serviceHost service="stun">stun:HOST:PORT</serviceHost>}, signed with the node key
 * ({@link ServiceDirectory}), renewed every half {@link #REGISTRATION}, and a {@code leave} when the peer stops
 * running one (a site peer unseated). Any peer, a leaf through its superpeer, finds it with
 * {@link ServiceDirectory#hosts} or {@code lookup}. It checks every few seconds, so it follows role changes.
 *
 * <p>The registration has the node key's nonce, as the XML-RPC gateway's {@code join} does: a node that also joins
 * through its own gateway replaces one registration with the other.
 */
public final class ServiceAds implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceAds.class);
    /** How long a registration stays listed unless renewed. */
    public static final Duration REGISTRATION = Duration.ofHours(1);

    private final ServiceDirectory directory;
    private final SigningIdentity host;
    private final Supplier<InetSocketAddress> stun;
    private final BooleanSupplier serving;
    private final InetAddress advertisedIp;
    private final String name;
    private final ScheduledFuture<?> task;
    private InetSocketAddress advertised;
    private Instant renewAt;
    private Instant lastExpiry;
    private boolean busy;
    private volatile boolean closed;

    /**
     * @param dht          where registrations go (the peer's, whatever its role)
     * @param stun         the STUN server's bound address now, or null when it runs none
     * @param serving      whether the peer has joined and serves (registrations wait for it)
     * @param advertisedIp the address others reach the STUN server at (the bound one is a wildcard)
     */
    public ServiceAds(Dht dht, SigningIdentity host, Supplier<InetSocketAddress> stun, BooleanSupplier serving,
                      InetAddress advertisedIp, EventLoopGroup group, String name, long checkMillis) {
        this.directory = new ServiceDirectory(new DraftDht(dht));
        this.host = host;
        this.stun = stun;
        this.serving = serving;
        this.advertisedIp = advertisedIp;
        this.name = name;
        this.task = group.next().scheduleWithFixedDelay(this::check, checkMillis, checkMillis, TimeUnit.MILLISECONDS);
    }

    /** The STUN URI of a server at {@code a}, {@code stun:HOST:PORT} (RFC 7064). */
    public static String stunUri(InetSocketAddress a) {
        return "stun:" + HostPort.format(a);
    }

    private synchronized void check() {
        if (closed || busy) {
            return;
        }
        InetSocketAddress s = stun.get();
        InetSocketAddress reach = s == null ? null : new InetSocketAddress(
                s.getAddress().isAnyLocalAddress() ? advertisedIp : s.getAddress(), s.getPort());
        if (reach != null && serving.getAsBoolean()
                && (!reach.equals(advertised) || Instant.now().isAfter(renewAt))) {
            busy = true;
            Instant expires = nextExpiry();
            directory.join(Namespaces.P2P_SIP, List.of(new DhtService.ServiceHost("stun", stunUri(reach), null)), host,
                    expires).whenComplete((id, e) -> done(() -> {
                        if (e == null) {
                            if (!reach.equals(advertised)) {
                                LOG.info("node {}: advertises STUN {} in the p2p-sip service directory", name,
                                        stunUri(reach));
                            }
                            advertised = reach;
                            renewAt = Instant.now().plus(REGISTRATION.dividedBy(2));
                        } else {
                            LOG.warn("node {}: advertising STUN {} failed: {}; retrying", name, stunUri(reach),
                                    e.getMessage());
                        }
                    }));
        } else if (reach == null && advertised != null && serving.getAsBoolean()) {
            busy = true;
            directory.leave(Namespaces.P2P_SIP, host).whenComplete((r, e) -> done(() -> {
                if (e == null) {
                    LOG.info("node {}: no longer advertises STUN {}", name, stunUri(advertised));
                    advertised = null;
                } else {
                    LOG.warn("node {}: withdrawing STUN {} failed: {}; retrying", name, stunUri(advertised),
                            e.getMessage());
                }
            }));
        }
    }

    private synchronized void done(Runnable r) {
        busy = false;
        r.run();
    }

    /** now + {@link #REGISTRATION} in whole seconds, always after the previous one (a tombstone only yields to later). */
    private Instant nextExpiry() {
        Instant e = Instant.now().plus(REGISTRATION).truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
        if (lastExpiry != null && !e.isAfter(lastExpiry)) {
            e = lastExpiry.plusSeconds(1);
        }
        lastExpiry = e;
        return e;
    }

    /** Whether a registration is listed now, for tests and status. */
    public synchronized InetSocketAddress advertised() {
        return advertised;
    }

    /** Removes the registration, if any, waiting at most {@code millis}; for a graceful stop. Never throws. */
    public void withdraw(long millis) {
        InetSocketAddress a;
        synchronized (this) {
            a = advertised;
            advertised = null;
        }
        if (a == null) {
            return;
        }
        try {
            directory.leave(Namespaces.P2P_SIP, host).get(millis, TimeUnit.MILLISECONDS);
            LOG.info("node {}: no longer advertises STUN {} (stopping)", name, stunUri(a));
        } catch (Exception e) {
            LOG.info("node {}: withdrawing STUN {} did not finish ({}); it expires within {}", name, stunUri(a),
                    e.toString(), REGISTRATION);
        }
    }

    @Override
    public void close() {
        closed = true;
        task.cancel(false);
    }
}
