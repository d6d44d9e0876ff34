package org.p2psip.sip.identity;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.storage.LocallySigned;
import org.p2psip.storage.RecordException;
import org.p2psip.storage.Refusal;
import org.p2psip.storage.RecordValue;
import org.p2psip.storage.RefreshTrailer;
import org.p2psip.storage.VerifiedRecord;
import org.p2psip.storage.api.DraftDht;

/**
 * {@link DraftDht.ReadCheck#signatureOnly()} with a bounded cache of its successes: the proxy and the registrar
 * read the same contact records again and again (every call, every REGISTER's 200), and an XML-DSig verification
 * costs far more than a hash. A hit requires the same DHT key, owner, nonce and the SHA-256 of the exact data
 * bytes (so the signed content and any refresh token are identical), and is still checked against the clock: the
 * granted expiry (the signed one, or as a verified refresh-chain token extends it) must be in the future and the
 * stored value may not claim a later one. Refusals are not cached.
 * A miss on a record this process signed itself costs no verification either when a {@link LocallySigned} is given.
 */
public final class CachingReadCheck implements DraftDht.ReadCheck {
    /** Entries kept (LRU); a contact record's verified form is a few KiB. */
    public static final int DEFAULT_ENTRIES = 16_384;

    /** A verified value: its record, and the expiry its owner granted (signed, or extended by its refresh token). */
    private record Entry(VerifiedRecord record, long grantedUntil) {
    }

    private final DraftDht.ReadCheck inner;
    private final Map<String, Entry> cache;

    public CachingReadCheck(int entries) {
        this(entries, null);
    }

    /**
     * @param signedHere the records this process signed (see {@link LocallySigned}): a value equal to one of them
     *        is not verified again on a miss (the registrar's read-back of the record it just stored, which is new to
     *        this cache); null to verify every miss
     */
    public CachingReadCheck(int entries, LocallySigned signedHere) {
        this.inner = DraftDht.ReadCheck.signatureOnly(signedHere);
        this.cache = Collections.synchronizedMap(new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
                return size() > entries;
            }
        });
    }

    @Override
    public VerifiedRecord check(NodeId key, DhtValue v, long nowMillis) throws RecordException {
        String k = key.toString() + "/" + v.owner().hex() + "/" + v.nonce().hex() + "/" + sha256(v.data());
        Entry hit = cache.get(k);
        if (hit != null) {
            if (hit.grantedUntil() <= nowMillis || v.expiresAtMillis() > hit.grantedUntil()) {
                throw new RecordException(Refusal.EXPIRED, "expired, or the value claims a later expiry than the signed one");
            }
            return hit.record();
        }
        VerifiedRecord vr = inner.check(key, v, nowMillis);
        cache.put(k, new Entry(vr, grantedUntil(vr, v)));
        return vr;
    }

    /**
     * The signed expiry, or for a value refreshed through its record's chain the expiry its token grants (the inner
     * check verified the token); the key of the cache covers the trailer's bytes, so a hit is the same token.
     */
    private static long grantedUntil(VerifiedRecord vr, DhtValue v) throws RecordException {
        RecordValue rv = vr.record().value();
        long signed = rv.expires().toEpochMilli();
        RefreshTrailer.Trailer t = rv.chain() == null ? null : RefreshTrailer.parse(v.data().unsafeArray());
        return t == null ? signed : rv.chain().expiryAt(signed, t.j());
    }

    private static String sha256(Bytes data) {
        try {
            return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data.unsafeArray()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
