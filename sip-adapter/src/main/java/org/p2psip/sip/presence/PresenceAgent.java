package org.p2psip.sip.presence;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.NodeId;
import org.p2psip.sip.identity.CertificateDirectory;
import org.p2psip.sip.identity.UserIdentities;
import org.p2psip.sip.message.Address;
import org.p2psip.sip.message.Contact;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipParseException;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.SipUri;
import org.p2psip.sip.registrar.ContactBinding;
import org.p2psip.sip.registrar.ContactStore;
import org.p2psip.sip.registrar.Registrar;
import org.p2psip.sip.registrar.SignedContactStore;
import org.p2psip.sip.transaction.ServerTransaction;
import org.p2psip.sip.transaction.TimerService;
import org.p2psip.sip.transaction.TransactionLayer;
import org.p2psip.sip.transport.Target;
import org.p2psip.sip.ua.UserAgentClient;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.RecordCrypto;
import org.p2psip.storage.RecordKey;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.Watcher;
import org.p2psip.storage.api.DraftDht;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The presence notifier of a peer, for its phones as watchers (RFC 6665 with the presence package, RFC 3856):
 * a SUBSCRIBE with {@code Event: presence} for a user of a served domain is answered here with 202 and an immediate
 * NOTIFY carrying the presentity's PIDF (open when it has a live contact, else closed). The peer stores an
 * encrypted watcher record under {@code subscribe:presence:user@domain} (encrypted to the presentity's
 * certificate, signed with the peer's writer key; refreshed with the subscription, removed when it ends), and
 * {@code listen}s on the presentity's contact key: when the presentity registers, unregisters or its registration
 * expires, the replicas report it, the peer re-reads the verified contacts and sends NOTIFY on each change. A
 * timer at the earliest contact expiry re-checks in case an expiry report is lost. One listen per presentity,
 * shared by its subscriptions here. All state lives on the transaction thread.
 */
public final class PresenceAgent {
    private static final Logger LOG = LoggerFactory.getLogger(PresenceAgent.class);

    /** Subscription duration policy in seconds (RFC 3856 §6.4 suggests 3600 by default). */
    public record Expiry(long min, long dflt, long max) {
        public static final Expiry DEFAULT = new Expiry(60, 3600, 3600);
    }

    /** Counters, for tests and logs. */
    public record Stats(long subscriptions, long active, long notifies, long notifiesOpen, long notifiesClosed,
            long watcherRecords, long listens, long refused) {
    }

    /** What the peer follows of one presentity: the listen, its subscriptions here, and the status last read. */
    private static final class Watch {
        final String aor;
        final Set<PresenceSubscription> subs = new LinkedHashSet<>();
        Dht.Subscription listen;
        Boolean open;
        boolean reading;
        boolean readAgain;
        TimerService.Cancellable recheck;
        TimerService.Cancellable settle;
        /** The next read after a failed one, and the wait before it (0 after a success). */
        TimerService.Cancellable retry;
        long retryMillis;

        Watch(String aor) {
            this.aor = aor;
        }
    }

    private final TransactionLayer layer;
    private final UserAgentClient ua;
    private final ContactStore store;
    private final DraftDht dht;
    private final UserIdentities identities;
    private final CertificateDirectory certificates;
    private final Set<String> domains;
    private final Expiry expiry;
    private final LongSupplier clock;
    private final String contact;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, PresenceSubscription> subscriptions = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, Watch> watches = new HashMap<>();
    private final AtomicLong created = new AtomicLong();
    private final AtomicLong notifies = new AtomicLong();
    private final AtomicLong notifiesOpen = new AtomicLong();
    private final AtomicLong notifiesClosed = new AtomicLong();
    private final AtomicLong watcherRecords = new AtomicLong();
    private final AtomicLong listens = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    /** Active subscriptions per source address: a flood from one host cannot take every slot. */
    private final Map<java.net.InetAddress, Integer> perSource = new HashMap<>();
    /** Active subscriptions a peer keeps at most (each holds a listen and a watcher record). */
    public static final int MAX_SUBSCRIPTIONS = 10_000;
    /** Active subscriptions from one source address at most. */
    public static final int MAX_PER_SOURCE = 32;

    private final org.p2psip.sip.identity.SenderAuthentication senders;

    /**
     * @param senders who a SUBSCRIBE speaks for: its watcher record is signed with that watcher's key (a watcher
     *                this peer cannot authenticate is served without a record; one with an account here gets 407)
     */
    public PresenceAgent(TransactionLayer layer, UserAgentClient ua, ContactStore store, DraftDht dht,
            UserIdentities identities, Set<String> domains, Expiry expiry, LongSupplier clock,
            org.p2psip.sip.identity.SenderAuthentication senders) {
        this.senders = senders;
        this.layer = layer;
        this.ua = ua;
        this.store = store;
        this.dht = dht;
        this.identities = identities;
        this.certificates = new CertificateDirectory(dht);
        this.domains = Set.copyOf(domains);
        this.expiry = expiry;
        this.clock = clock;
        String h = ua.host().indexOf(':') >= 0 ? "[" + ua.host() + "]" : ua.host();
        this.contact = "<sip:" + h + ":" + ua.port() + ">";
    }

    public Stats stats() {
        long active = subscriptions.size();
        return new Stats(created.get(), active, notifies.get(), notifiesOpen.get(), notifiesClosed.get(),
                watcherRecords.get(), listens.get(), refused.get());
    }


    /**
     * True for the requests this agent answers: an initial SUBSCRIBE with {@code Event: presence} for a user of a
     * served domain, a SUBSCRIBE in one of its dialogs, and one addressed to this peer for a dialog that is gone
     * (481). Call on the transaction thread.
     */
    public boolean handles(SipRequest r) {
        if (!r.isMethod(SipRequest.SUBSCRIBE) || !isPresence(r)) {
            return false;
        }
        Optional<String> toTag = r.to().tag();
        if (toTag.isPresent()) { // ours, or addressed to our Contact (then 481 if the subscription is gone)
            return subscriptions.containsKey(PresenceSubscription.key(r.callId(), toTag.get(),
                    r.from().tag().orElse(""))) || (r.requestUri() instanceof SipUri u && isSelf(u));
        }
        return r.requestUri() instanceof SipUri u && u.user().isPresent()
                && domains.contains(u.host().toLowerCase(Locale.ROOT)) && r.routes().isEmpty();
    }

    private boolean isSelf(SipUri u) {
        return (u.port() > 0 ? u.port() : 5060) == ua.port() && SipUri.normalizeHost(u.host()).equals(ua.host());
    }

    private static boolean isPresence(SipRequest r) {
        return r.headers().first(HeaderNames.EVENT)
                .map(e -> e.split(";", 2)[0].strip().equalsIgnoreCase("presence")).orElse(false);
    }

    /** A SUBSCRIBE {@link #handles} accepted. Runs on the transaction thread. */
    public void onSubscribe(ServerTransaction tx, SipRequest r) {
        long requested;
        try {
            requested = r.expires().orElse(expiry.dflt());
        } catch (SipParseException e) {
            tx.respond(400, e.reason());
            return;
        }
        if (requested > 0 && requested < expiry.min()) {
            SipResponse resp = tx.createResponse(423, "Interval Too Brief");
            tx.respond(resp.withHeaders(resp.headers().add("Min-Expires", Long.toString(expiry.min()))));
            return;
        }
        long granted = Math.min(requested, expiry.max());
        Optional<String> toTag = r.to().tag();
        if (toTag.isPresent()) {
            inDialog(tx, r, toTag.get(), granted);
        } else {
            initial(tx, r, granted);
        }
    }

    private void initial(ServerTransaction tx, SipRequest r, long granted) {
        SipUri ruri = (SipUri) r.requestUri();
        String aor = Registrar.aorOf(ruri);
        SipUri remoteTarget;
        List<String> routeSet;
        try {
            List<Contact> cs = r.contacts();
            if (cs.size() != 1 || cs.get(0).wildcard() || !(cs.get(0).address().uri() instanceof SipUri u)) {
                tx.respond(400, "SUBSCRIBE needs one SIP Contact");
                return;
            }
            remoteTarget = u;
            routeSet = r.recordRoutes().stream().map(Address::toString).toList();
        } catch (SipParseException e) {
            tx.respond(400, e.reason());
            return;
        }
        if (r.from().tag().isEmpty()) {
            tx.respond(400, "SUBSCRIBE needs a From tag");
            return;
        }
        var who = senders.check(r, tx.source());
        if (who instanceof org.p2psip.sip.identity.SenderAuthentication.Challenge c) {
            LOG.debug("SUBSCRIBE challenged: {}", c.why());
            org.p2psip.sip.identity.SenderAuthentication.challenge(tx, c);
            return;
        }
        String signer = who instanceof org.p2psip.sip.identity.SenderAuthentication.Sender w ? w.user() : null;
        // NOTIFYs follow the route set, else go where the SUBSCRIBE came from (the phone's flow, NAT-friendly)
        Target target = routeSet.isEmpty() ? new Target(tx.source().transport(), tx.source().remote())
                : org.p2psip.sip.proxy.Proxy.targetOf(r.recordRoutes().get(0).uri()).orElse(null);
        if (target == null) {
            tx.respond(400, "Unroutable Record-Route");
            return;
        }
        String localTag = tx.toTag();
        Address local = r.to().withTag(localTag);
        String watcher = r.from().sipUri().map(u -> u.user().orElse("") + "@" + u.host().toLowerCase(Locale.ROOT))
                .orElse("anonymous@anonymous.invalid");
        long now = clock.getAsLong();
        PresenceSubscription s = new PresenceSubscription(aor, watcher, r.callId(), localTag, r.from(), local,
                remoteTarget, routeSet, target, nonce(), r.cseq().number(), now + granted * 1000);
        s.signer = signer;
        java.net.InetAddress source = tx.source().remote().getAddress();
        // the peer's own SIP socket is the application embedded in it (its subscriptions): no per-source cap
        boolean own = tx.source().remote().equals(ua.localAddress());
        if (granted > 0 && (subscriptions.size() >= MAX_SUBSCRIPTIONS
                || (!own && perSource.getOrDefault(source, 0) >= MAX_PER_SOURCE))) {
            refused.incrementAndGet();
            LOG.info("SUBSCRIBE from {} refused: {} subscriptions here, {} from it", source, subscriptions.size(),
                    perSource.getOrDefault(source, 0));
            SipResponse busy = tx.createResponse(503, "Service Unavailable (too many subscriptions)");
            tx.respond(busy.withHeaders(busy.headers().add("Retry-After", "60")));
            return;
        }
        SipResponse ok = tx.createResponse(202, "Accepted");
        tx.respond(ok.withHeaders(ok.headers().add(HeaderNames.CONTACT, contact)
                .add(HeaderNames.EXPIRES, Long.toString(granted))));
        created.incrementAndGet();
        if (granted == 0) { // a fetch: one NOTIFY with the current status, then the subscription ends
            s.terminate();
            readStatus(aor).thenAccept(open -> layer.execute(() -> sendNotify(s, "terminated;reason=timeout", open)));
            return;
        }
        subscriptions.put(s.key(), s);
        if (!own) {
            s.source = source;
            perSource.merge(source, 1, Integer::sum);
        }
        s.expiryTimer = layer.schedule(granted * 1000, () -> expire(s));
        Watch w = watches.computeIfAbsent(aor, Watch::new);
        w.subs.add(s);
        if (w.listen == null) {
            Optional<NodeId> key = contactKey(aor);
            if (key.isPresent()) {
                listens.incrementAndGet();
                w.listen = dht.overlay().listen(key.get(), ev -> layer.execute(() -> onReport(w)));
            }
        }
        putWatcherRecord(s);
        if (w.open != null && !w.reading) {
            sendNotify(s, state(s), w.open);
        } else {
            refresh(w);
        }
        LOG.info("{} subscribed to the presence of {} for {} s", watcher, aor, granted);
    }

    /** The DHT key of an AOR's contact records; empty when the AOR is no user name the overlay can hold. */
    private static Optional<NodeId> contactKey(String aor) {
        try {
            return Optional.of(ResourceName.sip(SignedContactStore.userOf(aor)).key());
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private void inDialog(ServerTransaction tx, SipRequest r, String toTag, long granted) {
        PresenceSubscription s = subscriptions.get(PresenceSubscription.key(r.callId(), toTag,
                r.from().tag().orElse("")));
        if (s == null || !s.active()) {
            tx.respond(481, "Subscription Does Not Exist");
            return;
        }
        if (r.cseq().number() <= s.remoteCseq) {
            tx.respond(500, "Server Internal Error (CSeq out of order)");
            return;
        }
        s.remoteCseq = r.cseq().number();
        SipResponse ok = tx.createResponse(200, "OK");
        tx.respond(ok.withHeaders(ok.headers().add(HeaderNames.CONTACT, contact)
                .add(HeaderNames.EXPIRES, Long.toString(granted))));
        Watch w = watches.get(s.aor);
        boolean open = w != null && Boolean.TRUE.equals(w.open);
        if (granted == 0) {
            LOG.info("{} unsubscribed from {}", s.watcher, s.aor);
            end(s, "terminated", open);
            return;
        }
        s.expiresAtMillis = clock.getAsLong() + granted * 1000;
        s.expiryTimer.cancel();
        s.expiryTimer = layer.schedule(granted * 1000, () -> expire(s));
        putWatcherRecord(s);
        sendNotify(s, state(s), open); // §4.2.1.1: a refresh is answered with a NOTIFY too
    }

    private void expire(PresenceSubscription s) {
        if (s.active()) {
            Watch w = watches.get(s.aor);
            LOG.info("the subscription of {} to {} expired", s.watcher, s.aor);
            end(s, "terminated;reason=timeout", w != null && Boolean.TRUE.equals(w.open));
        }
    }

    /** ACTIVE → TERMINATED with a final NOTIFY (unless the subscriber is gone), and the cleanup. */
    private void end(PresenceSubscription s, String finalState, boolean open) {
        if (!s.terminate()) {
            return;
        }
        if (finalState != null) {
            sendNotify(s, finalState, open);
        }
        subscriptions.remove(s.key());
        if (s.source != null) {
            perSource.computeIfPresent(s.source, (k, n) -> n > 1 ? n - 1 : null);
        }
        removeWatcherRecord(s);
        Watch w = watches.get(s.aor);
        if (w != null) {
            w.subs.remove(s);
            if (w.subs.isEmpty()) {
                watches.remove(s.aor);
                if (w.listen != null) {
                    w.listen.close();
                }
                if (w.recheck != null) {
                    w.recheck.cancel();
                }
                if (w.settle != null) {
                    w.settle.cancel();
                }
                if (w.retry != null) {
                    w.retry.cancel();
                }
            }
        }
    }

    private CompletableFuture<Boolean> readStatus(String aor) {
        return store.lookup(aor).thenApply(bs -> {
            long now = clock.getAsLong();
            return bs.stream().anyMatch(b -> b.expiresAtMillis() > now);
        });
    }

    private String state(PresenceSubscription s) {
        long left = Math.max(0, (s.expiresAtMillis - clock.getAsLong() + 999) / 1000);
        return "active;expires=" + left;
    }

    /** Wait before reading again after a failed read; doubled after each failure up to {@link #RETRY_MAX_MS}. */
    static final long RETRY_FIRST_MS = 1_000;
    static final long RETRY_MAX_MS = 30_000;

    /** How long after a listen report the contacts are read once more (replicas apply a change at different moments). */
    static final long SETTLE_MS = 1500;

    /**
     * A replica reported a change: read now, and once more a little later, because the read may still meet a replica
     * that has not applied the change yet (a removal reported by one replica while another still serves the value),
     * and that replica's own report may come before the read, or never.
     */
    private void onReport(Watch w) {
        refresh(w);
        if (w.settle != null) {
            w.settle.cancel();
        }
        w.settle = layer.schedule(SETTLE_MS, () -> {
            w.settle = null;
            refresh(w);
        });
    }

    /** Re-reads the presentity's contacts and notifies every subscription whose last NOTIFY said otherwise. */
    private void refresh(Watch w) {
        if (watches.get(w.aor) != w) {
            return; // no subscriptions left
        }
        if (w.reading) {
            w.readAgain = true;
            return;
        }
        w.reading = true;
        store.lookup(w.aor).whenComplete((bindings, err) -> layer.execute(() -> {
            w.reading = false;
            if (err != null) {
                // read again, backing off: without it a watch whose first read failed got no NOTIFY until the
                // presentity's next change (seen under load as watchers never told of a registered user)
                w.retryMillis = w.retryMillis == 0 ? RETRY_FIRST_MS : Math.min(2 * w.retryMillis, RETRY_MAX_MS);
                LOG.info("presence of {}: lookup failed: {}; reading again in {} ms", w.aor, err.toString(),
                        w.retryMillis);
                if (w.retry != null) {
                    w.retry.cancel();
                }
                w.retry = layer.schedule(w.retryMillis, () -> {
                    w.retry = null;
                    refresh(w);
                });
            } else {
                w.retryMillis = 0;
                long now = clock.getAsLong();
                boolean open = bindings.stream().anyMatch(b -> b.expiresAtMillis() > now);
                w.open = open;
                for (PresenceSubscription s : new ArrayList<>(w.subs)) {
                    if (s.active() && !Boolean.valueOf(open).equals(s.notifiedOpen)) {
                        sendNotify(s, state(s), open);
                    }
                }
                scheduleRecheck(w, bindings, now);
            }
            if (w.readAgain) {
                w.readAgain = false;
                refresh(w);
            }
        }));
    }

    /** A re-read just after the earliest contact expiry, in case the replicas' expiry report is lost. */
    private void scheduleRecheck(Watch w, List<ContactBinding> bindings, long now) {
        if (w.recheck != null) {
            w.recheck.cancel();
            w.recheck = null;
        }
        bindings.stream().mapToLong(ContactBinding::expiresAtMillis).filter(e -> e > now).min()
                .ifPresent(e -> w.recheck = layer.schedule(e - now + 1000, () -> refresh(w)));
    }

    private void sendNotify(PresenceSubscription s, String subscriptionState, boolean open) {
        s.notifiedOpen = open;
        SipRequest n = s.notify(subscriptionState, open, contact);
        notifies.incrementAndGet();
        (open ? notifiesOpen : notifiesClosed).incrementAndGet();
        ua.send(n, s.target).whenComplete((resp, err) -> layer.execute(() -> {
            if (err != null || resp.status() == 481 || resp.status() == 408) {
                // §4.2.2: the subscriber is gone; no final NOTIFY
                LOG.info("NOTIFY to {} failed ({}): subscription ended", s.watcher,
                        err != null ? err.toString() : resp.status());
                end(s, null, open);
            }
        }));
    }

    /** The encrypted watcher record of {@code s} under {@code subscribe:presence:user} (put or refreshed). */
    private void putWatcherRecord(PresenceSubscription s) {
        String user = SignedContactStore.userOf(s.aor);
        if (s.signer == null) {
            // the storing nodes take a watcher entry only signed by the watcher, whom this peer could not authenticate
            LOG.info("the watcher record of {} for {} is not stored: the watcher is no user this peer authenticates",
                    s.watcher, user);
            return;
        }
        Instant expires = Instant.ofEpochSecond((s.expiresAtMillis + 999) / 1000 + 1);
        certificates.find(user).thenCombine(identities.identity(s.signer), (cert, id) -> {
            s.signerIdentity = id;
            return cert;
        }).thenComposeAsync(cert -> {
            if (cert.isEmpty()) {
                LOG.info("no certificate of {} published: the watcher record of {} is not stored", user, s.watcher);
                return CompletableFuture.completedFuture(null);
            }
            try {
                var enc = RecordCrypto.encryptWatchers(List.of(new Watcher(s.aor, null, "presence",
                        s.watcher, expires)), cert.get().getPublicKey(), user);
                return dht.putAuth(DhtRecord.of(ResourceName.subscribe("presence", user), expires, s.watcherNonce,
                        enc), s.signerIdentity).thenRun(watcherRecords::incrementAndGet);
            } catch (java.security.GeneralSecurityException | IllegalArgumentException e) {
                return CompletableFuture.failedFuture(e);
            }
        }, identities.executor()).exceptionally(e -> {
            LOG.info("the watcher record of {} for {} was not stored: {}", s.watcher, user, e.toString());
            return null;
        });
    }

    private void removeWatcherRecord(PresenceSubscription s) {
        String user = SignedContactStore.userOf(s.aor);
        if (s.signer == null) {
            return; // none was stored
        }
        try {
            RecordKey key = RecordKey.of("k", ResourceName.subscribe("presence", user));
            identities.identity(s.signer)
                    .thenComposeAsync(id -> dht.removeAuth(key, s.watcherNonce, id), identities.executor())
                    .exceptionally(e -> {
                        LOG.info("the watcher record of {} for {} was not removed (it expires): {}", s.watcher, user,
                                e.toString());
                        return Optional.empty();
                    });
        } catch (IllegalArgumentException e) {
            // no such name: nothing was stored
        }
    }

    private String nonce() {
        byte[] b = new byte[12];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
