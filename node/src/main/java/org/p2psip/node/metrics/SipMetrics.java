package org.p2psip.node.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Locale;
import java.util.Set;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.transaction.TransactionObserver;
import org.p2psip.sip.transport.SipTransport;

/**
 * The SIP adapter's metrics, in a peer's registry: transactions by role, method and status class (through the
 * transaction layer's {@link TransactionObserver} hook, so the adapter depends on no metrics library), drops and
 * refusals by reason and the registrations this peer holds (read from the adapter's counters at each scrape).
 *
 * <p>Metrics: {@code p2psip_sip_transactions_total{role,method,status}} (role {@code server} or {@code client};
 * method one of the SIP methods, else {@code other}, so hostile method names cannot grow the label set; status
 * {@code 1xx}..{@code 6xx}, or for clients {@code timeout} and {@code transport_error}),
 * {@code p2psip_sip_drops_total{reason}} (with SIP over the overlay also {@code overlay_oversized},
 * {@code overlay_malformed}, {@code overlay_foreign}, {@code overlay_route_failure}),
 * {@code p2psip_sip_overlay_datagrams_total{direction}}, {@code p2psip_sip_registrations},
 * {@code p2psip_sip_transactions_open{role}}, {@code p2psip_sip_transactions_ended_early_total},
 * {@code p2psip_sip_offline_checks_skipped_total}.
 */
public final class SipMetrics implements TransactionObserver {
    private static final Set<String> METHODS = Set.of("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER",
            "MESSAGE", "SUBSCRIBE", "NOTIFY", "PRACK", "UPDATE", "INFO", "REFER", "PUBLISH");

    private final Counter transactions;

    private SipMetrics(PrometheusRegistry registry, SipPeer sip) {
        transactions = Counter.builder().name("p2psip_sip_transactions_total")
                .help("SIP transactions by role (server, client), method and final status class")
                .labelNames("role", "method", "status").register(registry);
        CounterWithCallback.builder().name("p2psip_sip_drops_total")
                .help("SIP messages dropped or refused, by reason").labelNames("reason").callback(cb -> {
                    SipTransport.Stats t = sip.stack().transport().stats();
                    cb.call(t.malformed(), "malformed");
                    cb.call(t.nonSip(), "non_sip");
                    cb.call(t.sendFailures(), "send_failure");
                    cb.call(sip.stack().transactions().stats().overload(), "overload");
                    var p = sip.proxy().stats();
                    cb.call(p.loops(), "loop");
                    cb.call(p.tooManyHops(), "too_many_hops");
                    cb.call(sip.offline().map(o -> o.stats().refused()).orElse(0L), "offline_rate_limited");
                    cb.call(sip.presence().map(a -> a.stats().refused()).orElse(0L), "subscriptions_refused");
                    sip.overlayRelay().ifPresent(r -> {
                        var o = r.stats();
                        cb.call(o.oversized(), "overlay_oversized");
                        cb.call(o.malformed(), "overlay_malformed");
                        cb.call(o.foreign(), "overlay_foreign");
                        cb.call(o.routeFailures(), "overlay_route_failure");
                    });
                }).register(registry);
        CounterWithCallback.builder().name("p2psip_sip_overlay_datagrams_total")
                .help("SIP datagrams carried over the overlay to and from peers of other sites, by direction")
                .labelNames("direction").callback(cb -> sip.overlayRelay().ifPresent(r -> {
                    cb.call(r.stats().sent(), "sent");
                    cb.call(r.stats().received(), "received");
                })).register(registry);
        GaugeWithCallback.builder().name("p2psip_sip_registrations")
                .help("Unexpired phone bindings this peer registered itself")
                .callback(cb -> cb.call(sip.registrar().localBindings())).register(registry);
        CounterWithCallback.builder().name("p2psip_sip_offline_checks_skipped_total")
                .help("REGISTERs that did not read the user's offline: key (a refresh with nothing new to look for)")
                .callback(cb -> cb.call(sip.offline().map(o -> o.stats().skippedChecks()).orElse(0L)))
                .register(registry);
        CounterWithCallback.builder().name("p2psip_sip_transactions_ended_early_total")
                .help("Answered non-INVITE server transactions ended before Timer J to make room at the transaction bound")
                .callback(cb -> cb.call(sip.stack().transactions().stats().evictedCompleted())).register(registry);
        CounterWithCallback.builder().name("p2psip_sip_challenges_stateless_total")
                .help("401/407 challenges answered without keeping transaction state (RFC 3261 8.2.7)")
                .callback(cb -> cb.call(sip.stack().transactions().stats().statelessChallenges())).register(registry);
        GaugeWithCallback.builder().name("p2psip_sip_transactions_open").help("SIP transactions in progress, by role")
                .labelNames("role").callback(cb -> {
                    var s = sip.stack().transactions().stats();
                    cb.call(s.serverTransactions(), "server");
                    cb.call(s.clientTransactions(), "client");
                }).register(registry);
    }

    /** Adds {@code sip}'s metrics to {@code registry} and observes its transactions. */
    public static SipMetrics register(PrometheusRegistry registry, SipPeer sip) {
        SipMetrics m = new SipMetrics(registry, sip);
        sip.stack().transactions().observer(m);
        return m;
    }

    static String method(String m) {
        String u = m.toUpperCase(Locale.ROOT);
        return METHODS.contains(u) ? u : "other";
    }

    static String statusClass(int status) {
        return status >= 100 && status < 700 ? (status / 100) + "xx" : "other";
    }

    @Override
    public void serverCompleted(String method, int status) {
        transactions.labelValues("server", method(method), statusClass(status)).inc();
    }

    @Override
    public void clientCompleted(String method, int status) {
        transactions.labelValues("client", method(method), statusClass(status)).inc();
    }

    @Override
    public void clientFailed(String method, String why) {
        transactions.labelValues("client", method(method), why).inc();
    }
}
