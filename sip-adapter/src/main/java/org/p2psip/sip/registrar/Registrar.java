package org.p2psip.sip.registrar;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.p2psip.sip.message.Contact;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipParseException;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.SipUri;
import org.p2psip.sip.message.SipValidator;
import org.p2psip.sip.transaction.ServerTransaction;
import org.p2psip.sip.transport.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registrar (RFC 3261 §10.3) for phones that use this peer: digest authentication first (a REGISTER that fails
 * it never reaches the store), then each Contact is put, refreshed or removed in the {@link ContactStore} with this
 * peer's SIP URI as its path, and the 200 lists the AOR's current bindings with their remaining expiry. It also
 * remembers where each binding's REGISTER came from (the flow), so requests are delivered to a phone behind NAT at
 * its mapped address, and the Call-ID and CSeq that last changed it, so an out-of-order REGISTER (same Call-ID, CSeq
 * not higher) is refused with 500 (§10.3 step 7). A REGISTER with Path (RFC 3327, from an edge proxy such as a
 * superpeer in front of a leaf's phones) must carry {@code Supported: path} (else 420 with {@code Unsupported: path});
 * the Path is stored with the binding, echoed in the 200, and becomes the Route set of requests to that contact.
 */
public final class Registrar {
    private static final Logger LOG = LoggerFactory.getLogger(Registrar.class);

    /** Expiry policy in seconds. */
    public record Expiry(long min, long dflt, long max) {
        public static final Expiry DEFAULT = new Expiry(60, 3600, 86_400);
    }

    private final DigestAuthenticator auth;
    private final ContactStore store;
    private final java.util.function.Supplier<String> path;
    private final Set<String> domains;
    private final Expiry expiry;
    private final LongSupplier clock;
    private final RegistrationListener listener;
    /** What this peer knows of a binding it registered: its flow, and the Call-ID/CSeq that last changed it. */
    private record Local(Source flow, String callId, long cseq, long expiresAtMillis, ContactBinding binding) {
    }

    /** Contact URI (text) to the binding's local state; expired entries are swept every {@link #SWEEP_EVERY}. */
    private final Map<String, Local> local = new ConcurrentHashMap<>();
    static final int SWEEP_EVERY = 1024;
    private long registers;

    /**
     * @param path    this peer's SIP URI, e.g. {@code sip:192.0.2.1:5060;lr}: where other peers forward
     * @param domains the domains whose AORs this registrar accepts (empty: any)
     */
    public Registrar(DigestAuthenticator auth, ContactStore store, String path, Set<String> domains, Expiry expiry,
            LongSupplier clock) {
        this(auth, store, path, domains, expiry, clock, RegistrationListener.NONE);
    }

    /** @param listener told after each successful REGISTER that added or refreshed bindings (offline delivery) */
    public Registrar(DigestAuthenticator auth, ContactStore store, String path, Set<String> domains, Expiry expiry,
            LongSupplier clock, RegistrationListener listener) {
        this(auth, store, () -> path, domains, expiry, clock, listener);
    }

    /**
     * @param path this peer's SIP URI now (it may change: the overlay location of a leaf whose superpeer changed,
     *             {@link #restore()})
     */
    public Registrar(DigestAuthenticator auth, ContactStore store, java.util.function.Supplier<String> path,
            Set<String> domains, Expiry expiry, LongSupplier clock, RegistrationListener listener) {
        this.listener = listener;
        this.auth = auth;
        this.store = store;
        this.path = path;
        this.domains = domains;
        this.expiry = expiry;
        this.clock = clock;
    }

    /** The AOR of a SIP URI: {@code sip:user@host}, host lower-cased, no port or parameters. */
    public static String aorOf(SipUri uri) {
        return uri.scheme() + ":" + uri.user().orElse("") + "@" + uri.host().toLowerCase(Locale.ROOT);
    }

    /** Where the REGISTER for this Contact URI came from, if this peer registered it. */
    public Optional<Source> flow(String contactUri) {
        Local l = local.get(contactUri);
        return l == null || l.expiresAtMillis() <= clock.getAsLong() ? Optional.empty() : Optional.of(l.flow());
    }

    /** The AOR of the live binding this peer registered for this Contact URI (not through a Path), if any. */
    public Optional<String> localAor(String contactUri) {
        Local l = local.get(contactUri);
        return l == null || l.expiresAtMillis() <= clock.getAsLong() ? Optional.empty()
                : Optional.of(l.binding().aor());
    }

    /** How many unexpired bindings (devices) this peer registered itself, for status output. */
    public int localBindings() {
        long now = clock.getAsLong();
        return (int) local.values().stream().filter(l -> l.expiresAtMillis() > now).count();
    }

    public void onRegister(ServerTransaction tx, SipRequest r) {
        var rejection = SipValidator.checkForUas(r, Set.of());
        if (rejection.isPresent()) {
            tx.respond(rejection.get().status(), rejection.get().reason());
            return;
        }
        Optional<SipUri> to = r.to().sipUri();
        if (to.isEmpty() || to.get().user().isEmpty()) {
            tx.respond(400, "To is not a SIP AOR");
            return;
        }
        String aor = aorOf(to.get());
        if (!domains.isEmpty() && !domains.contains(to.get().host().toLowerCase(Locale.ROOT))) {
            tx.respond(404, "Not Found (domain not served)");
            return;
        }
        var result = auth.check(r.method(), r.headers().all(HeaderNames.AUTHORIZATION), to.get().user().get());
        if (result instanceof DigestAuthenticator.Challenge c) {
            LOG.debug("REGISTER {} challenged: {}", aor, c.why());
            SipResponse resp = tx.createResponse(401, "Unauthorized");
            tx.respond(resp.withHeaders(resp.headers().setAll(HeaderNames.WWW_AUTHENTICATE, c.wwwAuthenticate())));
            return;
        }
        List<Contact> contacts;
        long dflt;
        try {
            contacts = r.contacts();
            dflt = r.expires().orElse(expiry.dflt());
        } catch (SipParseException e) {
            tx.respond(400, e.reason());
            return;
        }
        List<String> pathHeaders;
        try {
            pathHeaders = r.paths().stream().map(Object::toString).toList();
        } catch (SipParseException e) {
            tx.respond(400, e.reason());
            return;
        }
        if (!pathHeaders.isEmpty() && !supportsPath(r)) {
            // RFC 3327 §5.3: a Path the UA did not declare it supports would not be echoed to it; refuse it
            // (Kamailio's "strict" mode) so that the edge proxy or the phone adds "Supported: path"
            SipResponse resp = tx.createResponse(420, "Bad Extension (Path without Supported: path)");
            tx.respond(resp.withHeaders(resp.headers().add(HeaderNames.UNSUPPORTED, "path")));
            return;
        }
        long now = clock.getAsLong();
        if (++registers % SWEEP_EVERY == 0) {
            local.values().removeIf(l -> l.expiresAtMillis() <= now);
        }
        String callId = r.callId().strip();
        long cseq = r.cseq().number();
        for (Contact c : contacts) {
            Local l = c.wildcard() ? null : local.get(c.address().uri().toString());
            if (l != null && l.expiresAtMillis() > now && l.callId().equals(callId) && cseq <= l.cseq()) {
                // §10.3 step 7: the same Call-ID with an older or equal CSeq is out of order
                tx.respond(500, "Server Internal Error (REGISTER out of order)");
                return;
            }
        }
        List<CompletableFuture<Void>> ops = new ArrayList<>();
        List<ContactBinding> added = new ArrayList<>();
        boolean newHere = false;
        Map<String, Local> created = new java.util.HashMap<>(); // new here: forgotten again if the store fails
        // the AOR's bindings as the store knows them after its put, when the REGISTER is that one put: then no read
        CompletableFuture<Optional<List<ContactBinding>>> known = CompletableFuture.completedFuture(Optional.empty());
        boolean wildcard = contacts.stream().anyMatch(Contact::wildcard);
        if (wildcard) {
            if (contacts.size() != 1 || dflt != 0) {
                tx.respond(400, "Contact * needs Expires: 0 and no other Contact");
                return;
            }
            String self = peerOf(path.get());
            ops.add(store.lookup(aor).thenCompose(all -> CompletableFuture.allOf(all.stream()
                    .filter(b -> peerOf(b.path()).equals(self))
                    .map(b -> removeBinding(aor, b.contact()))
                    .toArray(CompletableFuture[]::new))));
        } else {
            for (Contact c : contacts) {
                long e = c.expires().orElse(dflt);
                if (e > 0 && e < expiry.min()) {
                    SipResponse resp = tx.createResponse(423, "Interval Too Brief");
                    tx.respond(resp.withHeaders(resp.headers().add("Min-Expires", Long.toString(expiry.min()))));
                    return;
                }
            }
            for (Contact c : contacts) {
                long e = Math.min(c.expires().orElse(dflt), expiry.max());
                String stored = Contact.of(c.address().withParams(c.address().params().without("expires"))).toString();
                String uri = c.address().uri().toString();
                if (e == 0) {
                    ops.add(removeBinding(aor, stored));
                } else {
                    String q = c.address().params().get("q").orElse(null);
                    ContactBinding b = new ContactBinding(aor, stored, q, path.get(), pathHeaders, now + e * 1000);
                    Local before = local.get(uri);
                    boolean fresh = before == null || before.expiresAtMillis() <= now
                            || !before.binding().aor().equals(aor);
                    newHere |= fresh || !pathHeaders.isEmpty();
                    if (pathHeaders.isEmpty()) { // with Path, the source is the proxy in front, not the phone
                        Local l = new Local(tx.source(), callId, cseq, b.expiresAtMillis(), b);
                        local.put(uri, l);
                        if (fresh) {
                            created.put(uri, l);
                        }
                    } else {
                        local.remove(uri);
                    }
                    if (contacts.size() == 1) {
                        known = store.putConfirmed(b);
                        ops.add(known.<Void>thenApply(x -> null));
                    } else {
                        ops.add(store.put(b));
                    }
                    added.add(b);
                }
            }
        }
        boolean isNew = newHere;
        CompletableFuture<Optional<List<ContactBinding>>> confirmed = known;
        CompletableFuture.allOf(ops.toArray(CompletableFuture[]::new))
                .thenCompose(x -> confirmed.join().map(CompletableFuture::completedFuture)
                        .orElseGet(() -> store.lookup(aor)))
                .whenComplete((bindings, err) -> {
                    if (err != null) {
                        LOG.info("REGISTER {}: store failed: {}", aor, err.toString());
                        // not registered: the phone's retry is a new binding again (it reads offline messages)
                        created.forEach(local::remove);
                        SipResponse resp = tx.createResponse(503, "Service Unavailable (overlay store failed)");
                        tx.respond(resp.withHeaders(resp.headers().add("Retry-After", "10")));
                        return;
                    }
                    long t = clock.getAsLong();
                    SipResponse resp = tx.createResponse(200, "OK");
                    List<String> listed = new ArrayList<>();
                    for (ContactBinding b : bindings) {
                        try {
                            Contact c = Contact.parse(b.contact());
                            listed.add(Contact.of(c.address().withParams(c.address().params()
                                    .with("expires", Long.toString(b.remainingSeconds(t))))).toString());
                        } catch (SipParseException | IllegalArgumentException e) {
                            // a malformed binding under the AOR (not ours): not listed
                        }
                    }
                    if (!listed.isEmpty()) {
                        resp = resp.withHeaders(resp.headers().setAll(HeaderNames.CONTACT, listed));
                    }
                    if (!pathHeaders.isEmpty()) { // RFC 3327 §5.3: the stored Path goes back in the 200
                        resp = resp.withHeaders(resp.headers().setAll(HeaderNames.PATH, pathHeaders));
                    }
                    tx.respond(resp);
                    if (!added.isEmpty()) {
                        try {
                            listener.registered(aor, List.copyOf(added), isNew);
                        } catch (RuntimeException e) {
                            LOG.warn("registration listener failed for {}", aor, e);
                        }
                    }
                });
    }

    /**
     * Stores again every live binding this peer registered whose path is not this peer's URI now (its overlay
     * location changed: a leaf moved to another superpeer), so callers in other sites route through the new one.
     *
     * @return how many bindings were stored again
     */
    public CompletableFuture<Integer> restore() {
        String now = path.get();
        long t = clock.getAsLong();
        List<CompletableFuture<Void>> puts = new ArrayList<>();
        for (Map.Entry<String, Local> e : local.entrySet()) {
            Local l = e.getValue();
            if (l.expiresAtMillis() > t && !l.binding().path().equals(now)) {
                ContactBinding moved = new ContactBinding(l.binding().aor(), l.binding().contact(), l.binding().q(),
                        now, l.binding().pathHeaders(), l.expiresAtMillis());
                String key = e.getKey();
                // remembered as moved only once stored: a failed put is tried again at the next call
                puts.add(store.put(moved).thenRun(() -> local.replace(key, l,
                        new Local(l.flow(), l.callId(), l.cseq(), l.expiresAtMillis(), moved))));
            }
        }
        return CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).thenApply(x -> puts.size());
    }

    /** A peer URI without its parameters ({@code sip:host:port}): the same peer whatever its overlay location. */
    static String peerOf(String uri) {
        int semi = uri.indexOf(';');
        return semi < 0 ? uri : uri.substring(0, semi);
    }

    /** Whether a Supported header (or its compact form k) lists the option tag {@code path}. */
    public static boolean supportsPath(SipRequest r) {
        for (String h : r.headers().all(HeaderNames.SUPPORTED)) {
            for (String tag : h.split(",")) {
                if (tag.strip().equalsIgnoreCase("path")) {
                    return true;
                }
            }
        }
        return false;
    }

    private CompletableFuture<Void> removeBinding(String aor, String contact) {
        try {
            local.remove(Contact.parse(contact).address().uri().toString());
        } catch (SipParseException e) {
            // nothing remembered for it
        }
        return store.remove(aor, contact);
    }
}
