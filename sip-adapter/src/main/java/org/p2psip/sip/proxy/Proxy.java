package org.p2psip.sip.proxy;

import com.google.common.net.InetAddresses;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.p2psip.sip.message.Address;
import org.p2psip.sip.message.Contact;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.Headers;
import org.p2psip.sip.message.SipParseException;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.SipUri;
import org.p2psip.sip.message.Uri;
import org.p2psip.sip.message.Via;
import org.p2psip.sip.offline.OfflineMessaging;
import org.p2psip.sip.overlay.OverlayRelay;
import org.p2psip.sip.overlay.SipLocation;
import org.p2psip.sip.overlay.SipOverlay;
import org.p2psip.sip.presence.PresenceAgent;
import org.p2psip.sip.registrar.ContactBinding;
import org.p2psip.sip.registrar.ContactStore;
import org.p2psip.sip.registrar.Registrar;
import org.p2psip.sip.transaction.ClientTransaction;
import org.p2psip.sip.transaction.ServerTransaction;
import org.p2psip.sip.transaction.TransactionLayer;
import org.p2psip.sip.transaction.TransactionState;
import org.p2psip.sip.transaction.TransactionUser;
import org.p2psip.sip.transport.SipTransport;
import org.p2psip.sip.dns.DomainRouting;
import org.p2psip.sip.dns.SipDnsResolver;
import org.p2psip.sip.registrar.DigestAuthenticator;
import org.p2psip.sip.transport.Source;
import org.p2psip.sip.transport.Target;
import org.p2psip.sip.transport.Transport;
import org.p2psip.sip.transport.ViaProcessing;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stateful proxy (RFC 3261 §16) over the overlay, and the transaction user of a peer's SIP stack: REGISTER goes to
 * the {@link Registrar}; any other request is routed:
 * <ol>
 * <li>Max-Forwards 0 gives 483; a Via of ours whose branch carries the same routing hash gives 482 (§16.3 loop
 * detection);</li>
 * <li>a top Route that is this peer is removed (loose routing, §16.4); if Routes remain, the request goes to the
 * next one;</li>
 * <li>else a Request-URI in one of our domains is an AOR: a store lookup gives its bindings (none: 404); the best
 * (highest q, then latest expiry) is chosen: when another peer registered it, the Request-URI becomes the Contact
 * and a Route to that peer is pushed; when we did, it goes to the phone's flow (where its REGISTER came from);</li>
 * <li>else, if a Route of ours brought it or the Request-URI is a phone registered here, the request goes to the
 * Request-URI (a phone's Contact, reached via the peer that registered it);</li>
 * <li>else the Request-URI is in another domain: with DNS configured, a local user authenticated by digest (407) is
 * routed by RFC 3263 ({@link SipDnsResolver}) and/or the overlay in the domain's {@link DomainRouting} order; anyone
 * else gets 403; without DNS it is 404 (no open relay).</li>
 * </ol>
 * Forwarding adds our Via and, for INVITE and SUBSCRIBE, a Record-Route, so ACK, BYE and re-INVITE of the dialog
 * come through us (ACKs of 2xx are forwarded statelessly). A next hop that names another site's peer
 * ({@link SipLocation}) is reached over the overlay ({@link #hop}, {@link OverlayRelay}), a leaf's through its
 * superpeer. Responses come back through the client transaction and
 * go up with our Via removed. CANCEL is answered here and sent on to the branch. Transport errors give 480,
 * timeouts 408. All work runs on the transaction thread.
 */
public final class Proxy implements TransactionUser {
    private static final Logger LOG = LoggerFactory.getLogger(Proxy.class);
    static final int DEFAULT_MAX_FORWARDS = 70;
    /** At most this many DNS targets are tried one after the other for one request. */
    static final int MAX_DNS_TARGETS = 4;
    /** Timer C: more than 3 minutes (§16.6 item 11). */
    public static final long DEFAULT_TIMER_C_MS = 181_000;

    /**
     * Counters, for tests and benchmarks: {@code notFound} counts 404s (no record, or a domain not served),
     * {@code unavailable} 480s (a failed lookup, or no reachable contact).
     */
    public record Stats(long forwarded, long lookups, long notFound, long unavailable, long loops, long tooManyHops) {
    }

    /** Requests (and ACKs) this proxy sent towards the overlay: to its relay, or a leaf's to its superpeer. */
    public long overlayHops() {
        return overlayHops.get();
    }

    private final TransactionLayer layer;
    private final SipTransport transport;
    private final Registrar registrar;
    private final ContactStore store;
    private final Set<String> domains;
    private final long timerCMillis;
    private final OfflineMessaging offline;
    private final PresenceAgent presence;
    private final String selfHost;
    private final int selfPort;
    private final String selfUri;
    /** Forwarded INVITEs still open, for CANCEL. */
    private final Map<ServerTransaction, Fork> pending = new IdentityHashMap<>();
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicLong lookups = new AtomicLong();
    private final AtomicLong notFound = new AtomicLong();
    private final AtomicLong unavailable = new AtomicLong();
    private final AtomicLong loops = new AtomicLong();
    private final AtomicLong tooManyHops = new AtomicLong();
    private final AtomicLong overlayHops = new AtomicLong();
    private volatile SipOverlay overlay;
    private volatile OverlayRelay relay;
    /** RFC 3263 lookups, or null: no DNS (only served domains and our phones are routed). */
    private final SipDnsResolver dns;
    /** Who may send requests to other domains through us: local users, with digest (407). Null with dns null. */
    private final DigestAuthenticator proxyAuth;
    private final DomainRouting routing;
    /** The user agent embedded in this peer, if any (set once the application starts). */
    private volatile org.p2psip.sip.ua.LocalEndpoint endpoint;
    /** The flow tokens of the Path URIs this peer inserts as an edge proxy. */
    private final FlowTokens flowTokens = new FlowTokens();
    /** The registrar this peer relays its phones' REGISTERs to as an edge proxy (RFC 3327); empty: it registers. */
    private volatile java.util.function.Supplier<Optional<SipUri>> upstreamRegistrar = Optional::empty;
    private final AtomicLong relayedRegisters = new AtomicLong();
    private final AtomicLong flowRouted = new AtomicLong();

    public Proxy(TransactionLayer layer, SipTransport transport, Registrar registrar, ContactStore store,
            Set<String> domains) {
        this(layer, transport, registrar, store, domains, DEFAULT_TIMER_C_MS);
    }

    /** @param timerCMillis Timer C (§16.6 item 11): how long a proxied INVITE may ring before it is cancelled */
    public Proxy(TransactionLayer layer, SipTransport transport, Registrar registrar, ContactStore store,
            Set<String> domains, long timerCMillis) {
        this(layer, transport, registrar, store, domains, timerCMillis, null, null);
    }

    /**
     * @param offline  where a MESSAGE for a user with no live contact is stored (202), or null for 404/480 as for
     *                 any request
     * @param presence the notifier that answers SUBSCRIBE for presence itself, or null to route those like others
     */
    public Proxy(TransactionLayer layer, SipTransport transport, Registrar registrar, ContactStore store,
            Set<String> domains, long timerCMillis, OfflineMessaging offline, PresenceAgent presence) {
        this(layer, transport, registrar, store, domains, timerCMillis, offline, presence, null, null,
                DomainRouting.DEFAULT);
    }

    /**
     * @param dns       RFC 3263 lookups for domains the overlay does not serve (null: such requests get 404)
     * @param proxyAuth authenticates the local users who may send to other domains (407 Proxy-Authenticate); requests
     *                  to other domains from anyone else are refused (403), so the peer is no open relay
     * @param routing   per domain: overlay and/or DNS, in which order
     */
    public Proxy(TransactionLayer layer, SipTransport transport, Registrar registrar, ContactStore store,
            Set<String> domains, long timerCMillis, OfflineMessaging offline, PresenceAgent presence,
            SipDnsResolver dns, DigestAuthenticator proxyAuth, DomainRouting routing) {
        if (dns != null && proxyAuth == null) {
            throw new IllegalArgumentException("DNS routing to other domains needs an authenticator for the senders");
        }
        this.dns = dns;
        this.proxyAuth = proxyAuth;
        this.routing = routing;
        this.offline = offline;
        this.presence = presence;
        this.timerCMillis = timerCMillis;
        this.layer = layer;
        this.transport = transport;
        this.registrar = registrar;
        this.store = store;
        this.domains = Set.copyOf(domains);
        InetSocketAddress local = transport.localAddress();
        this.selfHost = SipUri.normalizeHost(local.getAddress().getHostAddress());
        this.selfPort = local.getPort();
        this.selfUri = selfUri(local);
    }

    /** The URI other peers use to reach a peer listening on {@code local}: {@code sip:host:port;lr}. */
    public static String selfUri(InetSocketAddress local) {
        String h = local.getAddress().getHostAddress();
        if (h.indexOf(':') >= 0) {
            h = "[" + h + "]";
        }
        return "sip:" + h + ":" + local.getPort() + ";lr";
    }

    /**
     * This peer's URI as it writes it into Record-Route and contact records: {@code sip:host:port;lr}, followed by
     * where it is on the overlay ({@link SipLocation#uriParams}) when another site cannot reach its address.
     */
    public String selfUri() {
        SipOverlay o = overlay;
        return o == null ? selfUri : selfUri + o.location().uriParams();
    }

    /**
     * Carries SIP over the overlay ({@code relay}) to peer URIs that name another site ({@link SipLocation}), and
     * names this peer's location in its Record-Route.
     */
    public void overlay(SipOverlay o, OverlayRelay r) {
        this.relay = r;
        this.overlay = o;
    }

    /**
     * The next hop for a URI: over the overlay when it names another site's peer (through this leaf's superpeer, or
     * to the peer's gateway from here), else its address ({@link #targetOf}).
     */
    Optional<Target> hop(Uri uri) {
        SipOverlay o = overlay;
        OverlayRelay r = relay;
        if (o != null && r != null && uri instanceof SipUri u && !isSelf(u)) {
            Optional<SipLocation> there = SipLocation.of(u);
            SipLocation here = o.location();
            if (there.isPresent() && here.needsOverlayTo(there.get()) && !here.delivers(there.get())) {
                overlayHops.incrementAndGet();
                if (!here.routesItself()) {
                    return Optional.of(new Target(Transport.UDP, here.outbound())); // our superpeer carries it
                }
                try {
                    return Optional.of(r.target(there.get().gateways()));
                } catch (RuntimeException e) {
                    LOG.info("no overlay relay for {}: {}", u, e.getMessage());
                    return Optional.empty();
                }
            }
        }
        return targetOf(uri);
    }

    /**
     * Hands requests addressed to this peer's own address with a user part (the Contacts an embedded application
     * registered) to {@code e}; null: such requests get 404 as before.
     */
    public void localEndpoint(org.p2psip.sip.ua.LocalEndpoint e) {
        this.endpoint = e;
    }

    public Stats stats() {
        return new Stats(forwarded.get(), lookups.get(), notFound.get(), unavailable.get(), loops.get(),
                tooManyHops.get());
    }

    /** Edge counters: REGISTERs relayed with our Path, and requests sent down a phone's flow by its token. */
    public record EdgeStats(long relayedRegisters, long flowRouted) {
    }

    public EdgeStats edgeStats() {
        return new EdgeStats(relayedRegisters.get(), flowRouted.get());
    }

    /**
     * Makes this peer an edge proxy (RFC 3327) while {@code registrar} names another peer: REGISTERs of its phones
     * for served domains go there with this peer's Path (a flow token naming the phone's flow), and requests that
     * come back through that Path go down the flow. While it is empty (or names this peer) the peer registers its
     * phones itself. Read at each REGISTER, so it may follow a leaf's current superpeer.
     */
    public void upstreamRegistrar(java.util.function.Supplier<Optional<SipUri>> registrar) {
        this.upstreamRegistrar = registrar == null ? Optional::empty : registrar;
    }

    @Override
    public void onRequest(ServerTransaction tx, SipRequest r) {
        try {
            switch (r.method()) {
                case SipRequest.REGISTER -> {
                    Optional<Target> up = upstreamFor(r);
                    if (up.isPresent()) {
                        relayRegister(tx, r, up.get());
                    } else {
                        registrar.onRegister(tx, r);
                    }
                }
                case SipRequest.CANCEL -> onCancel(tx, r);
                default -> route(tx, r);
            }
        } catch (SipParseException e) {
            tx.respond(400, e.reason());
        }
    }

    private void route(ServerTransaction tx, SipRequest r) {
        OptionalInt mf = r.maxForwards();
        if (mf.isPresent() && mf.getAsInt() == 0) {
            tooManyHops.incrementAndGet();
            tx.respond(483, "Too Many Hops");
            return;
        }
        if (presence != null && presence.handles(r)) {
            presence.onSubscribe(tx, r);
            return;
        }
        String hash = loopHash(r);
        if (looped(r, hash)) {
            loops.incrementAndGet();
            tx.respond(482, "Loop Detected");
            return;
        }
        Optional<Target> flow = flowOfOwnRoute(r, tx.source());
        SipRequest req = popOwnRoute(r);
        List<Address> routes = req.routes();
        if (flow.isPresent() && routes.isEmpty()) {
            // through our Path (or Record-Route) with a flow token: down the phone's flow (its NAT binding)
            flowRouted.incrementAndGet();
            Fork fork = new Fork(tx, List.of(List.of(new Branch(req, flow.get(), 1.0))), hash, null,
                    ownRouteUri(r), UnaryOperator.identity());
            start(tx, fork);
            return;
        }
        if (!routes.isEmpty()) {
            Optional<Target> t = hop(routes.get(0).uri());
            if (t.isEmpty()) {
                tx.respond(400, "Unroutable Route");
                return;
            }
            forward(tx, req, t.get(), hash);
            return;
        }
        if (!(req.requestUri() instanceof SipUri ruri)) {
            tx.respond(416, "Unsupported URI Scheme");
            return;
        }
        String host = ruri.host().toLowerCase(Locale.ROOT);
        if (ruri.user().isPresent() && domains.contains(host)) {
            List<DomainRouting.Lookup> order = routing.orderFor(host, true);
            if (dns == null || order.equals(List.of(DomainRouting.Lookup.OVERLAY))) {
                lookupAndForward(tx, req, Registrar.aorOf(ruri), hash);
            } else {
                routeInOrder(tx, req, ruri, hash, order, 0);
            }
            return;
        }
        org.p2psip.sip.ua.LocalEndpoint ep = endpoint;
        if (ep != null && ruri.user().isPresent() && isSelf(ruri)) {
            ep.onRequest(tx, req); // an AOR registered by the application embedded in this peer
            return;
        }
        if (isSelf(ruri)) {
            if (req.isMethod(SipRequest.OPTIONS)) {
                SipResponse ok = tx.createResponse(200, "OK");
                tx.respond(ok.withHeaders(ok.headers().add(HeaderNames.ALLOW,
                        "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, REGISTER")));
            } else {
                tx.respond(404, "Not Found");
            }
            return;
        }
        if (req == r && registrar.flow(ruri.toString()).isEmpty()) {
            // Not for a served AOR, not a phone registered here, and not routed to us by a peer's Route: another
            // domain. Only our own users, authenticated, may send there (no open relay), located by RFC 3263.
            if (dns != null) {
                if (authorizedForOtherDomains(tx, req)) {
                    SipRequest stripped = req.withHeaders(req.headers().remove(HeaderNames.PROXY_AUTHORIZATION));
                    routeInOrder(tx, stripped, ruri, hash, routing.orderFor(host, false), 0);
                }
                return;
            }
            notFound.incrementAndGet();
            tx.respond(404, "Not Found (domain not served)");
            return;
        }
        Optional<Target> t = deliveryTarget(ruri);
        if (t.isEmpty()) {
            tx.respond(480, "Temporarily Unavailable");
            return;
        }
        forward(tx, req, t.get(), hash);
    }

    /** 403 for senders who are not our users, 407 until they authenticate; true once they have. */
    private boolean authorizedForOtherDomains(ServerTransaction tx, SipRequest req) {
        Optional<SipUri> from = req.from().sipUri();
        if (from.isEmpty() || from.get().user().isEmpty()
                || !domains.contains(from.get().host().toLowerCase(Locale.ROOT))) {
            tx.respond(403, "Forbidden (only users of this peer's domains may send to other domains)");
            return false;
        }
        var result = proxyAuth.check(req.method(), req.headers().all(HeaderNames.PROXY_AUTHORIZATION),
                from.get().user().get());
        if (result instanceof DigestAuthenticator.Challenge c) {
            LOG.debug("{} to another domain challenged: {}", req.method(), c.why());
            SipResponse resp = tx.createResponse(407, "Proxy Authentication Required");
            tx.respond(resp.withHeaders(resp.headers().setAll(HeaderNames.PROXY_AUTHENTICATE, c.wwwAuthenticate())));
            return false;
        }
        return true;
    }

    /** Tries the lookups of {@code order} from {@code i} on: the first that yields a target routes the request. */
    private void routeInOrder(ServerTransaction tx, SipRequest req, SipUri ruri, String hash,
            List<DomainRouting.Lookup> order, int i) {
        if (i >= order.size()) {
            notFound.incrementAndGet();
            tx.respond(404, "Not Found (neither DNS nor the overlay knows " + ruri.host() + ")");
            return;
        }
        if (order.get(i) == DomainRouting.Lookup.OVERLAY) {
            if (ruri.user().isEmpty()) {
                routeInOrder(tx, req, ruri, hash, order, i + 1);
                return;
            }
            String aor = Registrar.aorOf(ruri);
            lookups.incrementAndGet();
            store.lookup(aor).whenComplete((bindings, err) -> layer.execute(() -> {
                if (err != null || bindings.isEmpty()) {
                    routeInOrder(tx, req, ruri, hash, order, i + 1);
                } else {
                    routeToBindings(tx, req, aor, hash, bindings, null);
                }
            }));
            return;
        }
        if (dns == null) {
            routeInOrder(tx, req, ruri, hash, order, i + 1);
            return;
        }
        dns.locate(ruri).whenComplete((targets, err) -> layer.execute(() -> {
            if (err != null || targets.isEmpty()) {
                LOG.debug("no DNS target for {}: {}", ruri, err == null ? "none" : err.toString());
                routeInOrder(tx, req, ruri, hash, order, i + 1);
            } else {
                // RFC 3263 §4.3: the targets in order, the next one only when the previous failed (a timeout, a
                // transport error, or a final response other than 2xx and 6xx, e.g. 503)
                List<List<Branch>> groups = new ArrayList<>();
                for (Target t : targets.subList(0, Math.min(targets.size(), MAX_DNS_TARGETS))) {
                    groups.add(List.of(new Branch(req, t, 1.0)));
                }
                forward(tx, groups, hash, null);
            }
        }));
    }

    private void lookupAndForward(ServerTransaction tx, SipRequest req, String aor, String hash) {
        lookups.incrementAndGet();
        store.lookup(aor).whenComplete((bindings, err) -> layer.execute(() -> {
            try {
                routeToBindings(tx, req, aor, hash, bindings, err);
            } catch (RuntimeException e) {
                LOG.warn("routing to {} failed", aor, e);
                tx.respond(500, "Server Internal Error");
            }
        }));
    }

    private void routeToBindings(ServerTransaction tx, SipRequest req, String aor, String hash,
            List<ContactBinding> bindings, Throwable err) {
        if (err != null) {
            // not 404: nobody could say whether the user has a record (e.g. no storing node answered)
            LOG.info("lookup of {} failed: {}", aor, err.toString());
            unavailable.incrementAndGet();
            tx.respond(480, "Temporarily Unavailable (lookup failed)");
            return;
        }
        if (bindings.isEmpty()) {
            if (offline != null && req.isMethod(SipRequest.MESSAGE)) {
                leaveOffline(tx, req, aor);
                return;
            }
            notFound.incrementAndGet();
            tx.respond(404, "Not Found");
            return;
        }
        List<ContactBinding> sorted = new ArrayList<>(bindings);
        sorted.sort(Comparator.comparingDouble(Proxy::q).reversed()
                .thenComparing(Comparator.comparingLong(ContactBinding::expiresAtMillis).reversed()));
        List<Branch> branches = new ArrayList<>();
        for (ContactBinding b : sorted) {
            SipUri contact;
            SipUri path;
            try {
                contact = (SipUri) Contact.parse(b.contact()).address().uri();
                path = SipUri.parse(b.path());
            } catch (SipParseException | ClassCastException e) {
                continue;
            }
            // Route set: the registering peer (unless us), then the REGISTER's Path (RFC 3327), e.g. a superpeer
            List<String> routeSet = new ArrayList<>();
            if (!isSelf(path)) {
                routeSet.add("<" + path + ">");
            }
            routeSet.addAll(b.pathHeaders());
            if (routeSet.isEmpty()) {
                deliveryTarget(contact).ifPresent(t -> branches.add(new Branch(req.withRequestUri(contact), t, q(b))));
            } else {
                Optional<Target> t;
                try {
                    t = hop(Address.parse(routeSet.get(0), HeaderNames.ROUTE).uri());
                } catch (SipParseException e) {
                    continue;
                }
                if (t.isPresent()) {
                    Headers h = req.headers();
                    List<String> existing = h.all(HeaderNames.ROUTE);
                    List<String> all = new ArrayList<>(routeSet);
                    all.addAll(existing);
                    h = h.setAll(HeaderNames.ROUTE, all);
                    branches.add(new Branch(req.withRequestUri(contact).withHeaders(h), t.get(), q(b)));
                }
            }
        }
        if (branches.isEmpty()) {
            if (offline != null && req.isMethod(SipRequest.MESSAGE)) {
                leaveOffline(tx, req, aor);
                return;
            }
            unavailable.incrementAndGet();
            tx.respond(480, "Temporarily Unavailable");
            return;
        }
        // §16.6: the highest q first, all contacts of one q in parallel; the next q only if all of those failed
        List<List<Branch>> groups = new ArrayList<>();
        for (Branch b : branches) {
            if (groups.isEmpty() || groups.get(groups.size() - 1).get(0).q() != b.q()) {
                groups.add(new ArrayList<>());
            }
            groups.get(groups.size() - 1).add(b);
        }
        forward(tx, groups, hash, aor);
    }

    /** A MESSAGE for a user with no live contact: stored encrypted for the next REGISTER (202), else 404. */
    private void leaveOffline(ServerTransaction tx, SipRequest req, String aor) {
        // an unknown user (no published certificate) is 404 before anyone is asked for credentials
        offline.knows(aor).whenComplete((known, err) -> layer.execute(() -> {
            if (err != null) {
                LOG.info("offline message for {} not stored: {}", aor, err.toString());
                tx.respond(480, "Temporarily Unavailable (the offline message could not be stored)");
            } else if (!known) {
                notFound.incrementAndGet();
                tx.respond(404, "Not Found");
            } else {
                leaveOfflineFrom(tx, req, aor);
            }
        }));
    }

    /** Stores the message signed by its sender, once this peer has authenticated the sender (407 until then). */
    private void leaveOfflineFrom(ServerTransaction tx, SipRequest req, String aor) {
        // the storing nodes take the message only signed by its sender: the peer signs for users it authenticated
        var who = offline.senders().check(req, tx.source());
        if (who instanceof org.p2psip.sip.identity.SenderAuthentication.Challenge c) {
            LOG.debug("offline MESSAGE for {} challenged: {}", aor, c.why());
            org.p2psip.sip.identity.SenderAuthentication.challenge(tx, c);
            return;
        }
        if (who instanceof org.p2psip.sip.identity.SenderAuthentication.Anonymous a) {
            LOG.info("offline MESSAGE for {} not stored: {}", aor, a.why());
            unavailable.incrementAndGet();
            tx.respond(480, "Temporarily Unavailable (the user is offline; only authenticated users of this"
                    + " overlay can leave a message)");
            return;
        }
        String sender = ((org.p2psip.sip.identity.SenderAuthentication.Sender) who).user();
        // the peer's own socket is the application embedded in it (or offline delivery): not rate limited per source
        boolean own = tx.source().remote().equals(transport.localAddress());
        if (!own && !offline.admit(tx.source().remote().getAddress())) {
            SipResponse busy = tx.createResponse(503, "Service Unavailable (too many offline messages from you)");
            tx.respond(busy.withHeaders(busy.headers().add("Retry-After", "60")));
            return;
        }
        offline.leave(aor, req, sender).whenComplete((stored, err) -> layer.execute(() -> {
            if (err != null) {
                LOG.info("offline message for {} not stored: {}", aor, err.toString());
                tx.respond(480, "Temporarily Unavailable (the offline message could not be stored)");
            } else if (stored) {
                tx.respond(202, "Accepted");
            } else {
                notFound.incrementAndGet();
                tx.respond(404, "Not Found");
            }
        }));
    }

    private static double q(ContactBinding b) {
        try {
            return b.q() == null ? 1.0 : Double.parseDouble(b.q());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** One target of a (possibly forked) request: the request as it will be sent there, before our Via. */
    private record Branch(SipRequest request, Target target, double q) {
    }

    private void forward(ServerTransaction tx, SipRequest req, Target target, String hash) {
        forward(tx, List.of(List.of(new Branch(req, target, 1.0))), hash, null);
    }

    /**
     * Forwards statefully (§16.6) to the branches of the first group in parallel, and to the next group only when
     * every branch of the previous one failed without a 6xx. Our Via and (INVITE, SUBSCRIBE) Record-Route go on,
     * Max-Forwards down. Responses are chosen per §16.7: provisionals and every 2xx go up at once, a 2xx or 6xx
     * cancels the other INVITE branches, and when all branches have a final response without a 2xx the best one goes
     * up (6xx first, else the lowest class).
     */
    /** @param aor the AOR the branches are its contacts of, or null (then no offline storage on failure) */
    private void forward(ServerTransaction tx, List<List<Branch>> groups, String hash, String aor) {
        start(tx, new Fork(tx, groups, hash, aor, "<" + selfUri() + ">", UnaryOperator.identity()));
    }

    private void start(ServerTransaction tx, Fork fork) {
        if (tx.state() != TransactionState.TRYING && tx.state() != TransactionState.PROCEEDING) {
            return; // answered meanwhile (CANCEL during the lookup, Timer expiry): nothing to forward
        }
        fork.startNextGroup();
        if (tx.request().isMethod(SipRequest.INVITE)) {
            pending.put(tx, fork);
            fork.timerC = layer.schedule(timerCMillis, fork::timerC);
        }
    }

    private ClientTransaction send(Fork fork, Branch b, String hash) {
        SipRequest req = b.request();
        Headers h = req.headers();
        OptionalInt mf = req.maxForwards();
        h = h.set(HeaderNames.MAX_FORWARDS, Integer.toString(mf.isPresent() ? mf.getAsInt() - 1
                : DEFAULT_MAX_FORWARDS));
        if (req.isMethod(SipRequest.INVITE) || req.isMethod(SipRequest.SUBSCRIBE)) {
            h = h.prepend(HeaderNames.RECORD_ROUTE, fork.recordRoute);
        }
        String branch = Via.MAGIC_COOKIE + hash + "."
                + org.p2psip.sip.transaction.Branch.next().substring(Via.MAGIC_COOKIE.length());
        // rport (RFC 3581): a peer behind NAT gets its responses at the address and port its router mapped,
        // which behind a symmetric NAT is not the sent-by port.
        h = h.prepend(HeaderNames.VIA, Via.of(b.target().transport().name(), selfHost,
                viaPort(b.target().transport()), branch).withParam("rport", null).toString());
        forwarded.incrementAndGet();
        return layer.sendRequest(req.withHeaders(h), b.target(), fork);
    }

    /** The response context of one forwarded request (§16.7). Runs on the transaction thread. */
    private final class Fork implements ClientTransaction.Listener {
        final ServerTransaction tx;
        final List<ClientTransaction> clients = new ArrayList<>();
        final Set<ClientTransaction> finished = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        /** Branches that had a provisional response (CANCEL may be sent, §9.1). */
        final Set<ClientTransaction> ringing = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        /** Branches to cancel as soon as they send a provisional. */
        final Set<ClientTransaction> cancelWhenRinging =
                java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        int open;
        boolean finalSent;
        SipResponse best;
        org.p2psip.sip.transaction.TimerService.Cancellable timerC;

        final List<List<Branch>> groups;
        final String hash;
        int nextGroup;
        boolean cancelled;

        final String aor;
        /** Our Record-Route entry: our URI, or, down a phone's flow, the Route that named the flow. */
        final String recordRoute;
        /** Applied to each response before it goes up. */
        final UnaryOperator<SipResponse> downstream;

        Fork(ServerTransaction tx, List<List<Branch>> groups, String hash, String aor, String recordRoute,
                UnaryOperator<SipResponse> downstream) {
            this.recordRoute = recordRoute;
            this.downstream = downstream;
            this.aor = aor;
            this.tx = tx;
            this.groups = groups;
            this.hash = hash;
        }

        /** Starts the next q group; false if there is none (or the request was cancelled). */
        boolean startNextGroup() {
            if (cancelled || nextGroup >= groups.size()) {
                return false;
            }
            for (Branch b : groups.get(nextGroup++)) {
                open++;
                clients.add(send(this, b, hash));
            }
            return true;
        }

        @Override
        public void onResponse(ClientTransaction c, SipResponse response) {
            if (response.status() == 100) {
                return;
            }
            if (response.isProvisional()) {
                ringing.add(c);
                if (timerC != null && !finalSent) { // §16.7 item 2: a provisional resets Timer C
                    timerC.cancel();
                    timerC = layer.schedule(timerCMillis, this::timerC);
                }
                if (cancelWhenRinging.remove(c)) {
                    sendCancel(c);
                }
                if (!finalSent) {
                    up(response);
                }
                return;
            }
            if (response.isSuccess()) {
                up(response); // every 2xx goes up (forked answers each make a dialog)
                if (!finalSent) {
                    finalSent = true;
                    pending.remove(tx);
                    cancelAllBut(c);
                }
                done(c, null);
                return;
            }
            if (response.status() >= 600) {
                cancelAllBut(c);
            }
            done(c, response);
        }

        @Override
        public void onTimeout(ClientTransaction c) {
            done(c, tx.createResponse(408, "Request Timeout"));
        }

        @Override
        public void onTransportError(ClientTransaction c, Throwable cause) {
            unavailable.incrementAndGet();
            done(c, tx.createResponse(480, "Temporarily Unavailable"));
        }

        private void done(ClientTransaction c, SipResponse finalResponse) {
            if (!finished.add(c)) {
                return; // 2xx retransmissions, or a final after a timeout
            }
            open--;
            if (finalResponse != null && (best == null || rank(finalResponse) < rank(best))) {
                best = finalResponse;
            }
            if (open == 0 && !finalSent && (best == null || best.status() < 600) && startNextGroup()) {
                return; // sequential: the next lower q
            }
            if (open == 0) {
                if (timerC != null) {
                    timerC.cancel();
                }
                if (!finalSent) {
                    finalSent = true;
                    pending.remove(tx);
                    if (offline != null && tx.request().isMethod(SipRequest.MESSAGE)) {
                        hintUndelivered();
                    }
                    if (offline != null && aor != null && tx.request().isMethod(SipRequest.MESSAGE) && best != null
                            && (best.status() == 408 || best.status() == 480)) {
                        // every contact is gone (timeout, transport error): the message waits for the next REGISTER
                        leaveOffline(tx, tx.request(), aor);
                    } else {
                        up(best);
                    }
                }
            }
        }

        /**
         * A MESSAGE ended without a 2xx: for each branch that went to a phone registered here, its sender (this peer
         * or the one that relayed it here) stores the message offline, so the user's next REGISTER here reads it.
         */
        private void hintUndelivered() {
            for (ClientTransaction c : clients) {
                registrar.localAor(c.request().requestUri().toString()).ifPresent(offline::undelivered);
            }
        }

        /**
         * Timer C fired: ringing branches are cancelled (their 487 completes them); a branch that never sent a
         * provisional counts as 408 (§16.8).
         */
        void timerC() {
            cancelled = true;
            for (ClientTransaction c : List.copyOf(clients)) {
                if (!finished.contains(c)) {
                    if (ringing.contains(c)) {
                        sendCancel(c);
                    } else {
                        done(c, tx.createResponse(408, "Request Timeout"));
                    }
                }
            }
        }

        private void up(SipResponse response) {
            // Our Via off (§16.7 item 3): the rest are the request's Vias, taken from the server transaction
            // so a downstream element that mangled them cannot misroute the response.
            tx.respond(downstream.apply(response.withHeaders(response.headers().setAll(HeaderNames.VIA,
                    tx.request().headers().all(HeaderNames.VIA)))));
        }

        void cancelAllBut(ClientTransaction except) {
            for (ClientTransaction c : clients) {
                if (c != except && !finished.contains(c) && c.request().isMethod(SipRequest.INVITE)) {
                    if (ringing.contains(c)) {
                        sendCancel(c);
                    } else {
                        cancelWhenRinging.add(c); // §9.1: not before a provisional
                    }
                }
            }
        }
    }

    /** §16.7.6's choice among final responses: 6xx first, then by class (lower is better). */
    private static int rank(SipResponse r) {
        return r.status() >= 600 ? 0 : r.status() / 100;
    }

    private void onCancel(ServerTransaction tx, SipRequest cancel) {
        Optional<ServerTransaction> invite = layer.findInvite(cancel);
        if (invite.isEmpty()) {
            tx.respond(481, "Call/Transaction Does Not Exist");
            return;
        }
        tx.respond(200, "OK");
        Fork fork = pending.get(invite.get());
        if (fork == null) {
            org.p2psip.sip.ua.LocalEndpoint ep = endpoint;
            if (ep != null) {
                ep.onCancelled(invite.get()); // it may be a call ringing at the embedded application
            }
            invite.get().respond(487, "Request Terminated"); // not forwarded yet (lookup running) or done
            return;
        }
        fork.cancelled = true;
        fork.cancelAllBut(null);
    }

    /** Sends a CANCEL for a forwarded INVITE (§9.1): same Request-URI, top Via, Route, From, To, Call-ID. */
    private void sendCancel(ClientTransaction ct) {
        SipRequest inv = ct.request();
        SipRequest.Builder b = SipRequest.builder(SipRequest.CANCEL, inv.requestUri())
                .header(HeaderNames.VIA, inv.headers().first(HeaderNames.VIA).orElseThrow());
        for (String route : inv.headers().all(HeaderNames.ROUTE)) {
            b.header(HeaderNames.ROUTE, route);
        }
        SipRequest c = b.header(HeaderNames.MAX_FORWARDS, DEFAULT_MAX_FORWARDS)
                .header(HeaderNames.FROM, inv.headers().first(HeaderNames.FROM).orElseThrow())
                .header(HeaderNames.TO, inv.headers().first(HeaderNames.TO).orElseThrow())
                .header(HeaderNames.CALL_ID, inv.callId())
                .header(HeaderNames.CSEQ, inv.cseq().number() + " " + SipRequest.CANCEL)
                .build();
        try {
            layer.sendRequest(c, ct.target(), (x, resp) -> { });
        } catch (IllegalArgumentException e) {
            LOG.debug("CANCEL already sent for {}", ct);
        }
    }

    /** The ACK of a 2xx (§13.2.2.4): routed like any request, statelessly. */
    @Override
    public void onAck(SipRequest ack, Source source) {
        try {
            OptionalInt mf = ack.maxForwards();
            if ((mf.isPresent() && mf.getAsInt() == 0) || looped(ack, loopHash(ack))) {
                return;
            }
            Optional<Target> flow = flowOfOwnRoute(ack, source);
            SipRequest req = popOwnRoute(ack);
            List<Address> routes = req.routes();
            org.p2psip.sip.ua.LocalEndpoint ep = endpoint;
            if (flow.isPresent() && routes.isEmpty()) {
                flowRouted.incrementAndGet();
                Headers h = req.headers().set(HeaderNames.MAX_FORWARDS,
                        Integer.toString(mf.isPresent() ? mf.getAsInt() - 1 : DEFAULT_MAX_FORWARDS));
                h = h.prepend(HeaderNames.VIA, Via.of(flow.get().transport().name(), selfHost,
                        viaPort(flow.get().transport()), org.p2psip.sip.transaction.Branch.next()).toString());
                transport.sendRequest(req.withHeaders(h), flow.get());
                return;
            }
            if (routes.isEmpty() && ep != null && req.requestUri() instanceof SipUri u && u.user().isPresent()
                    && isSelf(u)) {
                ep.onAck(req);
                return;
            }
            Optional<Target> t;
            if (!routes.isEmpty()) {
                t = hop(routes.get(0).uri());
            } else if (req.requestUri() instanceof SipUri ruri && !isSelf(ruri)
                    && (req != ack || registrar.flow(ruri.toString()).isPresent())) {
                t = deliveryTarget(ruri);
            } else {
                t = Optional.empty();
            }
            if (t.isEmpty()) {
                LOG.debug("ACK with nowhere to go dropped: {}", ack.requestUri());
                return;
            }
            Headers h = req.headers().set(HeaderNames.MAX_FORWARDS,
                    Integer.toString(mf.isPresent() ? mf.getAsInt() - 1 : DEFAULT_MAX_FORWARDS));
            h = h.prepend(HeaderNames.VIA, Via.of(t.get().transport().name(), selfHost, viaPort(t.get().transport()),
                    org.p2psip.sip.transaction.Branch.next()).toString());
            transport.sendRequest(req.withHeaders(h), t.get());
        } catch (SipParseException e) {
            LOG.debug("bad ACK dropped: {}", e.reason());
        }
    }

    /** A response no transaction wants (a late 2xx retransmission): forwarded statelessly if our Via is on top. */
    @Override
    public void onStrayResponse(SipResponse response, Source source) {
        try {
            List<Via> vias = response.vias();
            if (vias.size() < 2 || !isSelf(vias.get(0))) {
                return;
            }
            Via next = vias.get(1);
            Transport tp = Transport.fromVia(next.transport());
            if (tp == null) {
                return;
            }
            InetSocketAddress to = ViaProcessing.responseAddress(next);
            transport.send(response.withHeaders(response.headers().removeFirst(HeaderNames.VIA)), new Target(tp, to));
        } catch (SipParseException | UnknownHostException e) {
            LOG.debug("stray response dropped: {}", e.toString());
        }
    }

    /** The registrar to relay {@code r} to as an edge proxy, if this peer is one now and r is for a served domain. */
    private Optional<Target> upstreamFor(SipRequest r) {
        Optional<SipUri> up;
        try {
            up = upstreamRegistrar.get();
        } catch (RuntimeException e) {
            LOG.warn("cannot tell the upstream registrar: {}", e.toString());
            return Optional.empty();
        }
        if (up.isEmpty() || isSelf(up.get())) {
            return Optional.empty();
        }
        Optional<SipUri> to = r.to().sipUri();
        if (to.isEmpty() || !domains.contains(to.get().host().toLowerCase(Locale.ROOT))) {
            return Optional.empty(); // our registrar answers it (404 for other domains)
        }
        Optional<Target> t = targetOf(up.get());
        if (t.isEmpty()) {
            LOG.warn("the upstream registrar {} is no literal address: registering here instead", up.get());
        }
        return t;
    }

    /**
     * Relays a phone's REGISTER to the registrar (RFC 3327 §4.1): our Path, whose user part is a flow token for
     * the phone's flow (with {@code ob} when the phone uses RFC 5626 outbound, a reg-id), goes on top. A phone that
     * did not send {@code Supported: path} gets it added (our registrars require it; the edge is the element that
     * understands the Path) and the Path is taken out of the responses it gets.
     */
    private void relayRegister(ServerTransaction tx, SipRequest r, Target upstream) {
        OptionalInt mf = r.maxForwards();
        if (mf.isPresent() && mf.getAsInt() == 0) {
            tooManyHops.incrementAndGet();
            tx.respond(483, "Too Many Hops");
            return;
        }
        String hash = loopHash(r);
        if (looped(r, hash)) {
            loops.incrementAndGet();
            tx.respond(482, "Loop Detected");
            return;
        }
        boolean ob;
        try {
            ob = r.contacts().stream().anyMatch(c -> !c.wildcard() && c.address().params().get("reg-id").isPresent());
        } catch (SipParseException e) {
            tx.respond(400, e.reason());
            return;
        }
        SipRequest req = popOwnRoute(r);
        Headers h = req.headers().prepend(HeaderNames.PATH, "<" + pathUri(tx.source(), ob) + ">");
        boolean phoneSupportsPath = Registrar.supportsPath(req);
        if (!phoneSupportsPath) {
            h = h.add(HeaderNames.SUPPORTED, "path");
        }
        relayedRegisters.incrementAndGet();
        UnaryOperator<SipResponse> down = phoneSupportsPath ? UnaryOperator.identity()
                : resp -> resp.withHeaders(resp.headers().remove(HeaderNames.PATH));
        start(tx, new Fork(tx, List.of(List.of(new Branch(req.withHeaders(h), upstream, 1.0))), hash, null,
                "<" + selfUri() + ">", down));
    }

    /** Our Path URI for a phone's flow: {@code sip:TOKEN@host:port;lr}, and {@code ;ob} for an outbound phone. */
    String pathUri(Source flow, boolean ob) {
        String h = selfHost.indexOf(':') >= 0 && !selfHost.startsWith("[") ? "[" + selfHost + "]" : selfHost;
        SipOverlay o = overlay; // another site reaches this edge over the overlay, as it does our Record-Route
        return "sip:" + flowTokens.encode(flow) + "@" + h + ":" + selfPort + ";lr" + (ob ? ";ob" : "")
                + (o == null ? "" : o.location().uriParams());
    }

    /**
     * The flow named by the top Route when it is ours with a flow token, unless the request came from that very
     * flow (the phone's own requests in the dialog go on to the next hop, RFC 5626 §5.3).
     */
    private Optional<Target> flowOfOwnRoute(SipRequest r, Source from) {
        List<Address> routes = r.routes();
        if (routes.isEmpty() || !(routes.get(0).uri() instanceof SipUri u) || !isSelf(u) || u.user().isEmpty()) {
            return Optional.empty();
        }
        Optional<Target> t = flowTokens.decode(u.user().get());
        if (t.isPresent() && from != null && t.get().transport() == from.transport()
                && t.get().address().equals(from.remote())) {
            return Optional.empty();
        }
        return t;
    }

    /** The top Route as written (our Route with its flow token), as a Record-Route entry. */
    private static String ownRouteUri(SipRequest r) {
        return r.headers().all(HeaderNames.ROUTE).get(0);
    }

    private SipRequest popOwnRoute(SipRequest r) {
        List<Address> routes = r.routes();
        if (!routes.isEmpty() && routes.get(0).uri() instanceof SipUri u && isSelf(u)) {
            return r.withHeaders(r.headers().removeFirst(HeaderNames.ROUTE));
        }
        return r;
    }

    private boolean isSelf(SipUri u) {
        int port = u.port() > 0 ? u.port() : 5060;
        return port == selfPort && sameHost(u.host());
    }

    private boolean isSelf(Via v) {
        return (v.portOrDefault() == selfPort || v.portOrDefault() == tlsPort()) && sameHost(v.host());
    }

    /** Our sent-by port for a branch over {@code t}: the TLS listener's for TLS (if any), else the UDP/TCP one. */
    private int viaPort(Transport t) {
        return t == Transport.TLS && tlsPort() > 0 ? tlsPort() : selfPort;
    }

    private int tlsPort() {
        return transport.tlsAddress().map(InetSocketAddress::getPort).orElse(-1);
    }

    private boolean sameHost(String host) {
        return SipUri.normalizeHost(host).equals(selfHost);
    }

    /**
     * Loop detection (§16.3 item 4, §16.6 item 8): our branches start with a hash of what routing depends on; a
     * request that carries a Via of ours with the hash it has now has been here in the same state.
     */
    private boolean looped(SipRequest r, String hash) {
        for (Via v : r.vias()) {
            if (isSelf(v) && v.branch().map(b -> b.startsWith(Via.MAGIC_COOKIE + hash + ".")).orElse(false)) {
                return true;
            }
        }
        return false;
    }

    static String loopHash(SipRequest r) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.requestUri()).append('\n')
                .append(r.from().tag().orElse("")).append('\n')
                .append(r.to().tag().orElse("")).append('\n')
                .append(r.callId().strip()).append('\n')
                .append(r.cseq().number()).append('\n')
                .append(String.join(",", r.headers().all(HeaderNames.ROUTE))).append('\n')
                .append(String.join(",", r.headers().all(HeaderNames.PROXY_REQUIRE)));
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Where to send a request for a phone's Contact: the flow its REGISTER came on, else the URI's host. */
    public Optional<Target> deliveryTarget(SipUri contact) {
        Optional<Source> flow = registrar.flow(contact.toString());
        if (flow.isPresent()) {
            return Optional.of(new Target(flow.get().transport(), flow.get().remote()));
        }
        return targetOf(contact);
    }

    /**
     * A target for a URI: TLS for {@code sips:}, else its transport parameter (UDP by default); host and port (5060
     * by default, 5061 for TLS).
     */
    public static Optional<Target> targetOf(Uri uri) {
        if (!(uri instanceof SipUri u)) {
            return Optional.empty();
        }
        // sips: always over TLS (RFC 3261 §26.2.2); sip: by its transport parameter, UDP by default
        boolean sips = "sips".equalsIgnoreCase(u.scheme());
        Transport tp = Transport.fromVia(sips ? "tls" : u.transport().orElse("udp"));
        if (tp == null || (sips && tp != Transport.TLS)) {
            return Optional.empty();
        }
        String host = u.host();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (!InetAddresses.isInetAddress(host)) {
            // RFC 3263 (NAPTR/SRV/A) is not done yet, and a blocking lookup on the transaction thread for a name
            // taken from a DHT record would let anyone stall the proxy: only literal addresses are routed.
            return Optional.empty();
        }
        try {
            InetAddress a = InetAddresses.forString(host);
            if (ViaProcessing.forbidden(a)) {
                return Optional.empty();
            }
            return Optional.of(new Target(tp, new InetSocketAddress(a, u.port() > 0 ? u.port() : tp.defaultPort())));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
