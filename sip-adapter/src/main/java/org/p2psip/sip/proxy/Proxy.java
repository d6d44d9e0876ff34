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
 * Request-URI (a phone's Contact, reached via the peer that registered it); anything else is 404 (no open relay, no
 * RFC 3263 DNS yet).</li>
 * </ol>
 * Forwarding adds our Via and, for INVITE and SUBSCRIBE, a Record-Route, so ACK, BYE and re-INVITE of the dialog
 * come through us (ACKs of 2xx are forwarded statelessly). Responses come back through the client transaction and
 * go up with our Via removed. CANCEL is answered here and sent on to the branch. Transport errors give 480,
 * timeouts 408. All work runs on the transaction thread.
 */
public final class Proxy implements TransactionUser {
    private static final Logger LOG = LoggerFactory.getLogger(Proxy.class);
    static final int DEFAULT_MAX_FORWARDS = 70;
    /** Timer C: more than 3 minutes (§16.6 item 11). */
    public static final long DEFAULT_TIMER_C_MS = 181_000;

    /** Counters, for tests. */
    public record Stats(long forwarded, long lookups, long notFound, long unavailable, long loops, long tooManyHops) {
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
    /** The user agent embedded in this peer, if any (set once the application starts). */
    private volatile org.p2psip.sip.ua.LocalEndpoint endpoint;

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

    public String selfUri() {
        return selfUri;
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

    @Override
    public void onRequest(ServerTransaction tx, SipRequest r) {
        try {
            switch (r.method()) {
                case SipRequest.REGISTER -> registrar.onRegister(tx, r);
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
        SipRequest req = popOwnRoute(r);
        List<Address> routes = req.routes();
        if (!routes.isEmpty()) {
            Optional<Target> t = targetOf(routes.get(0).uri());
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
        if (ruri.user().isPresent() && domains.contains(ruri.host().toLowerCase(Locale.ROOT))) {
            lookupAndForward(tx, req, Registrar.aorOf(ruri), hash);
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
            // Not for a served AOR, not a phone registered here, and not routed to us by a peer's Route: we are no
            // open relay, and foreign domains need RFC 3263 DNS, which is not done yet.
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
            LOG.info("lookup of {} failed: {}", aor, err.toString());
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
                    t = targetOf(Address.parse(routeSet.get(0), HeaderNames.ROUTE).uri());
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
        // the peer's own socket is the application embedded in it (or offline delivery): not rate limited per source
        boolean own = tx.source().remote().equals(transport.localAddress());
        if (!own && !offline.admit(tx.source().remote().getAddress())) {
            SipResponse busy = tx.createResponse(503, "Service Unavailable (too many offline messages from you)");
            tx.respond(busy.withHeaders(busy.headers().add("Retry-After", "60")));
            return;
        }
        offline.leave(aor, req).whenComplete((stored, err) -> layer.execute(() -> {
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
        if (tx.state() != TransactionState.TRYING && tx.state() != TransactionState.PROCEEDING) {
            return; // answered meanwhile (CANCEL during the lookup, Timer expiry): nothing to forward
        }
        Fork fork = new Fork(tx, groups, hash, aor);
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
            h = h.prepend(HeaderNames.RECORD_ROUTE, "<" + selfUri + ">");
        }
        String branch = Via.MAGIC_COOKIE + hash + "."
                + org.p2psip.sip.transaction.Branch.next().substring(Via.MAGIC_COOKIE.length());
        h = h.prepend(HeaderNames.VIA, Via.of(b.target().transport().name(), selfHost, selfPort, branch)
                .toString());
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

        Fork(ServerTransaction tx, List<List<Branch>> groups, String hash, String aor) {
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
            tx.respond(response.withHeaders(response.headers().setAll(HeaderNames.VIA,
                    tx.request().headers().all(HeaderNames.VIA))));
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
            SipRequest req = popOwnRoute(ack);
            List<Address> routes = req.routes();
            org.p2psip.sip.ua.LocalEndpoint ep = endpoint;
            if (routes.isEmpty() && ep != null && req.requestUri() instanceof SipUri u && u.user().isPresent()
                    && isSelf(u)) {
                ep.onAck(req);
                return;
            }
            Optional<Target> t;
            if (!routes.isEmpty()) {
                t = targetOf(routes.get(0).uri());
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
            h = h.prepend(HeaderNames.VIA, Via.of(t.get().transport().name(), selfHost, selfPort,
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
        return v.portOrDefault() == selfPort && sameHost(v.host());
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

    /** A target for a URI: its transport parameter (UDP by default), host and port (5060 by default). */
    public static Optional<Target> targetOf(Uri uri) {
        if (!(uri instanceof SipUri u)) {
            return Optional.empty();
        }
        Transport tp = Transport.fromVia(u.transport().orElse("udp"));
        if (tp == null) {
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
            return Optional.of(new Target(tp, new InetSocketAddress(a, u.port() > 0 ? u.port() : 5060)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
