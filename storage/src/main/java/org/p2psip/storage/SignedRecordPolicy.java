package org.p2psip.storage;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.StoragePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The P2P-SIP draft's put-auth and remove-auth rules for the overlay's store. A {@link DhtValue} is accepted
 * when its data is a dhtRecord signed in XML-DSig ({@link RecordVerifier}) and
 * <ul>
 * <li>the record's key is the DHT key (the SHA-1 of the name, or the digest given);</li>
 * <li>the value's owner is the SHA-1 of the signer's public key, its nonce the record's nonce, and its
 * expiry not later than the record's {@code expires}, which has not passed;</li>
 * <li>the signer's certificates are within their validity and, in {@code ca} mode, chain to the trust anchors;</li>
 * <li>the signer is entitled to the name: in {@code ca} mode its certificate binds the user (or the user's
 * domain); in {@code tofu} mode it is the first key that wrote the user's names. Watcher lists
 * ({@code subscribe:}) and offline messages ({@code offline:}) take values from any sender, signed by the sender:
 * the KeyName names the sender, whose certificate binds it and (tofu) whose key owns it;</li>
 * <li>a {@code certificate:} value holds certificates that bind that name (in {@code ca} mode, chained to the
 * anchors; in {@code tofu} mode, of the signer's own key);</li>
 * <li>it does not replay: for the same writer and nonce the expiry only grows.</li>
 * </ul>
 * A value whose record signs a {@link RefreshChain} may carry a {@link RefreshTrailer} (token {@code j}) after the
 * signed document, extending it to {@code E0 + j·d}: when this node holds the same signed part, the token is checked
 * by hashing only (newer than the held one, within the chain) and nothing is verified again; otherwise the signed
 * part is checked as above and the token from the signed anchor.
 * A removal's proof is a dhtRecord signed the same way, with the same key and nonce, whose value is the
 * digest (SHA-256/384/512) of the stored value's data and whose {@code expires} is not before the stored
 * value's. The writer of the value may remove it; so may the user a {@code subscribe:} or {@code offline:}
 * name belongs to (Bob removes the messages he has read).
 * <p>
 * Every refusal's reason starts with its {@link Refusal} code. Thread-safe; it does not block (it verifies a
 * signature and, in ca mode, a certificate path on the calling thread).
 */
public final class SignedRecordPolicy implements StoragePolicy {
    private static final Logger LOG = LoggerFactory.getLogger(SignedRecordPolicy.class);

    /** How a writer becomes entitled to a name. */
    public enum Mode { CA, TOFU }

