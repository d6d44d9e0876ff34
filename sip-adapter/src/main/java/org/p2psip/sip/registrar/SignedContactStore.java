package org.p2psip.sip.registrar;

import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
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
import org.p2psip.overlay.PutResult;
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
    /** Per AOR, the values last read (see {@link #putConfirmed}). */
    private final BindingViews views = new BindingViews(BindingViews.DEFAULT_AORS);
    private final java.util.concurrent.atomic.AtomicLong confirmedRegisters = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong readBackRegisters = new java.util.concurrent.atomic.AtomicLong();
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
        return write(b).thenApply(w -> null);
    }

    /**
     * {@inheritDoc} Answered from the AOR's {@link BindingViews view} when the put's replies confirm it: the put
     * stored on every replica, each replica summarised the key ({@link org.p2psip.overlay.HeldValues}), and each
     * summary lists exactly the values the view holds with their expiries, plus the value just put with its new
     * expiry. Anything else (a new binding, a coalesced refresh that put nothing, a value another peer added, one
     * removed or refreshed elsewhere, a replica that refused or gave no summary) completes empty: the caller reads.
     */
    @Override
    public CompletableFuture<Optional<List<ContactBinding>>> putConfirmed(ContactBinding b) {
        return write(b).thenApply(w -> {
            Optional<List<ContactBinding>> listed = w == null ? Optional.empty()
                    : views.confirm(b.aor(), w.value(), w.result(), fromRecord(b.aor(), w.content(),
                            w.value().expiresAtMillis()), clock.getAsLong());
            (listed.isPresent() ? confirmedRegisters : readBackRegisters).incrementAndGet();
            return listed;
        });
    }

    /** REGISTERs whose 200 was built from the AOR's view, which the put's replies confirmed (no read). */
    public long confirmedRegisters() {
        return confirmedRegisters.get();
    }

    /** REGISTERs whose put did not confirm the AOR's view, so the registrar read the AOR back. */
    public long readBackRegisters() {
        return readBackRegisters.get();
    }

    /** What this peer's put of a binding stored: the value, the put's result, the record's contact. */
    private record Written(DhtValue value, PutResult result, Contact content) { }

    /** A signed put: what to remember of the binding, the value stored and the put's result. */
    private record Signed(Mine mine, DhtValue value, PutResult result) { }

    /**
     * Stores or refreshes the binding; completes with what it put when one put of the binding's value was all it
     * did (a view may then be confirmed), else null.
     */
    private CompletableFuture<Written> write(ContactBinding b) {
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
                                .thenApply(x -> {
                                    mine.put(k, m.mine());
                                    return (Written) null; // two values changed: read back
                                }));
            }
            if (old != null && content.equals(old.content())) {
                int j = old.tokenFor(expires);
                if (j > 0) { // the signed chain reaches that far: reveal its token, no signature
                    DhtValue token = SignedValues.refresh(old.signed(), old.chain().params(), old.signedExpiresMillis(),
                            j, old.chain().token(j));
                    chainRefreshes.incrementAndGet();
                    // replicas holding the record get the token alone (one datagram), the others the full value
                    return dht.putRefresh(RecordKey.of("k", name).dhtKey(), token, old.signedDigest())
                            .thenApply(r -> {
                                mine.put(k, old.extended(j));
                                return new Written(token, r, content);
                            });
                }
            }
            if (old != null) {
                return putSigned(name, old.nonce(), expires, content, id).thenApply(m -> {
                    mine.put(k, m.mine());
                    return new Written(m.value(), m.result(), content);
                });
            }
            // a binding new to this peer: the same Contact stored earlier with this key (before a restart, or
            // through another peer the phone used before) is replaced, not left to expire
            String nonce = newNonce();
            return putSigned(name, nonce, expires, content, id)
                    .thenAccept(m -> mine.put(k, m.mine()))
                    .thenCompose(x -> removeMatching(name, contactUri(b.contact()), nonce, id))
                    .thenApply(x -> (Written) null); // it may have removed values too: read back
        }));
    }

    /**
     * Runs {@code op} after the previous operation on the same binding finished: two REGISTERs of one phone in
     * flight at once would otherwise both sign with the nonce known before either, and storing nodes refuse the
     * second as a replay (same nonce, same expiry second, other signature bytes).
     */
    private <T> CompletableFuture<T> serialized(String k, java.util.function.Supplier<CompletableFuture<T>> op) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        CompletableFuture<Void> previous = inFlight.put(k, done);
        CompletableFuture<Void> start = previous == null ? CompletableFuture.completedFuture(null)
                : previous.handle((x, e) -> null);
        CompletableFuture<T> result = start.thenCompose(x -> op.get());
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
    private CompletableFuture<Signed> putSigned(ResourceName name, String nonce, Instant expires, Contact c,
            SigningIdentity id) {
        DhtRecord rec = DhtRecord.of(name, expires, nonce, new ValueContent.Contacts(List.of(c)));
        signedPuts.incrementAndGet();
        if (!refreshChains) {
            return dht.putAuthStored(rec, id).thenApply(s -> new Signed(new Mine(nonce, expires, c), s.value(), s.result()));
        }
        RefreshChain chain = RefreshChain.create(CHAIN_LENGTH, CHAIN_STEP_SECONDS, random);
        rec = new DhtRecord(rec.id(), rec.key(), rec.value().withChain(chain.params()));
        return dht.putAuthStored(rec, id).thenApply(s -> new Signed(new Mine(nonce, expires, c, s.value(), chain,
                CompactRefresh.digest(s.value().data().unsafeArray()), 0), s.value(), s.result()));
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
            Map<DhtValue.ValueId, BindingViews.Entry> read = new TreeMap<>();
            for (DraftDht.SignedValue v : values) {
                // every value read is in the view, also those that hold no usable binding: a put's summary shows them
                read.put(v.value().id(), new BindingViews.Entry(v.value().expiresAtMillis(), bindingsOf(aor, user, v)));
            }
            views.read(aor, read);
            return new ArrayList<>(BindingViews.listed(read.values(), now));
        });
    }

    /** The usable bindings of {@code aor} a value read under {@code user}'s name holds. */
    private static List<ContactBinding> bindingsOf(String aor, String user, DraftDht.SignedValue v) {
        if (!(v.content() instanceof ValueContent.Contacts cs)) {
            return List.of();
        }
        List<X509Certificate> chain = v.record().chain();
        if (chain.isEmpty() || !CertificateNames.bindsUser(chain.get(0), user)) {
            LOG.warn("contact record of {} from writer {} dropped: its certificate does not name the user",
                    user, v.writer().hex());
            return List.of();
        }
        List<ContactBinding> out = new ArrayList<>();
        for (Contact c : cs.contacts()) {
            ContactBinding b = fromRecord(aor, c, v.value().expiresAtMillis());
            if (b != null) {
                out.add(b);
            }
        }
        return out;
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
