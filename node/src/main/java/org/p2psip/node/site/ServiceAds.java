package org.p2psip.node.site;

import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
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
 * Advertises the services a superpeer runs through the draft's service interface, all in one registration: a
 * {@code join} of namespace {@code p2p-sip} with one {@code serviceHost} per service ({@code stun} =
 * {@code stun:HOST:PORT}, {@code turn} = {@code turn:HOST:PORT?transport=udp}, {@code presence} = the superpeer's SIP
 * URI {@code sip:HOST:PORT}), signed with the node key ({@link ServiceDirectory}), renewed every half
 * {@link #REGISTRATION}, joined again when the set changes, and a {@code leave} when the peer runs none any more (a
 * site peer unseated). Any peer, a leaf through its superpeer, finds them with {@link ServiceDirectory#hosts} or
 * {@code lookup}. It checks every few seconds, so it follows role changes.
 *
 * <p>The registration has the node key's nonce, as the XML-RPC gateway's {@code join} does; both share one
 * {@link HostRegistration}, so the later one always wins, and once a client joins or leaves through the gateway this
 * class stops advertising (the client owns the registration).
 */
public final class ServiceAds implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceAds.class);
    /** How long a registration stays listed unless renewed. */
    public static final Duration REGISTRATION = Duration.ofHours(1);

    private final ServiceDirectory directory;
    private final SigningIdentity host;
    private final Supplier<List<DhtService.ServiceHost>> services;
    private final BooleanSupplier serving;
    private final String name;
    private final HostRegistration registration;
    private final ScheduledFuture<?> task;
    private List<DhtService.ServiceHost> advertised;
    private Instant renewAt;
    private boolean busy;
    private volatile boolean closed;

    /**
     * @param dht      where registrations go (the peer's, whatever its role)
     * @param services the service hosts the peer runs now (empty when none), with addresses others reach
     * @param serving  whether the peer has joined and serves (registrations wait for it)
     * @param registration the host key's registration, shared with the XML-RPC gateway's join and leave
     */
    public ServiceAds(Dht dht, SigningIdentity host, Supplier<List<DhtService.ServiceHost>> services,
                      BooleanSupplier serving, HostRegistration registration, EventLoopGroup group, String name,
                      long checkMillis) {
        this.directory = new ServiceDirectory(new DraftDht(dht));
        this.host = host;
        this.services = services;
        this.serving = serving;
        this.name = name;
        this.registration = registration;
        this.task = group.next().scheduleWithFixedDelay(this::check, checkMillis, checkMillis, TimeUnit.MILLISECONDS);
    }

    /** The STUN URI of a server at {@code a}, {@code stun:HOST:PORT} (RFC 7064). */
    public static String stunUri(InetSocketAddress a) {
        return "stun:" + HostPort.format(a);
    }

    /** The presence agent's SIP URI at {@code a}, {@code sip:HOST:PORT}. */
    public static String sipUri(InetSocketAddress a) {
        return "sip:" + HostPort.format(a);
    }

    /** {@code bound}, with {@code advertisedIp} in place of a wildcard address: where others reach a server. */
    public static InetSocketAddress reach(InetSocketAddress bound, InetAddress advertisedIp) {
        return new InetSocketAddress(bound.getAddress().isAnyLocalAddress() ? advertisedIp : bound.getAddress(),
                bound.getPort());
    }

    private static String describe(List<DhtService.ServiceHost> hosts) {
        return String.join(", ", hosts.stream().map(h -> h.service() + " " + h.uri()).toList());
    }

    private synchronized void check() {
        if (closed || busy) {
            return;
        }
        if (!registration.automatic()) {
            if (advertised != null) {
                LOG.info("node {}: a client joined or left through the gateway; it now owns the service registration",
                        name);
                advertised = null;
            }
            return;
        }
        List<DhtService.ServiceHost> now;
        try {
            now = List.copyOf(services.get());
        } catch (RuntimeException e) {
            LOG.warn("node {}: cannot list the services to advertise: {}", name, e.toString());
            return;
        }
        if (!now.isEmpty() && serving.getAsBoolean()
                && (!now.equals(advertised) || Instant.now().isAfter(renewAt))) {
            busy = true;
            Instant expires = registration.nextExpiry(REGISTRATION);
            directory.join(Namespaces.P2P_SIP, now, host, expires).whenComplete((id, e) -> done(() -> {
                if (e == null) {
                    if (!now.equals(advertised)) {
                        LOG.info("node {}: advertises {} in the p2p-sip service directory", name, describe(now));
                    }
                    advertised = now;
                    renewAt = Instant.now().plus(REGISTRATION.dividedBy(2));
                } else {
                    LOG.warn("node {}: advertising {} failed: {}; retrying", name, describe(now), e.getMessage());
                }
            }));
        } else if (now.isEmpty() && advertised != null && serving.getAsBoolean()) {
            busy = true;
            directory.leave(Namespaces.P2P_SIP, host).whenComplete((r, e) -> done(() -> {
                if (e == null) {
                    LOG.info("node {}: no longer advertises {}", name, describe(advertised));
                    advertised = null;
                } else {
                    LOG.warn("node {}: withdrawing {} failed: {}; retrying", name, describe(advertised),
                            e.getMessage());
                }
            }));
        }
    }

    private synchronized void done(Runnable r) {
        busy = false;
        r.run();
    }

    /** The service hosts listed now (null when none), for tests and status. */
    public synchronized List<DhtService.ServiceHost> advertised() {
        return advertised;
    }

    /** Removes the registration, if any, waiting at most {@code millis}; for a graceful stop. Never throws. */
    public void withdraw(long millis) {
        List<DhtService.ServiceHost> a;
        synchronized (this) {
            a = advertised;
            advertised = null;
        }
        if (a == null || !registration.automatic()) { // a client's registration stays until it leaves or expires
            return;
        }
        try {
            directory.leave(Namespaces.P2P_SIP, host).get(millis, TimeUnit.MILLISECONDS);
            LOG.info("node {}: no longer advertises {} (stopping)", name, describe(a));
        } catch (Exception e) {
            LOG.info("node {}: withdrawing {} did not finish ({}); it expires within {}", name, describe(a),
                    e.toString(), REGISTRATION);
        }
    }

    @Override
    public void close() {
        closed = true;
        task.cancel(false);
    }
}
