package org.p2psip.sip.registrar;

import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.p2psip.sip.identity.UserIdentities;
import org.p2psip.sip.message.Address;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipParseException;
import org.p2psip.overlay.Bytes;
import org.p2psip.storage.CertificateNames;
import org.p2psip.storage.CompactRefresh;
import org.p2psip.storage.Contact;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.RecordKey;
import org.p2psip.storage.RefreshChain;
import org.p2psip.storage.SignedValues;
import org.p2psip.overlay.DhtValue;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.ValueContent;
import org.p2psip.storage.api.DraftDht;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bindings as the draft's signed contact records: each binding is one put-auth value under {@code sip:user@domain},
 * signed with the user's key ({@link UserIdentities}), holding one {@code contact} (its URI, q as {@code priority},
 * the Contact's header parameters as {@code params}, and as {@code path} this peer's URI followed by the REGISTER's
 * Path). The value's nonce is random per binding and kept here: a refresh re-puts the same nonce with a later
 * expiry (storing nodes replace the value); a refresh that shortens the expiry, which storing nodes refuse for the
 * same nonce, puts a new nonce and removes the old value. {@code Expires: 0} is remove-auth of every value of this
 * user's key that holds the Contact, so it works after a restart too.
 *
 * <p>{@link #lookup} reads every writer's values through {@link DraftDht#get}, which drops values whose signature
 * does not verify; it also drops values whose signer's certificate does not name the user. Which key owns the user
 * is enforced by the storing nodes' policy ({@code DraftPolicy}, tofu or ca).
 */
public final class SignedContactStore implements ContactStore {
    private static final Logger LOG = LoggerFactory.getLogger(SignedContactStore.class);

    /**
     * The value we stored for one binding: its nonce, its expiry now (the signed one, or what the last token
     * extended it to), its content, and, when its record signs a refresh chain, the signed value as put, the chain
     * the SHA-256 of its signed part (what a compact refresh names), and the last token revealed (0: none yet).
     */
    private record Mine(String nonce, Instant expires, Contact content, DhtValue signed, RefreshChain chain,
            Bytes signedDigest, int token) {
        Mine(String nonce, Instant expires, Contact content) {
            this(nonce, expires, content, null, null, null, 0);
        }

        /**
         * The first token that extends the record to at least {@code wanted}, or 0 when none can (no chain, or
         * beyond its end: sign again).
         */
        int tokenFor(Instant wanted) {
            if (chain == null) {
                return 0;
            }
            long step = chain.params().stepSeconds() * 1000L;
            long j = Math.max(1, (wanted.toEpochMilli() - signedExpiresMillis() + step - 1) / step);
            return j <= chain.params().length() ? (int) j : 0;
        }

        /** The expiry signed in the record (before any token). */
        long signedExpiresMillis() {
            return expires.toEpochMilli() - token * chain.params().stepSeconds() * 1000L;
        }

        /** This binding extended by token {@code j}. */
        Mine extended(int j) {
            long step = chain.params().stepSeconds() * 1000L;
            return new Mine(nonce, expires.plusMillis((j - token) * step), content, signed, chain, signedDigest, j);
        }
    }

    /**
     * Tokens of the refresh chain signed in each binding's record: one per second of extension, so every refresh a
     * second or more after the last one is stored (as a token, checked by hashing at every replica), for up to an
     * hour of refreshes before the next signature. A cold reader hashes at most this many times (about 1 ms).
     */
    public static final int CHAIN_LENGTH = 3_600;
    /** Seconds each token extends the record by. */
    public static final int CHAIN_STEP_SECONDS = 1;

    static final int SWEEP_EVERY = 1024;
    /** See {@link #SignedContactStore(DraftDht, UserIdentities, LongSupplier, double)}. */
    public static final double DEFAULT_REFRESH_STORE_FRACTION = 0.1;
    private final double refreshStoreFraction;
    private final java.util.concurrent.atomic.AtomicLong puts = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong coalesced = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong signedPuts = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong chainRefreshes = new java.util.concurrent.atomic.AtomicLong();
    private final boolean refreshChains;
    private final DraftDht dht;
    private final UserIdentities identities;
    private final LongSupplier clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Mine> mine = new ConcurrentHashMap<>();
    /** The last operation queued per binding (see {@link #serialized}). */
    private final Map<String, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();

    public SignedContactStore(DraftDht dht, UserIdentities identities, LongSupplier clock) {
        this(dht, identities, clock, DEFAULT_REFRESH_STORE_FRACTION);
    }

    /**
     * @param refreshStoreFraction a refresh of an unchanged binding (same Contact, q, parameters and Path) is signed
     *     and put again only when it extends the stored record's expiry by at least this fraction of the requested
     *     interval; an earlier one leaves the stored record as it is, and the registrar's 200, which lists the
     *     bindings read back, gives the phone the stored record's remaining time (RFC 3261 §10.3 lets a registrar
     *     shorten the interval). Phones that re-REGISTER in bursts (network changes, restarts, misconfigured short
     *     timers) then cost a DHT read instead of a signature and a verified store on every replica. 0 stores every
     *     REGISTER.
     */
    public SignedContactStore(DraftDht dht, UserIdentities identities, LongSupplier clock, double refreshStoreFraction) {
        this(dht, identities, clock, refreshStoreFraction, true);
    }

    /**
     * @param refreshChains whether each signed record carries a refresh chain ({@link #CHAIN_LENGTH} tokens of
     *     {@link #CHAIN_STEP_SECONDS} s), so that a stored refresh of an unchanged binding is the chain's next token,
     *     checked by hashing at every replica, rather than a new signature every replica verifies
     */
    public SignedContactStore(DraftDht dht, UserIdentities identities, LongSupplier clock, double refreshStoreFraction,
            boolean refreshChains) {
        this.refreshChains = refreshChains;
        if (!(refreshStoreFraction >= 0 && refreshStoreFraction <= 1)) {
            throw new IllegalArgumentException("refresh store fraction " + refreshStoreFraction + " is not within 0..1");
        }
        this.refreshStoreFraction = refreshStoreFraction;
        this.dht = dht;
        this.identities = identities;
        this.clock = clock;
    }

    static String localKey(String aor, String contact) {
        return aor + "\n" + contactUri(contact);
    }

    /** Contact records signed and put (each one verified and stored by every replica). */
    public long signedPuts() {
        return signedPuts.get();
    }

    /** Refreshes stored as the next token of the record's refresh chain (no signature; replicas check by hashing). */
    public long chainRefreshes() {
        return chainRefreshes.get();
    }

    /** Refreshes answered from the stored record without a new signature and put (see the constructor). */
    public long coalescedRefreshes() {
        return coalesced.get();
    }

    /** The Contact's URI text, the identity of a binding within an AOR. */
    static String contactUri(String contact) {
        try {
            return org.p2psip.sip.message.Contact.parse(contact).address().uri().toString();
        } catch (SipParseException e) {
            return contact;
        }
    }

    /** {@code sip:bob@example.net} → {@code bob@example.net}. */
    public static String userOf(String aor) {
        int colon = aor.indexOf(':');
        return colon >= 0 ? aor.substring(colon + 1) : aor;
    }

    @Override
    public CompletableFuture<Void> put(ContactBinding b) {
        if (puts.incrementAndGet() % SWEEP_EVERY == 0) {
            Instant now = Instant.ofEpochMilli(clock.getAsLong());
            mine.values().removeIf(m -> !m.expires().isAfter(now));
        }
        String user = userOf(b.aor());
        Contact content;
        ResourceName name;
        try {
            content = toRecord(b);
            name = ResourceName.sip(user);
        } catch (SipParseException | IllegalArgumentException e) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("binding of " + b.aor()
                    + " cannot be a contact record: " + e.getMessage(), e));
        }
        Instant expires = Instant.ofEpochSecond((b.expiresAtMillis() + 999) / 1000);
        String k = localKey(b.aor(), b.contact());
        return serialized(k, () -> identities.identity(user).thenCompose(id -> {
            Mine old = mine.get(k);
            long requestedMillis = b.expiresAtMillis() - clock.getAsLong();
            if (old != null && content.equals(old.content()) && expires.isAfter(old.expires())
                    && expires.toEpochMilli() - old.expires().toEpochMilli() < refreshStoreFraction * requestedMillis) {
                coalesced.incrementAndGet();
                return CompletableFuture.completedFuture(null); // the stored record still covers most of it
            }
            if (old != null && !expires.isAfter(old.expires())) {
                if (!expires.isBefore(old.expires()) && content.equals(old.content())) {
                    return CompletableFuture.completedFuture(null); // a refresh within the same second
                }
                // a shorter expiry: storing nodes keep the longer one for a nonce, so a new value replaces the old
                String nonce = newNonce();
                return putSigned(name, nonce, expires, content, id)
                        .thenCompose(m -> dht.removeAuth(RecordKey.of("k", name), old.nonce(), id)
                                .thenRun(() -> mine.put(k, m)));
            }
            if (old != null && content.equals(old.content())) {
                int j = old.tokenFor(expires);
                if (j > 0) { // the signed chain reaches that far: reveal its token, no signature
                    DhtValue token = SignedValues.refresh(old.signed(), old.chain().params(), old.signedExpiresMillis(),
                            j, old.chain().token(j));
                    chainRefreshes.incrementAndGet();
                    // replicas holding the record get the token alone (one datagram), the others the full value
                    return dht.putRefresh(RecordKey.of("k", name).dhtKey(), token, old.signedDigest())
                            .thenRun(() -> mine.put(k, old.extended(j)));
                }
            }
            if (old != null) {
                return putSigned(name, old.nonce(), expires, content, id).thenAccept(m -> mine.put(k, m));
            }
            // a binding new to this peer: the same Contact stored earlier with this key (before a restart, or
            // through another peer the phone used before) is replaced, not left to expire
            String nonce = newNonce();
            return putSigned(name, nonce, expires, content, id)
                    .thenAccept(m -> mine.put(k, m))
                    .thenCompose(x -> removeMatching(name, contactUri(b.contact()), nonce, id));
        }));
    }

    /**
     * Runs {@code op} after the previous operation on the same binding finished: two REGISTERs of one phone in
     * flight at once would otherwise both sign with the nonce known before either, and storing nodes refuse the
     * second as a replay (same nonce, same expiry second, other signature bytes).
     */
    private CompletableFuture<Void> serialized(String k, java.util.function.Supplier<CompletableFuture<Void>> op) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        CompletableFuture<Void> previous = inFlight.put(k, done);
        CompletableFuture<Void> start = previous == null ? CompletableFuture.completedFuture(null)
                : previous.handle((x, e) -> null);
        CompletableFuture<Void> result = start.thenCompose(x -> op.get());
        result.whenComplete((x, e) -> {
            inFlight.remove(k, done);
            done.complete(null);
        });
        return result;
    }

    /** remove-auth of this key's values under {@code name} that hold {@code contactUri}, except {@code keep}. */
    private CompletableFuture<Void> removeMatching(ResourceName name, String contactUri, String keep,
            SigningIdentity id) {
        RecordKey key = RecordKey.of("k", name);
        return dht.getAuth(key, id.owner()).thenCompose(values -> {
            List<CompletableFuture<?>> ops = new ArrayList<>();
            for (DraftDht.SignedValue v : values) {
                if (!v.nonce().equals(keep) && v.content() instanceof ValueContent.Contacts cs && cs.contacts().stream()
                        .anyMatch(c -> contactUri("<" + c.uri() + ">").equals(contactUri))) {
                    ops.add(dht.removeAuth(key, v.value(), id));
                }
            }
            return CompletableFuture.allOf(ops.toArray(CompletableFuture[]::new));
        });
    }

    /** Signs and puts a record for the binding (with a new refresh chain, if on); gives what to remember of it. */
    private CompletableFuture<Mine> putSigned(ResourceName name, String nonce, Instant expires, Contact c,
            SigningIdentity id) {
        DhtRecord rec = DhtRecord.of(name, expires, nonce, new ValueContent.Contacts(List.of(c)));
        signedPuts.incrementAndGet();
        if (!refreshChains) {
            return dht.putAuth(rec, id).thenApply(r -> new Mine(nonce, expires, c));
        }
        RefreshChain chain = RefreshChain.create(CHAIN_LENGTH, CHAIN_STEP_SECONDS, random);
        rec = new DhtRecord(rec.id(), rec.key(), rec.value().withChain(chain.params()));
        return dht.putAuthKeeping(rec, id).thenApply(v -> new Mine(nonce, expires, c, v, chain,
                CompactRefresh.digest(v.data().unsafeArray()), 0));
    }

    @Override
    public CompletableFuture<Void> remove(String aor, String contact) {
        String user = userOf(aor);
        String uri = contactUri(contact);
        String k = localKey(aor, contact);
        ResourceName name;
        try {
            name = ResourceName.sip(user);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(null);
        }
        return serialized(k, () -> {
            mine.remove(k);
            return identities.identity(user).thenCompose(id -> removeMatching(name, uri, null, id));
        });
    }

    @Override
    public CompletableFuture<List<ContactBinding>> lookup(String aor) {
        String user = userOf(aor);
        ResourceName name;
        try {
            name = ResourceName.sip(user);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(List.of()); // not a user name the overlay can hold
        }
        return dht.get(name).thenApply(values -> {
            long now = clock.getAsLong();
            Map<String, ContactBinding> byUri = new LinkedHashMap<>();
            for (DraftDht.SignedValue v : values) {
                if (!(v.content() instanceof ValueContent.Contacts cs)) {
                    continue;
                }
                List<X509Certificate> chain = v.record().chain();
                if (chain.isEmpty() || !CertificateNames.bindsUser(chain.get(0), user)) {
                    LOG.warn("contact record of {} from writer {} dropped: its certificate does not name the user",
                            user, v.writer().hex());
                    continue;
                }
                for (Contact c : cs.contacts()) {
                    ContactBinding b = fromRecord(aor, c, v.value().expiresAtMillis());
                    if (b == null || b.expiresAtMillis() <= now) {
                        continue;
                    }
                    byUri.merge(contactUri(b.contact()), b,
                            (x, y) -> x.expiresAtMillis() >= y.expiresAtMillis() ? x : y);
                }
            }
            return new ArrayList<>(byUri.values());
        });
    }

    /** The record's contact for a binding. */
    static Contact toRecord(ContactBinding b) throws SipParseException {
        Address a = org.p2psip.sip.message.Contact.parse(b.contact()).address();
        List<String> path = new ArrayList<>();
        path.add(b.path());
        for (String h : b.pathHeaders()) {
            path.add(Address.parse(h, HeaderNames.PATH).uri().toString());
        }
        String params = a.params().isEmpty() ? null : a.params().toString();
        return new Contact(a.uri().toString(), null, null, a.displayName(), null, b.q(), params, path, null);
    }

    /** The binding a record's contact describes, or null when it is not a usable SIP contact. */
    static ContactBinding fromRecord(String aor, Contact c, long valueExpiresMillis) {
        if (c.path().isEmpty()) {
            return null; // no peer to route through
        }
        try {
            Address parsed = Address.parse("<" + c.uri() + ">" + (c.params() == null ? "" : c.params()),
                    HeaderNames.CONTACT);
            String contact = new Address(c.displayName(), parsed.uri(), parsed.params()).toString();
            org.p2psip.sip.message.Contact.parse(contact);
            List<String> routes = new ArrayList<>();
            for (String hop : c.path().subList(1, c.path().size())) {
                routes.add("<" + hop + ">");
            }
            long exp = c.expires() == null ? valueExpiresMillis
                    : Math.min(valueExpiresMillis, c.expires().toEpochMilli());
            return new ContactBinding(aor, contact, c.priority(), c.path().get(0), routes, exp);
        } catch (SipParseException | IllegalArgumentException e) {
            return null;
        }
    }

    private String newNonce() {
        byte[] b = new byte[12];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
