package org.p2psip.sip.identity;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.storage.ChainCache;
import org.p2psip.storage.LocallySigned;
import org.p2psip.storage.RecordException;
import org.p2psip.storage.Refusal;
import org.p2psip.storage.RefreshTrailer;
import org.p2psip.storage.VerifiedRecord;
import org.p2psip.storage.api.DraftDht;

/**
 * {@link DraftDht.ReadCheck#signatureOnly()} with a bounded cache of its successes: the proxy and the registrar
 * read the same contact records again and again (every call, every REGISTER's 200), and an XML-DSig verification
 * costs far more than a hash. A hit requires the same DHT key, owner, nonce and the SHA-256 of the exact data
 * bytes of its signed part (so the signed content is identical; a refresh trailer is not part of the key), and is
 * still checked: a refresh token must hash to the record's signed anchor (only the gap from the last token seen), and
 * the granted expiry (the signed one, or as the token extends it) must be in the future and the stored value may not
 * claim a later one. A registrar's read-back of a record refreshed through its chain then costs a hash of the signed
 * part and a token check, not a verification. Refusals are not cached.
 * A miss on a record this process signed itself costs no verification either when a {@link LocallySigned} is given.
 */
public final class CachingReadCheck implements DraftDht.ReadCheck {
    /** Entries kept (LRU); a contact record's verified form is a few KiB. */
    public static final int DEFAULT_ENTRIES = 16_384;

    private final DraftDht.ReadCheck inner;
    /** Verified signed parts (a record's signed document, without a refresh trailer) by key, owner, nonce and hash. */
    private final Map<String, VerifiedRecord> cache;
    /** Refresh tokens verified, shared with {@link #inner}: a hit hashes only the gap from the last token seen. */
    private final ChainCache chains = new ChainCache();

    public CachingReadCheck(int entries) {
        this(entries, null);
    }

    /**
     * @param signedHere the records this process signed (see {@link LocallySigned}): a value equal to one of them
     *        is not verified again on a miss (the registrar's read-back of the record it just stored, which is new to
     *        this cache); null to verify every miss
     */
    public CachingReadCheck(int entries, LocallySigned signedHere) {
        this.inner = DraftDht.ReadCheck.signatureOnly(signedHere, chains);
        this.cache = Collections.synchronizedMap(new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, VerifiedRecord> eldest) {
                return size() > entries;
            }
        });
    }

    @Override
    public VerifiedRecord check(NodeId key, DhtValue v, long nowMillis) throws RecordException {
        byte[] data = v.data().unsafeArray();
        RefreshTrailer.Trailer trailer = RefreshTrailer.parse(data); // a malformed trailer is refused here
        int signedLength = trailer == null ? data.length : trailer.signedLength();
        // keyed by the signed part: a record refreshed through its chain keeps its entry from token to token
        String k = key.toString() + "/" + v.owner().hex() + "/" + v.nonce().hex() + "/" + sha256(data, signedLength);
        VerifiedRecord hit = cache.get(k);
        if (hit == null) {
            VerifiedRecord vr = inner.check(key, v, nowMillis); // the signature, the binding, any token, the clock
            cache.put(k, vr);
            return vr;
        }
        long until = chains.grantedUntil(hit.record().value(), trailer);
        if (until <= nowMillis || v.expiresAtMillis() > until) {
            throw new RecordException(Refusal.EXPIRED, "expired, or the value claims a later expiry than the signed one");
        }
        return hit;
    }

    private static String sha256(byte[] data, int length) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(data, 0, length);
            return java.util.HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
