package org.p2psip.nat.portmap;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the router for port mappings, trying PCP, then NAT-PMP, then UPnP-IGD (the order of
 * {@link PortMapConfig#methods}), keeps each mapping alive by renewing it at half its lifetime with the method that
 * made it, and deletes them all on {@link #close}.
 *
 * <pre>{@code
 * try (PortMapper mapper = PortMapper.create(PortMapConfig.defaults())) {
 *     Mapping m = mapper.map(Protocol.UDP, 5060, Duration.ofHours(1));
 *     advertise(m.external());
 *     mapper.onChange((old, now) -> advertise(now == null ? localAddress : now.external()));
 * }
 * }</pre>
 *
 * <p>A failed renewal is retried every eighth of the lifetime (at least every second) until the mapping expires; then
 * listeners hear that it is lost, and the mapper asks afresh with every method at the next retry.
 */
public final class PortMapper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PortMapper.class);

    /** Told when a mapping is renewed with another external address or port, lost ({@code now} null) or regained. */
    @FunctionalInterface
    public interface Listener {
        void changed(Mapping old, Mapping now);
    }

    private record Key(Protocol protocol, int port) {
    }

    private final class Entry {
        final Key key;
        final Duration wanted;
        volatile MappingClient client;
        volatile Mapping mapping;
        volatile long expiresAtNanos;
        ScheduledFuture<?> timer;

        Entry(Key key, Duration wanted) {
            this.key = key;
            this.wanted = wanted;
        }
    }

    private final InetAddress local;
    private final InetAddress router;
    private final List<MappingClient> clients;
    private final ScheduledExecutorService timers;
    private final Map<Key, Entry> entries = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    PortMapper(InetAddress router, InetAddress local, List<MappingClient> clients) {
        this.router = router;
        this.local = local;
        this.clients = List.copyOf(clients);
        this.timers = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "portmap-renew");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * A mapper for the configured router (or the default gateway) and local address (or the one facing the router).
     */
    public static PortMapper create(PortMapConfig config) throws PortMappingException {
        InetAddress router = config.router();
        if (router == null) {
            router = Gateways.defaultGateway().orElseThrow(() -> new PortMappingException(
                    "no IPv4 default gateway (from /proc/net/route) to ask for port mappings; configure the router"));
        }
        InetAddress local = config.local();
        if (local == null) {
            try {
                local = Gateways.localAddressFacing(router);
            } catch (SocketException e) {
                throw new PortMappingException("cannot find the local address facing router "
                        + router.getHostAddress() + ": " + e.getMessage(), e);
            }
        }
        List<MappingClient> clients = new ArrayList<>();
        for (Method m : config.methods()) {
            clients.add(switch (m) {
                case PCP -> new PcpClient(router, local, config);
                case NAT_PMP -> new NatPmpClient(router, local, config);
                case UPNP_IGD -> new UpnpIgdClient(router, local, config);
            });
        }
        return new PortMapper(router, local, clients);
    }

    public InetAddress localAddress() {
        return local;
    }

    public InetAddress router() {
        return router;
    }

    public void onChange(Listener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Maps {@code internalPort} of this host's address facing the router, trying each method in turn; the mapping is
     * then renewed until {@link #unmap} or {@link #close}. The external port asked for is the internal one.
     *
     * @throws PortMappingException when no method succeeds; the message lists why each failed
     */
    public Mapping map(Protocol protocol, int internalPort, Duration lifetime) throws PortMappingException {
        if (closed) {
            throw new IllegalStateException("port mapper closed");
        }
        if (lifetime.toSeconds() < 1) {
            throw new IllegalArgumentException("lifetime must be at least 1 s");
        }
        Key key = new Key(protocol, internalPort);
        Entry e = new Entry(key, lifetime);
        if (entries.putIfAbsent(key, e) != null) {
            throw new IllegalStateException(protocol + " port " + internalPort + " is already mapped");
        }
        try {
            obtain(e);
        } catch (PortMappingException | RuntimeException ex) {
            entries.remove(key);
            throw ex;
        }
        schedule(e, renewDelay(e.mapping));
        return e.mapping;
    }

    /** The current mapping of a port, if it is mapped and not lost. */
    public Optional<Mapping> current(Protocol protocol, int internalPort) {
        Entry e = entries.get(new Key(protocol, internalPort));
        return e == null ? Optional.empty() : Optional.ofNullable(e.mapping);
    }

    /** Stops renewing and deletes the mapping of a port at the router. */
    public void unmap(Protocol protocol, int internalPort) throws PortMappingException {
        Entry e = entries.remove(new Key(protocol, internalPort));
        if (e != null) {
            release(e);
        }
    }

    /** Deletes every mapping at the router (failures are logged) and stops renewing. */
    @Override
    public void close() {
        closed = true;
        for (Entry e : new ArrayList<>(entries.values())) {
            entries.remove(e.key);
            try {
                release(e);
            } catch (PortMappingException ex) {
                LOG.warn("could not delete {}: {}", e.mapping, ex.getMessage());
            }
        }
        timers.shutdownNow();
    }

    private void obtain(Entry e) throws PortMappingException {
        List<String> failures = new ArrayList<>();
        for (MappingClient c : clients) {
            try {
                Mapping m = c.map(e.key.protocol(), new InetSocketAddress(local, e.key.port()), e.key.port(),
                        e.wanted);
                LOG.info("router {} granted {}", router.getHostAddress(), m);
                e.client = c;
                e.mapping = m;
                e.expiresAtNanos = expiry(m);
                return;
            } catch (PortMappingException ex) {
                LOG.info("{} mapping of {} port {} failed: {}", c.method(), e.key.protocol(), e.key.port(),
                        ex.getMessage());
                failures.add(c.method() + ": " + ex.getMessage());
            }
        }
        throw new PortMappingException("router " + router.getHostAddress() + " granted no mapping of "
                + e.key.protocol() + " port " + e.key.port() + " [" + String.join("; ", failures) + "]");
    }

    private void release(Entry e) throws PortMappingException {
        synchronized (e) {
            if (e.timer != null) {
                e.timer.cancel(false);
            }
            Mapping m = e.mapping;
            e.mapping = null;
            if (m != null) {
                e.client.unmap(m);
                LOG.info("deleted {}", m);
            }
        }
    }

    private void renew(Entry e) {
        synchronized (e) {
            if (closed || entries.get(e.key) != e) {
                return;
            }
            Mapping old = e.mapping;
            try {
                if (old != null) {
                    Mapping m = e.client.map(e.key.protocol(), old.internal(), old.external().getPort(), e.wanted);
                    e.mapping = m;
                    e.expiresAtNanos = expiry(m);
                    LOG.debug("renewed {}", m);
                    if (!m.external().equals(old.external())) {
                        fire(old, m);
                    }
                } else {
                    obtain(e);
                    fire(null, e.mapping);
                }
                schedule(e, renewDelay(e.mapping));
            } catch (PortMappingException ex) {
                Duration retry = Duration.ofMillis(Math.max(1000, e.wanted.toMillis() / 8));
                LOG.warn("renewing {} port {} failed, retrying in {} ms: {}", e.key.protocol(), e.key.port(),
                        retry.toMillis(), ex.getMessage());
                if (old != null && System.nanoTime() - e.expiresAtNanos >= 0) {
                    e.mapping = null;
                    fire(old, null);
                }
                schedule(e, retry);
            }
        }
    }

    private void fire(Mapping old, Mapping now) {
        for (Listener l : listeners) {
            try {
                l.changed(old, now);
            } catch (RuntimeException ex) {
                LOG.warn("port mapping listener failed", ex);
            }
        }
    }

    private void schedule(Entry e, Duration delay) {
        if (delay == null || closed) {
            return;
        }
        synchronized (e) {
            e.timer = timers.schedule(() -> renew(e), delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Half the granted lifetime (RFC 6886 3.3), at least 1 s; none for permanent mappings. */
    static Duration renewDelay(Mapping m) {
        if (m.permanent()) {
            return null;
        }
        return Duration.ofMillis(Math.max(1000, m.lifetime().toMillis() / 2));
    }

    private static long expiry(Mapping m) {
        return System.nanoTime() + (m.permanent() ? Long.MAX_VALUE / 4 : m.lifetime().toNanos());
    }
}
