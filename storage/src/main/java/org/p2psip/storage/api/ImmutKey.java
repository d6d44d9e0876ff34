package org.p2psip.storage.api;

import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.NodeId;

/**
 * The key of an immutable value: the SHA-256 of the stored bytes. Its first 160 bits are the DHT key
 * ({@link #dhtKey()}); the full 256 bits are what a reader checks, so a holder of an {@code ImmutKey} is protected
 * by SHA-256's collision resistance even though the overlay's key space has 160 bits.
 *
 * @param sha256 32 bytes
 */
public record ImmutKey(Bytes sha256) {
    /** Prefix of the URI form, {@code immut:sha256:<64 hex digits>} (ours; used e.g. in a CipherReference). */
    public static final String URI_PREFIX = "immut:sha256:";

    public ImmutKey {
        Objects.requireNonNull(sha256, "sha256");
        if (sha256.length() != 32) {
            throw new IllegalArgumentException("an immutable key is a 32-byte SHA-256, not " + sha256.length() + " bytes");
        }
    }

    /** The DHT key: the first 20 bytes of the SHA-256. */
    public NodeId dhtKey() {
        return NodeId.of(java.util.Arrays.copyOf(sha256.unsafeArray(), NodeId.BYTES));
    }

    public String hex() {
        return sha256.hex();
    }

    /** {@code immut:sha256:<hex>}. */
    public String uri() {
        return URI_PREFIX + hex();
    }

    /** Parses 64 hex digits. */
    public static ImmutKey fromHex(String hex) {
        if (hex.length() != 64) {
            throw new IllegalArgumentException("an immutable key is 64 hex digits");
        }
        return new ImmutKey(Bytes.wrap(HexFormat.of().parseHex(hex.toLowerCase(Locale.ROOT))));
    }

    /** Parses the {@link #uri()} form. */
    public static ImmutKey fromUri(String uri) {
        if (uri == null || !uri.startsWith(URI_PREFIX)) {
            throw new IllegalArgumentException("not an " + URI_PREFIX + " URI");
        }
        return fromHex(uri.substring(URI_PREFIX.length()));
    }

    @Override
    public String toString() {
        return uri();
    }
}
