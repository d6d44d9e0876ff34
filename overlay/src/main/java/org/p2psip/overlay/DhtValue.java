package org.p2psip.overlay;

import java.util.Objects;

/**
 * One value stored under a key. A key holds several values, one per (owner, nonce), as the P2P-SIP
 * draft requires: {@code owner} identifies the writer (the hash of its public key for signed records,
 * the SHA-1 of a secret for OpenDHT's removable puts, empty for values nobody can remove), and
 * {@code nonce} tells one writer's values apart. {@code expiresAtMillis} is absolute (epoch ms), as the
 * draft's {@code expires} attribute is.
 */
public record DhtValue(Bytes owner, Bytes nonce, Bytes data, long expiresAtMillis) {
    /** Largest owner or nonce, in bytes. */
    public static final int MAX_ID_BYTES = 64;
    /** Largest value the overlay carries: 64 KiB. Larger records are fragmented by the storage layer. */
    public static final int MAX_DATA_BYTES = 64 * 1024;

    public DhtValue {
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(nonce, "nonce");
        Objects.requireNonNull(data, "data");
        if (owner.length() > MAX_ID_BYTES || nonce.length() > MAX_ID_BYTES) {
            throw new IllegalArgumentException("owner and nonce are at most " + MAX_ID_BYTES + " bytes");
        }
        if (data.length() > MAX_DATA_BYTES) {
            throw new IllegalArgumentException("a value is at most " + MAX_DATA_BYTES + " bytes, not " + data.length());
        }
    }

    /** The identity of this value within its key. */
    public ValueId id() {
        return new ValueId(owner, nonce);
    }

    /** Approximate bytes this value occupies in a store, used for quotas. */
    public int footprint() {
        return data.length() + owner.length() + nonce.length() + 64;
    }

    public boolean expiredAt(long nowMillis) {
        return expiresAtMillis <= nowMillis;
    }

    /** (owner, nonce): identifies a value within its key. */
    public record ValueId(Bytes owner, Bytes nonce) implements Comparable<ValueId> {
        @Override
        public int compareTo(ValueId o) {
            int c = owner.compareTo(o.owner);
            return c != 0 ? c : nonce.compareTo(o.nonce);
        }
    }
}
