package org.p2psip.storage;

import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.p2psip.overlay.Bytes;

/**
 * A reader's memory of refresh chains (see {@link RefreshChain}): per signed anchor, the highest token it verified, so
 * a later read of the same record hashes only the gap (a cold read hashes {@code j} times from the anchor). An older
 * token is checked from the remembered newer one or from the anchor, whichever is shorter. Only verified tokens are
 * remembered; the caller has verified the signature over the anchor. Bounded (LRU). Thread-safe.
 */
public final class ChainCache {
    /** Default number of anchors remembered (about 150 bytes each). */
    public static final int DEFAULT_ENTRIES = 16_384;

    private record Known(int j, byte[] token) {
    }

    private final int entries;
    private final Map<Bytes, Known> known;
    private final LongAdder hashes = new LongAdder();

    /** A cache of at most {@code entries} anchors. */
    public ChainCache(int entries) {
        if (entries < 1) {
            throw new IllegalArgumentException("a chain cache holds at least one anchor");
        }
        this.entries = entries;
        this.known = java.util.Collections.synchronizedMap(new LinkedHashMap<>(256, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Bytes, Known> eldest) {
                return size() > ChainCache.this.entries;
            }
        });
    }

    public ChainCache() {
        this(DEFAULT_ENTRIES);
    }

    /**
     * The expiry a value of a verified record may have, as a reader checks it: the record's signed {@code expires},
     * extended by the value's refresh token {@code t} when it carries one (null: none), which must be in the record's
     * signed chain ({@link #check}).
     *
     * @throws RecordException BAD_RECORD when a token comes with a record that signs no chain, BAD_SIGNATURE when the
     *     token is not in the chain
     */
    public long grantedUntil(RecordValue signed, RefreshTrailer.Trailer t) throws RecordException {
        long until = signed.expires().toEpochMilli();
        if (t == null) {
            return until;
        }
        if (signed.chain() == null) {
            throw new RecordException(Refusal.BAD_RECORD, "the value carries a refresh token but its record signs no chain");
        }
        if (!check(signed.chain(), t)) {
            throw new RecordException(Refusal.BAD_SIGNATURE, "refresh token " + t.j()
                    + " is not in the record's signed chain of " + signed.chain().length());
        }
        return signed.chain().expiryAt(until, t.j());
    }

    /**
     * Whether {@code t}'s token is token {@code t.j()} of {@code chain} (whose anchor the caller verified as signed).
     * False when {@code j} is beyond the chain's length or the token is forged.
     */
    public boolean check(RefreshChain.Params chain, RefreshTrailer.Trailer t) {
        int j = t.j();
        if (j < 1 || j > chain.length()) {
            return false;
        }
        byte[] token = t.token().unsafeArray();
        Known k = known.get(chain.anchor());
        boolean ok;
        if (k != null && k.j() == j) {
            ok = MessageDigest.isEqual(k.token(), token);
        } else if (k != null && k.j() < j) {
            ok = RefreshChain.verify(k.token(), k.j(), token, j);
            hashes.add(j - k.j());
        } else if (k != null && k.j() - j < j) {
            // an older token than the remembered one: it is H^(k.j - j) of the newer one
            ok = MessageDigest.isEqual(RefreshChain.hash(k.token(), k.j() - j), token);
            hashes.add(k.j() - j);
            return ok; // remember only the highest
        } else {
            ok = RefreshChain.verify(chain.anchor().unsafeArray(), 0, token, j);
            hashes.add(j);
        }
        if (ok && (k == null || k.j() < j)) {
            known.put(chain.anchor(), new Known(j, token.clone()));
        }
        return ok;
    }

    /** SHA-256 chain links computed so far (a warm read of an unchanged token costs none). */
    public long hashes() {
        return hashes.sum();
    }

    /** Anchors remembered now. */
    public int size() {
        return known.size();
    }
}
