package org.p2psip.storage;

import java.time.Instant;
import java.util.Objects;

/**
 * The {@code value} element of a dhtRecord.
 *
 * @param id the {@code Id} attribute, which the signature references (null when unsigned)
 * @param expires the absolute expiry ({@code expires}), or null (immutable data and some certificates)
 * @param nonce the {@code nonce} token that tells one writer's values apart, or null
 * @param reference the {@code reference} attribute (the Id of the key it belongs to), or null
 * @param content what the value holds
 * @param chain the signed refresh chain (anchor, step, length; see {@link RefreshChain}), or null: no chain
 */
public record RecordValue(String id, Instant expires, String nonce, String reference, ValueContent content,
        RefreshChain.Params chain) {
    private static final java.util.regex.Pattern NONCE = java.util.regex.Pattern.compile("[\\x21-\\x7e]{1,64}");

    public RecordValue {
        Objects.requireNonNull(content, "content");
        expires = expires == null ? null : Times.truncate(expires);
        if (nonce != null && !NONCE.matcher(nonce).matches()) {
            throw new IllegalArgumentException("a nonce is 1 to 64 visible ASCII characters");
        }
        if (chain != null && expires == null) {
            throw new IllegalArgumentException("a refresh chain extends an expiry: the value needs one");
        }
    }

    /** A value without a refresh chain. */
    public RecordValue(String id, Instant expires, String nonce, String reference, ValueContent content) {
        this(id, expires, nonce, reference, content, null);
    }

    /** This value with {@code chain} signed in it (null: none). */
    public RecordValue withChain(RefreshChain.Params chain) {
        return new RecordValue(id, expires, nonce, reference, content, chain);
    }
}