    private final Mode mode;
    private final Set<TrustAnchor> anchors;
    private final NameOwners owners;
    private final boolean digestKeysInCaMode;
    private final RecordVerifier verifier;
    /**
     * Certificate paths (by {@link #pathId}) that validated to the anchors (ca mode): a writer's every refresh carries
     * the same certificates, and the PKIX check (a CA signature verification per certificate) would otherwise dominate
     * the cost of a store. Only successes are kept; the validity period and keyUsage of every certificate are still
     * checked on each put, and the anchors never change for a policy. Bounded, least recently used out.
     */
    private final Map<Bytes, Boolean> trustedPaths = Collections.synchronizedMap(new LinkedHashMap<>(256, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Bytes, Boolean> eldest) {
            return size() > MAX_TRUSTED_PATHS;
        }
    });
    /** Most certificate paths remembered as trusted. */
    public static final int MAX_TRUSTED_PATHS = 16_384;

    /** The stored value a refresh extends: its DHT key, writer and nonce. */
    private record HeldKey(NodeId key, Bytes owner, Bytes nonce) {
    }

    /**
     * What a held record signs about its lifetime, read from {@code data}'s first {@code length} bytes, and the
     * SHA-256 of those bytes once a {@link CompactRefresh} asked for it (else null).
     */
    private record HeldSigned(byte[] data, int length, SignedExpiry.Signed signed, Bytes digest) {
        boolean holds(byte[] held, int len) {
            return length == len && java.util.Arrays.equals(data, 0, len, held, 0, len);
        }
    }

    /**
     * The signed expiry and chain of held records, so that each refresh of one does not read its signed part again
     * (a StAX reader per refresh showed among the top costs of {@code bench sip}). An entry is used only while the
     * held value's signed part is byte-equal to the one it was read from, and refers to the bytes the store holds.
     * 16,384 records: an LRU smaller than the records refreshed in turn misses on every one.
     */
    private final Map<HeldKey, HeldSigned> heldSigned = Collections.synchronizedMap(new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<HeldKey, HeldSigned> eldest) {
            return size() > 16_384;
        }
    });

    private SignedRecordPolicy(Mode mode, Set<TrustAnchor> anchors, NameOwners owners, boolean digestKeysInCaMode, RecordVerifier verifier) {
        this.mode = mode;
        this.anchors = anchors;
        this.owners = owners;
        this.digestKeysInCaMode = digestKeysInCaMode;
        this.verifier = verifier;
    }

    /**
     * {@code ca} mode: certificates must chain to {@code trustAnchors}.
     *
     * @param digestKeys whether to take records whose key is a digest (e.g. {@code private:} names): the name
     *        cannot be checked against the certificate then, so such keys fall back to first-writer ownership
     */
    public static SignedRecordPolicy ca(Collection<X509Certificate> trustAnchors, boolean digestKeys) {
        return ca(trustAnchors, digestKeys, NameOwners.inMemory());
    }

    /**
     * {@code ca} mode, keeping the first-writer claims of digest keys in {@code owners} (e.g. a persistent
     * record store's, so they survive a restart).
     */
    public static SignedRecordPolicy ca(Collection<X509Certificate> trustAnchors, boolean digestKeys, NameOwners owners) {
        return ca(trustAnchors, digestKeys, owners, null);
    }

    /**
     * {@code ca} mode; as {@link #tofu(NameOwners, LocallySigned)}, a value equal to a document signed here with
     * {@code signedHere} is not verified again (null: every value is verified).
     */
    public static SignedRecordPolicy ca(Collection<X509Certificate> trustAnchors, boolean digestKeys, NameOwners owners,
            LocallySigned signedHere) {
        Objects.requireNonNull(owners, "owners");
        if (trustAnchors.isEmpty()) {
            throw new IllegalArgumentException("ca mode needs at least one trust anchor");
        }
        Set<TrustAnchor> a = new HashSet<>();
        for (X509Certificate c : trustAnchors) {
            a.add(new TrustAnchor(c, null));
        }
        return new SignedRecordPolicy(Mode.CA, Set.copyOf(a), owners, digestKeys,
                new RecordVerifier(SecureXml.defaults(), Crypto.provider(), signedHere));
    }

    /** {@code tofu} mode, with the ownership registry to use. */
    public static SignedRecordPolicy tofu(NameOwners owners) {
        return tofu(owners, null);
    }

    /**
     * {@code tofu} mode; a value whose bytes are equal to a document this process's signer made with
     * {@code signedHere} (its local replica, or a copy of it coming back) is not verified again; every other rule is
     * applied as usual. Null: every value is verified.
     */
    public static SignedRecordPolicy tofu(NameOwners owners, LocallySigned signedHere) {
        return new SignedRecordPolicy(Mode.TOFU, Set.of(), Objects.requireNonNull(owners, "owners"), true,
                new RecordVerifier(SecureXml.defaults(), Crypto.provider(), signedHere));
    }

    public Mode mode() {
        return mode;
    }

    @Override
    public Decision checkPut(NodeId key, DhtValue value, DhtValue existing, long nowMillis) {
        try {
            CompactRefresh.Ref ref = CompactRefresh.parse(value.data().unsafeArray());
            if (ref != null) {
                return Decision.acceptAs(expand(key, value, ref, existing, nowMillis));
            }
            check(key, value, existing, nowMillis, null);
            return Decision.ACCEPT;
        } catch (RecordException e) {
            return Decision.refuse(e.getMessage());
        } catch (RuntimeException e) {
            return internalError(e);
        }
    }

    /**
     * Parses and verifies the value's signed document ahead of {@link #checkPut}, which then finds it in the
     * verifier's cache of successes (by SHA-256 of the bytes). A document that fails is refused here for good: no
     * stored state can make a bad signature or a malformed record acceptable. An expired value is left to
     * {@code checkPut}, which refuses it before verifying anything.
     */
    @Override
    public Decision precheckPut(NodeId key, DhtValue value, long nowMillis) {
        if (value.expiresAtMillis() <= nowMillis) {
            return null;
        }
        try {
            if (CompactRefresh.parse(value.data().unsafeArray()) != null
                    || RefreshTrailer.parse(value.data().unsafeArray()) != null) {
                // a refresh: checkPut decides it against the stored value, by hashing only when this node holds the
                // record; verifying the signed part here would cost a replica that holds it (and whose verifier cache
                // no longer has it) the very signature check the chain exists to save
                return null;
            }
        } catch (RecordException e) {
            return Decision.refuse(e.getMessage());
        }
        return verifyAhead(value.data().unsafeArray());
    }

    /**
     * False for refreshes (compact or full): {@link #precheckPut} leaves them to {@code checkPut}, which checks them by
     * hashing against the held value. True for anything else, malformed trailers included (refused ahead).
     */
    @Override
    public boolean checksAhead(NodeId key, DhtValue value) {
        try {
            byte[] data = value.data().unsafeArray();
            return CompactRefresh.parse(data) == null && RefreshTrailer.parse(data) == null;
        } catch (RecordException e) {
            return true;
        }
    }

    /** As {@link #precheckPut}, for a remove-auth proof. */
    @Override
    public Decision precheckRemove(NodeId key, RemoveRequest request, long nowMillis) {
        return verifyAhead(request.proof().unsafeArray());
    }

    private Decision verifyAhead(byte[] document) {
        try {
            verifier.verify(document);
            return null;
        } catch (RecordException e) {
            return Decision.refuse(e.getMessage());
        } catch (RuntimeException e) {
            return internalError(e);
        }
    }

    /**
     * Checks a put and returns the verified record (for callers that need its content); refusals are thrown.
     * Same rules as {@link #checkPut}.
     */
    public VerifiedRecord verifyPut(NodeId key, DhtValue value, DhtValue existing, long nowMillis) throws RecordException {
        VerifiedRecord vr = check(key, value, existing, nowMillis, null);
        return vr != null ? vr : verifier.verify(value.data().unsafeArray()); // a refresh checked by hashing
    }

    /** Signed documents this policy's verifier parsed and verified in full (each an XML-DSig verification). */
    public long fullVerifications() {
        return verifier.fullVerifications();
    }

    /** What an open key (one that is not a resource name) requires of a record's content. */
    @FunctionalInterface
    public interface ContentCheck {
        /** Throws a {@link RecordException} when the verified record is not acceptable under this key. */
        void check(VerifiedRecord record) throws RecordException;
    }

    /**
     * A put under an <em>open</em> key: a key whose record key is not one of the draft's resource names and that
     * takes values from any writer, each owning only its own (owner, nonce) values (e.g. the service interface's
     * registrations). Everything {@link #checkPut} checks applies (signature, binding of key, owner, nonce and
     * expiry, certificates and, in ca mode, the chain to the anchors, replay), except the name entitlement, which
     * {@code content} replaces.
     */
    public Decision checkOpenPut(NodeId key, DhtValue value, DhtValue existing, long nowMillis, ContentCheck content) {
        try {
            check(key, value, existing, nowMillis, Objects.requireNonNull(content, "content"));
            return Decision.ACCEPT;
        } catch (RecordException e) {
            return Decision.refuse(e.getMessage());
        } catch (RuntimeException e) {
            return internalError(e);
        }
    }

    /** A removal under an open key (see {@link #checkOpenPut}): only the writer of a value may remove it. */
    public Decision checkOpenRemove(NodeId key, RemoveRequest request, DhtValue existing, long nowMillis) {
        try {
            checkRemoval(key, request, existing, nowMillis, true);
            return Decision.ACCEPT;
        } catch (RecordException e) {
            return Decision.refuse(e.getMessage());
        } catch (RuntimeException e) {
            return internalError(e);
        }
    }

    @Override
    public Decision checkRemove(NodeId key, RemoveRequest request, DhtValue existing, long nowMillis) {
        try {
            checkRemoval(key, request, existing, nowMillis, false);
            return Decision.ACCEPT;
        } catch (RecordException e) {
            return Decision.refuse(e.getMessage());
        } catch (RuntimeException e) {
            return internalError(e);
        }
    }

    private VerifiedRecord check(NodeId key, DhtValue value, DhtValue existing, long now, ContentCheck open) throws RecordException {
        checkLifetime(value, existing, now); // cheap checks first
        byte[] data = value.data().unsafeArray();
        RefreshTrailer.Trailer trailer = RefreshTrailer.parse(data);
        if (trailer != null && existing != null && refreshesHeld(key, value, trailer, existing, now)) {
            return null; // the signed part is the one stored, checked when stored; the token was checked by hashing
        }
        VerifiedRecord vr = verifier.verify(data); // the signed part only (RecordVerifier strips a trailer)
        DhtRecord r = vr.record();
        if (r.value().content() instanceof ValueContent.Digest) {
            throw new RecordException(Refusal.BAD_RECORD, "a value holding a digest is a remove-auth proof, not a put");
        }
        checkBinding(key, r, value.owner(), value.nonce(), vr);
        Instant exp = r.value().expires();
        if (exp == null) {
            throw new RecordException(Refusal.BAD_RECORD, "a signed value needs an expires attribute");
        }
        long until = exp.toEpochMilli();
        if (trailer != null) {
            RefreshChain.Params chain = r.value().chain();
            if (chain == null) {
                throw new RecordException(Refusal.BAD_RECORD, "the value carries a refresh token but its record signs no chain");
            }
            checkToken(chain.anchor().unsafeArray(), 0, trailer, chain);
            until = chain.expiryAt(until, trailer.j());
        }
        checkGranted(until, value, now, trailer == null ? "the signed expiry" : "what token " + trailer.j() + " grants (E0 + j·d)");
        if (existing != null) {
            long before = authenticatedExpiry(existing.data().unsafeArray());
            if (until < before || (until == before && !value.data().equals(existing.data()))) {
                throw replay(before);
            }
        }
        checkCertificates(vr.chain(), now, "the signer's");
        if (open != null) {
            open.check(vr);
            return vr;
        }
        ResourceName name = r.key().isDigest() ? null : r.key().resourceName();
        if (name != null && name.kind() == ResourceName.Kind.CERTIFICATE) {
            checkCertificateValue(name, r.value().content(), vr, now);
        }
        entitle(key, r.key(), vr, now, false); // last: in tofu mode it claims the name
        return vr;
    }

    /**
     * The full refresh a {@link CompactRefresh} stands for, checked as a full refresh of the held value by hashing:
     * the held signed part followed by its trailer. Refused with {@link Refusal#NOT_HELD} when this node holds no
     * value with that signed part (the writer then sends the full value).
     */
    private DhtValue expand(NodeId key, DhtValue value, CompactRefresh.Ref ref, DhtValue existing, long now)
            throws RecordException {
        checkLifetime(value, existing, now);
        if (existing == null) {
            throw new RecordException(Refusal.NOT_HELD, "this node holds no value of this writer and nonce to refresh;"
                    + " send the full value");
        }
        byte[] held = existing.data().unsafeArray();
        RefreshTrailer.Trailer heldTrailer = RefreshTrailer.parse(held);
        int len = heldTrailer == null ? held.length : heldTrailer.signedLength();
        Bytes known = knownDigest(new HeldKey(key, existing.owner(), existing.nonce()), held, len);
        Bytes digest = known != null ? known : CompactRefresh.digest(held, len);
        if (!digest.equals(ref.signedDigest())) {
            throw new RecordException(Refusal.NOT_HELD, "this node holds another signed version of this record than the"
                    + " one this compact refresh extends; send the full value");
        }
        DhtValue full = new DhtValue(value.owner(), value.nonce(), Bytes.wrap(CompactRefresh.expand(held, len, ref)),
                value.expiresAtMillis());
        // the expanded value's trailer is the compact one's, after the held signed part
        RefreshTrailer.Trailer t = new RefreshTrailer.Trailer(len, ref.trailer().j(), ref.trailer().token());
        if (!refreshesHeld(key, full, t, existing, now, digest)) {
            throw new RecordException(Refusal.NOT_HELD, "the held value cannot be refreshed by hashing; send the full value");
        }
        return full;
    }

    /**
     * The checks of a put that need neither its signature nor its chain: it has not expired, and it does not claim a
     * shorter life than the value it replaces ({@code existing}, or null). Stores clamp expiries to their max TTL
     * before asking, so the values' expiries only bound the signed ones: a clamped refresh is never earlier than the
     * clamped value it replaces, hence this pre-check refuses no genuine refresh. The decisive check compares the
     * signed expiries, after verification.
     */
    private static void checkLifetime(DhtValue value, DhtValue existing, long now) throws RecordException {
        if (value.expiresAtMillis() <= now) {
            throw new RecordException(Refusal.EXPIRED, "the value expired at " + Instant.ofEpochMilli(value.expiresAtMillis()));
        }
        if (existing != null && value.expiresAtMillis() < existing.expiresAtMillis()) {
            throw replay(existing.expiresAtMillis());
        }
    }

    /**
     * A refresh of the value this node holds: true when it was checked here (by hashing only), false when its signed
     * part differs from the stored one (then it is checked in full). Refusals are thrown.
     */
    private boolean refreshesHeld(NodeId key, DhtValue value, RefreshTrailer.Trailer t, DhtValue existing, long now)
            throws RecordException {
        return refreshesHeld(key, value, t, existing, now, null);
    }

    /** As above; {@code digest}: the SHA-256 of the signed part, if known (kept for later compact refreshes). */
    private boolean refreshesHeld(NodeId key, DhtValue value, RefreshTrailer.Trailer t, DhtValue existing, long now,
            Bytes digest) throws RecordException {
        byte[] data = value.data().unsafeArray();
        byte[] held = existing.data().unsafeArray();
        RefreshTrailer.Trailer heldTrailer;
        try {
            heldTrailer = RefreshTrailer.parse(held);
        } catch (RecordException e) {
            return false; // not what this node stores; check in full
        }
        int len = t.signedLength();
        int heldLen = heldTrailer == null ? held.length : heldTrailer.signedLength();
        if (len != heldLen || !value.owner().equals(existing.owner()) || !value.nonce().equals(existing.nonce())
                || !java.util.Arrays.equals(data, 0, len, held, 0, len)) {
            return false;
        }
        HeldKey heldKey = new HeldKey(key, existing.owner(), existing.nonce());
        SignedExpiry.Signed signed = heldSigned(heldKey, held, len);
        RefreshChain.Params chain = signed.chain();
        if (chain == null || signed.expiresMillis() == Long.MIN_VALUE) {
            throw new RecordException(Refusal.BAD_RECORD, "the value carries a refresh token but its record signs no chain");
        }
        if (heldTrailer == null) {
            checkToken(chain.anchor().unsafeArray(), 0, t, chain);
        } else {
            checkToken(heldTrailer.token().unsafeArray(), heldTrailer.j(), t, chain);
        }
        checkGranted(chain.expiryAt(signed.expiresMillis(), t.j()), value, now, "what token " + t.j() + " grants (E0 + j·d)");
        // the refresh's bytes are what the store holds next: the entry then keeps no copy of its own alive
        heldSigned.put(heldKey, new HeldSigned(data, len, signed, digest != null ? digest : knownDigest(heldKey, held, len)));
        return true;
    }

    /**
     * The value's lifetime against the expiry its owner granted, {@code until} ({@code grant} says which, for the
     * message): the record must not have expired, and the stored copy may not claim to live longer.
     */
    private static void checkGranted(long until, DhtValue value, long now, String grant) throws RecordException {
        if (until <= now) {
            throw new RecordException(Refusal.EXPIRED, "the record expired at " + Instant.ofEpochMilli(until));
        }
        if (value.expiresAtMillis() > until) {
            throw new RecordException(Refusal.EXPIRED, "the value claims to expire at " + Instant.ofEpochMilli(value.expiresAtMillis())
                    + ", after " + grant + " " + Instant.ofEpochMilli(until));
        }
    }

    /**
     * What the held value's signed part (verified when stored) signs about its lifetime: remembered from the last
     * accepted refresh of the record, else read.
     */
    private SignedExpiry.Signed heldSigned(HeldKey k, byte[] held, int len) {
        HeldSigned h = heldSigned.get(k);
        if (h != null && h.holds(held, len)) {
            return h.signed();
        }
        return SignedExpiry.read(held); // remembered by the caller once the refresh is accepted
    }

    /** The held record's signed-part digest remembered with it, or null (not asked for yet). */
    private Bytes knownDigest(HeldKey k, byte[] held, int len) {
        HeldSigned h = heldSigned.get(k);
        return h != null && h.holds(held, len) ? h.digest() : null;
    }

    /** Token {@code t.j()} hashes to {@code known}, token {@code jKnown} (0: the anchor), within the chain. */
    private static void checkToken(byte[] known, int jKnown, RefreshTrailer.Trailer t, RefreshChain.Params chain) throws RecordException {
        if (t.j() > chain.length()) {
            throw new RecordException(Refusal.BAD_RECORD, "refresh token " + t.j() + " is beyond the signed chain's length "
                    + chain.length() + "; the writer must sign a new record");
        }
        if (t.j() <= jKnown) {
            throw new RecordException(Refusal.REPLAY, "this node holds refresh token " + jKnown + " of this record; token "
                    + t.j() + " is not newer (a refresh must reveal a later token)");
        }
        if (!RefreshChain.verify(known, jKnown, t.token().unsafeArray(), t.j())) {
            throw new RecordException(Refusal.BAD_SIGNATURE, "refresh token " + t.j() + " is not in the record's signed chain (forged)");
        }
    }

    /** The stored value's authenticated expiry: the signed {@code expires}, extended by its refresh token if any. */
    private static long authenticatedExpiry(byte[] stored) {
        SignedExpiry.Signed s = SignedExpiry.read(stored);
        try {
            RefreshTrailer.Trailer t = RefreshTrailer.parse(stored);
            if (t != null && s.chain() != null && s.expiresMillis() != Long.MIN_VALUE) {
                return s.chain().expiryAt(s.expiresMillis(), t.j());
            }
        } catch (RecordException e) {
            // stored data was checked when stored; an unreadable trailer counts as none
        }
        return s.expiresMillis();
    }

    private void checkRemoval(NodeId key, RemoveRequest req, DhtValue existing, long now, boolean open) throws RecordException {
        VerifiedRecord vr = verifier.verify(req.proof().unsafeArray());
        DhtRecord r = vr.record();
        if (!(r.value().content() instanceof ValueContent.Digest d)) {
            throw new RecordException(Refusal.BAD_RECORD, "a remove-auth proof holds the value's digest instead of the value");
        }
        boolean byWriter = vr.owner().equals(req.owner());
        checkBinding(key, r, vr.owner(), req.nonce(), vr);
        Instant exp = r.value().expires();
        if (exp == null || exp.toEpochMilli() <= now) {
            throw new RecordException(Refusal.EXPIRED, "a remove-auth proof needs an expires that has not passed");
        }
        checkCertificates(vr.chain(), now, "the remover's");
        if (!byWriter && open) {
            throw new RecordException(Refusal.NOT_ENTITLED, "only the writer of a value may remove it");
        }
        if (!byWriter) {
            ResourceName name = r.key().isDigest() ? null : r.key().resourceName();
            if (name == null || name.kind().ownedByUser()) {
                throw new RecordException(Refusal.NOT_ENTITLED, "only the writer of a value may remove it");
            }
            entitle(key, r.key(), vr, now, true);
        }
        if (existing != null) {
            if (exp.toEpochMilli() < existing.expiresAtMillis()) {
                throw new RecordException(Refusal.REPLAY, "the removal expires at " + exp + ", before the value it removes ("
                        + Instant.ofEpochMilli(existing.expiresAtMillis()) + ")");
            }
            String jca = switch (d.algorithm()) {
                case Namespaces.DIGEST_SHA256 -> "SHA-256";
                case Namespaces.DIGEST_SHA384 -> "SHA-384";
                case Namespaces.DIGEST_SHA512 -> "SHA-512";
                default -> throw new RecordException(Refusal.DIGEST_MISMATCH, "DigestMethod " + d.algorithm() + " is not accepted (SHA-256/384/512)");
            };
            byte[] signedPart;
            try {
                signedPart = RefreshTrailer.signedPart(existing.data().unsafeArray());
            } catch (RecordException e) {
                signedPart = existing.data().unsafeArray();
            }
            // the signed part: a removal holds whichever refresh token each replica stores
            if (!MessageDigest.isEqual(digest(jca, Bytes.wrap(signedPart)), d.digest().unsafeArray())) {
                throw new RecordException(Refusal.DIGEST_MISMATCH, "the digest is not the hash of the stored value's signed part");
            }
        }
    }

    private static RecordException replay(long storedExpiry) {
        String when = storedExpiry == Long.MIN_VALUE ? "(unreadable)" : Instant.ofEpochMilli(storedExpiry).toString();
        return new RecordException(Refusal.REPLAY, "this writer's value with this nonce is signed to expire at " + when
                + "; an update must be signed with a later expires (and a fresh signature)");
    }

    /** The record belongs under {@code key}, and owner and nonce are the signer's and the record's. */
    private static void checkBinding(NodeId key, DhtRecord r, Bytes owner, Bytes nonce, VerifiedRecord vr) throws RecordException {
        if (!r.key().dhtKey().equals(key)) {
            throw new RecordException(Refusal.KEY_MISMATCH, "the record's key " + r.key() + " is not DHT key " + key.shortHex());
        }
        if (!vr.owner().equals(owner)) {
            throw new RecordException(Refusal.OWNER_MISMATCH, "the owner must be the SHA-1 of the signer's public key");
        }
        if (r.value().nonce() == null || !Bytes.utf8(r.value().nonce()).equals(nonce)) {
            throw new RecordException(Refusal.NONCE_MISMATCH, "the value's nonce is not the record's nonce");
        }
    }

    /**
     * Checks that the signer may write (or, with {@code removing}, remove others' values under) the key.
     *
     * @return the resource name, or null for a digest key
     */
    private ResourceName entitle(NodeId key, RecordKey rk, VerifiedRecord vr, long now, boolean removing) throws RecordException {
        if (rk.isDigest()) {
            if (mode == Mode.CA && !digestKeysInCaMode) {
                throw new RecordException(Refusal.NOT_ENTITLED, "this overlay needs the resource name, not its digest, to check entitlement");
            }
            claim("key:" + key.toHex(), vr, key.shortHex());
            return null;
        }
        ResourceName name = rk.resourceName();
        boolean needsOwner = removing || name.kind().ownedByUser();
        if (!needsOwner) {
            entitleSender(vr);
            return name;
        }
        if (mode == Mode.CA) {
            X509Certificate leaf = vr.chain().get(0);
            // to remove others' values the certificate must name the user; a domain certificate writes for its users
            boolean ok = removing ? CertificateNames.bindsUser(leaf, name.user()) : CertificateNames.binds(leaf, name);
            if (!ok) {
                throw new RecordException(Refusal.NOT_ENTITLED, "the signer's certificate (" + leaf.getSubjectX500Principal().getName()
                        + ") binds neither " + name.user() + " nor " + name.domain());
            }
        } else if (removing) {
            // removing others' values never claims a name: the user must already own it
            if (!vr.owner().equals(owners.ownerOf("user:" + name.user()))) {
                throw new RecordException(Refusal.NOT_ENTITLED, "only " + name.user() + "'s key may remove others' values here");
            }
        } else {
            claim("user:" + name.user(), vr, name.user());
        }
        return name;
    }

    /**
     * A value others add under a user's {@code offline:} or {@code subscribe:} name is signed by its sender: the
     * signature's KeyName names the sender ({@code user@domain}), the signer's certificate binds that user (in ca mode
     * also through the user's domain, and chained to the anchors), and in tofu mode the signer's key owns the sender
     * (the first key that wrote the sender's names here; an unknown sender is claimed, as any first write is).
     */
    private void entitleSender(VerifiedRecord vr) throws RecordException {
        String keyName = vr.keyName();
        ResourceName sender;
        try {
            sender = keyName == null ? null : ResourceName.sip(keyName.strip());
        } catch (IllegalArgumentException e) {
            sender = null;
        }
        if (sender == null) {
            throw new RecordException(Refusal.NOT_ENTITLED, "a value under another user's offline: or subscribe: name"
                    + " must name its sender (user@domain) in the signature's KeyName; found "
                    + (keyName == null ? "none" : "'" + keyName + "'"));
        }
        if (vr.chain().isEmpty()) {
            throw new RecordException(Refusal.NOT_ENTITLED, "the sender " + sender.user() + " signs with a bare key;"
                    + " a value under another user's offline: or subscribe: name needs the sender's certificate");
        }
        X509Certificate leaf = vr.chain().get(0);
        boolean bound = CertificateNames.bindsUser(leaf, sender.user())
                || (mode == Mode.CA && CertificateNames.bindsDomain(leaf, sender.domain()));
        if (!bound) {
            throw new RecordException(Refusal.NOT_ENTITLED, "forged sender: the signer's certificate ("
                    + leaf.getSubjectX500Principal().getName() + ") does not bind " + sender.user());
        }
        if (mode == Mode.TOFU) {
            claim("user:" + sender.user(), vr, sender.user());
        }
    }

    private void claim(String subject, VerifiedRecord vr, String what) throws RecordException {
        Bytes owner = owners.claim(subject, vr.owner());
        if (!owner.equals(vr.owner())) {
            LOG.warn("tofu: refused a takeover of {} by key {} (owned by key {})", what, vr.owner().hex(), owner.hex());
            throw new RecordException(Refusal.NOT_ENTITLED, "takeover refused: " + what + " belongs to another key (trust on first use)");
        }
    }

    /** Validity of every certificate; in ca mode, a PKIX path to the anchors. */
    private void checkCertificates(List<X509Certificate> chain, long now, String whose) throws RecordException {
        if (chain.isEmpty()) {
            if (mode == Mode.CA) {
                throw new RecordException(Refusal.CERT_UNTRUSTED, whose + " key comes without a certificate");
            }
            return;
        }
        Date at = new Date(now);
        for (X509Certificate c : chain) {
            try {
                c.checkValidity(at);
            } catch (CertificateExpiredException e) {
                throw new RecordException(Refusal.CERT_EXPIRED, whose + " certificate " + c.getSubjectX500Principal().getName()
                        + " expired at " + c.getNotAfter().toInstant());
            } catch (CertificateNotYetValidException e) {
                throw new RecordException(Refusal.CERT_EXPIRED, whose + " certificate " + c.getSubjectX500Principal().getName()
                        + " is not valid before " + c.getNotBefore().toInstant());
            }
        }
        if (mode == Mode.CA) {
            X509Certificate leaf = chain.get(0);
            boolean[] ku = leaf.getKeyUsage();
            if (ku != null && !ku[0]) {
                throw new RecordException(Refusal.CERT_UNTRUSTED, whose + " certificate may not sign (keyUsage)");
            }
            List<X509Certificate> path = new ArrayList<>();
            for (X509Certificate c : chain) {
                boolean isAnchor = anchors.stream().anyMatch(a -> a.getTrustedCert().equals(c));
                if (!isAnchor) {
                    path.add(c);
                }
            }
            if (path.isEmpty()) {
                throw new RecordException(Refusal.CERT_UNTRUSTED, whose + " key is a trust anchor itself, not an end entity");
            }
            Bytes pathId = pathId(path);
            if (pathId != null && trustedPaths.containsKey(pathId)) {
                return; // this exact path validated before; validity and keyUsage were re-checked above
            }
            try {
                PKIXParameters p = new PKIXParameters(anchors);
                p.setRevocationEnabled(false);
                p.setDate(at);
                CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(path), p);
            } catch (GeneralSecurityException e) {
                throw new RecordException(Refusal.CERT_UNTRUSTED, whose + " certificate does not chain to this overlay's trust anchors: "
                        + e.getMessage());
            }
            if (pathId != null) {
                trustedPaths.put(pathId, Boolean.TRUE);
            }
        }
    }

    /** SHA-256 over the DER of the path's certificates, in order; null if one cannot be encoded. */
    private static Bytes pathId(List<X509Certificate> path) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (X509Certificate c : path) {
                byte[] der = c.getEncoded();
                md.update((byte) (der.length >>> 24));
                md.update((byte) (der.length >>> 16));
                md.update((byte) (der.length >>> 8));
                md.update((byte) der.length);
                md.update(der);
            }
            return Bytes.wrap(md.digest());
        } catch (GeneralSecurityException e) {
            return null;
        }
    }

    /** A certificate: value holds certificates that bind the name. */
    private void checkCertificateValue(ResourceName name, ValueContent content, VerifiedRecord vr, long now) throws RecordException {
        if (!(content instanceof ValueContent.Certificates certs)) {
            throw new RecordException(Refusal.BAD_RECORD, "a certificate: value holds a KeyInfo with X509Data");
        }
        X509Certificate leaf = RecordVerifier.leafFirst(certs.certificates()).get(0);
        if (!CertificateNames.bindsUser(leaf, name.user())) {
            throw new RecordException(Refusal.NOT_ENTITLED, "the stored certificate (" + leaf.getSubjectX500Principal().getName()
                    + ") does not bind " + name.user());
        }
        checkCertificates(RecordVerifier.leafFirst(certs.certificates()), now, "the stored");
        if (mode == Mode.TOFU && !leaf.getPublicKey().equals(vr.signerKey())) {
            throw new RecordException(Refusal.NOT_ENTITLED, "in tofu mode a writer publishes only its own certificate");
        }
    }

    /** A policy never throws into the overlay: an unexpected exception is a refusal, logged as the bug it is. */
    static Decision internalError(RuntimeException e) {
        LOG.error("storage policy: unexpected exception while checking a value; refused", e);
        return Decision.refuse(Refusal.BAD_RECORD.reason("internal error while checking the record (" + e.getClass().getSimpleName() + ")"));
    }

    private static byte[] digest(String alg, Bytes data) {
        try {
            return MessageDigest.getInstance(alg).digest(data.unsafeArray());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** For status output: mode and anchor subjects. */
    @Override
    public String toString() {
        return "SignedRecordPolicy[" + mode + (mode == Mode.CA ? ", anchors=" + anchors.stream()
                .map(a -> a.getTrustedCert().getSubjectX500Principal().getName()).toList() : "") + "]";
    }

}
