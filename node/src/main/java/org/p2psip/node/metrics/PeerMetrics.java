package org.p2psip.node.metrics;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.NodeStatus;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.OverlayObserver;
import org.p2psip.overlay.OverlayStats;

/**
 * A peer's metrics in the Prometheus text format. Gauges and counters read the overlay's own state and counters
 * ({@link NodeStatus}, {@link OverlayStats}) when scraped; lookups reach the histograms through the overlay's
 * {@link OverlayObserver} hook, so the overlay itself depends on no metrics library. One registry per peer (never
 * the JVM-wide default), so several peers in one process keep their metrics apart.
 *
 * <p>Metrics (all prefixed {@code p2psip_}): {@code overlay_size_estimate}, {@code overlay_neighbours},
 * {@code overlay_joined}, {@code links{kind}} (direct, ice, relayed) and {@code links_max}, {@code lookup_duration_seconds} and
 * {@code lookup_hops} (histograms), {@code lookups_total{result}}, {@code store_keys}, {@code store_values},
 * {@code store_bytes}, {@code store_max_bytes}, {@code datagrams_total{direction}}, {@code rpc_served_total},
 * {@code rpc_timeouts_total}, {@code rpc_pending}, {@code drops_total{reason}}, {@code uptime_seconds}.
 */
public final class PeerMetrics implements OverlayObserver {
    /** Lookup duration buckets, in seconds: from a loopback round trip to the 2 × attempt-timeout stall limit. */
    private static final double[] DURATION_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    private static final double[] HOP_BUCKETS = {0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20};
    /** The overlay's state waited for at a scrape before the last known one is served. */
    private static final long REFRESH_SECONDS = 5;
    private static final OverlayStats.Snapshot NO_COUNTERS = OverlayStats.Snapshot.NONE;

    /** The overlay node to read: fixed for a plain superpeer, the current one (null as a leaf) in site mode. */
    private final Supplier<OverlayNode> node;
    private final long startedAtMillis;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Histogram lookupSeconds;
    private final Histogram lookupHops;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private volatile NodeStatus status;
    private volatile long sizeEstimate = 1;
    private final AtomicLong lookupsFound = new AtomicLong();
    private final AtomicLong lookupsEmpty = new AtomicLong();
    /** The serving superpeer's links (DTLS layer, ICE), or null: then the overlay's link table counts as direct. */
    private volatile Supplier<org.p2psip.node.links.NodeLinks> links = () -> null;

    /** Metrics of {@code node}; call {@link OverlayNode#observer} with this to record lookups. */
    public PeerMetrics(OverlayNode node) {
        this(() -> node);
    }

    /**
     * Metrics of whichever overlay node {@code node} returns at each scrape: a site peer's changes with its role and
     * is null while it is a leaf (the overlay gauges are then absent and its counters read 0; they restart from 0
     * with each new overlay node). Call {@link OverlayNode#observer} with this on each node to record its lookups.
     */
    public PeerMetrics(Supplier<OverlayNode> node) {
        this.node = node;
        this.startedAtMillis = System.currentTimeMillis();
        lookupSeconds = Histogram.builder().name("p2psip_lookup_duration_seconds")
                .help("Duration of the overlay's iterative lookups (put, get, remove, join, refresh)")
                .classicOnly().classicUpperBounds(DURATION_BUCKETS).register(registry);
        lookupHops = Histogram.builder().name("p2psip_lookup_hops").help("Hop count of the overlay's iterative lookups")
                .classicOnly().classicUpperBounds(HOP_BUCKETS).register(registry);
        CounterWithCallback.builder().name("p2psip_lookups_total").help("Finished lookups, by whether they found a node")
                .labelNames("result").callback(cb -> {
                    cb.call(lookupsFound.get(), "found");
                    cb.call(lookupsEmpty.get(), "empty");
                }).register(registry);
        gauge("p2psip_overlay_size_estimate", "Estimated number of nodes in the overlay, from this node's routing table",
                s -> sizeEstimate);
        gauge("p2psip_overlay_neighbours", "Contacts in the routing table", NodeStatus::neighbours);
        gauge("p2psip_overlay_joined", "1 once the node has joined the overlay", s -> s.joined() ? 1 : 0);
        GaugeWithCallback.builder().name("p2psip_links").help("Open links to other nodes, by kind").labelNames("kind")
                .callback(cb -> {
                    NodeStatus s = status;
                    org.p2psip.node.links.NodeLinks l = links.get();
                    int table = s == null ? 0 : s.links();
                    org.p2psip.node.links.LinkCounts c = l != null ? l.counts(table)
                            : new org.p2psip.node.links.LinkCounts(table, 0, 0);
                    cb.call(c.direct(), "direct");
                    cb.call(c.ice(), "ice");
                    cb.call(c.relayed(), "relayed");
                }).register(registry);
        gauge("p2psip_links_max", "Most links the node keeps open", NodeStatus::maxLinks);
        CounterWithCallback.builder().name("p2psip_link_attach_total")
                .help("ICE links to contacts that did not answer directly, by outcome: linked, failed (Attach or checks), "
                        + "gone (not reachable through the overlay either), direct (answered directly on a second try)")
                .labelNames("result").callback(cb -> {
                    org.p2psip.node.links.NodeLinks l = links.get();
                    if (l != null) {
                        org.p2psip.node.links.Attacher.Stats a = l.attachStats();
                        cb.call(a.linked(), "linked");
                        cb.call(a.failed(), "failed");
                        cb.call(a.gone(), "gone");
                        cb.call(a.directAgain(), "direct");
                    }
                }).register(registry);
        gauge("p2psip_store_keys", "Keys this node stores values under", NodeStatus::keys);
        gauge("p2psip_store_values", "Values this node stores (its share of the DHT)", NodeStatus::values);
        gauge("p2psip_store_bytes", "Bytes of the values this node stores", NodeStatus::storeBytes);
        gauge("p2psip_store_max_bytes", "The store's byte quota", NodeStatus::storeMaxBytes);
        gauge("p2psip_rpc_pending", "RPCs sent and not yet answered", NodeStatus::pendingRpcs);
        CounterWithCallback.builder().name("p2psip_datagrams_total").help("Overlay datagrams, by direction")
                .labelNames("direction").callback(cb -> {
                    OverlayStats.Snapshot c = counters();
                    cb.call(c.datagramsIn(), "in");
                    cb.call(c.datagramsOut(), "out");
                }).register(registry);
        CounterWithCallback.builder().name("p2psip_rpc_served_total").help("Requests from other nodes answered")
                .callback(cb -> cb.call(counters().requestsServed())).register(registry);
        CounterWithCallback.builder().name("p2psip_rpc_timeouts_total").help("RPCs that got no answer in time")
                .callback(cb -> cb.call(counters().rpcTimeouts())).register(registry);
        CounterWithCallback.builder().name("p2psip_drops_total").help("Messages dropped or refused, by reason")
                .labelNames("reason").callback(cb -> {
                    OverlayStats.Snapshot c = counters();
                    cb.call(c.malformed(), "malformed");
                    cb.call(c.rateLimited(), "rate_limited");
                    cb.call(c.unmatchedReplies(), "unmatched_reply");
                    cb.call(c.refusedPuts(), "refused_put");
                    cb.call(c.fragmentStreamsDropped(), "fragment_stream");
                    cb.call(c.routedDropped(), "routed");
                    org.p2psip.node.links.NodeLinks l = links.get();
                    org.p2psip.nat.dtls.DtlsStats d = l == null ? null : l.dtlsStats();
                    if (d != null) {
                        // the DTLS layer's drops: datagrams that are not DTLS or fail in a session, and refused peers
                        cb.call(org.p2psip.node.links.NodeLinks.malformed(d), "link_malformed");
                        cb.call(d.get(org.p2psip.nat.dtls.DtlsStats.Counter.AUTH_FAILURES)
                                + d.get(org.p2psip.nat.dtls.DtlsStats.Counter.IMPOSTOR_FRAMES), "link_refused_peer");
                        cb.call(d.get(org.p2psip.nat.dtls.DtlsStats.Counter.HANDSHAKES_FAILED), "link_handshake_failed");
                    }
                }).register(registry);
        CounterWithCallback.builder().name("p2psip_routed_total")
                .help("Routed requests (Attach and other applications' messages carried hop by hop), by what this node did")
                .labelNames("action").callback(cb -> {
                    OverlayStats.Snapshot c = counters();
                    cb.call(c.routedForwarded(), "forwarded");
                    cb.call(c.routedDelivered(), "delivered");
                }).register(registry);
        GaugeWithCallback.builder().name("p2psip_uptime_seconds").help("Seconds since the peer started")
                .callback(cb -> cb.call((System.currentTimeMillis() - startedAtMillis) / 1000.0)).register(registry);
    }

    /**
     * Where the {@code links{kind}} gauge and the link layer's drops come from: the serving superpeer's {@link
     * org.p2psip.node.links.NodeLinks} (a plain superpeer's, or a site peer's while elected: direct DTLS sessions, ICE
     * and relayed links); without them (plain UDP) every link of the overlay's link table counts as direct.
     */
    public PeerMetrics links(Supplier<org.p2psip.node.links.NodeLinks> links) {
        this.links = java.util.Objects.requireNonNull(links, "links");
        return this;
    }

    /** The current overlay node's counters; zeros when there is none (a leaf). */
    private OverlayStats.Snapshot counters() {
        OverlayNode n = node.get();
        return n == null ? NO_COUNTERS : n.counters();
    }

    private void gauge(String name, String help, ToDoubleFunction<NodeStatus> f) {
        GaugeWithCallback.builder().name(name).help(help).callback(cb -> {
            NodeStatus s = status;
            if (s != null) {
                cb.call(f.applyAsDouble(s));
            }
        }).register(registry);
    }

    @Override
    public void lookupFinished(long millis, int hops, int queries, boolean found) {
        lookupSeconds.observe(millis / 1000.0);
        lookupHops.observe(hops);
        (found ? lookupsFound : lookupsEmpty).incrementAndGet();
    }

    /** The registry, for embedders that add metrics of their own. */
    public PrometheusRegistry registry() {
        return registry;
    }

    /** Reads the overlay's state (on its thread), then completes; the state is then what a scrape shows. */
    public CompletableFuture<Void> refresh() {
        OverlayNode node = this.node.get();
        if (node == null) {
            status = null;
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<NodeStatus> s = node.status();
        CompletableFuture<List<Contact>> n = node.neighbours();
        return s.thenCombine(n, (st, contacts) -> {
            sizeEstimate = OverlaySize.estimate(st.id(), contacts, node.config().k());
            status = st;
            return (Void) null;
        }).orTimeout(REFRESH_SECONDS, TimeUnit.SECONDS).exceptionally(e -> null);
    }

    /** Every metric in the Prometheus text format (version 0.0.4), as of the last {@link #refresh()}. */
    public byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        try {
            writer.write(out, registry.scrape(), EscapingScheme.UNDERSCORE_ESCAPING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The content type of {@link #scrape()}. */
    public String contentType() {
        return writer.getContentType();
    }
}
