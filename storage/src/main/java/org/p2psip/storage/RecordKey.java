package org.p2psip.storage;

import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.NodeId;

/**
 * The {@code key} element of a dhtRecord: a resource name (which the storing node hashes), or the
 * SHA-1 digest of one (the draft's {@code DigestMethod}/{@code DigestValue} form, which keeps e.g. the
 * secret of a {@code private:} name away from the storing nodes).
 *
 * @param id the {@code Id} attribute, which the signature references (may be null when unsigned)
 * @param name the resource name, or null for the digest form
 * @param digest the 20-byte SHA-1 of the name, or null for the name form
 */
public record RecordKey(String id, String name, Bytes digest) {
    public RecordKey {
        if ((name == null) == (digest == null)) {
            throw new IllegalArgumentException("a key is a name or a digest");
        }
        if (digest != null && digest.length() != NodeId.BYTES) {
            throw new IllegalArgumentException("a key digest is a 20-byte SHA-1");
        }
    }

    public static RecordKey of(String id, ResourceName name) {
        return new RecordKey(id, name.format(), null);
    }

    public static RecordKey digestOf(String id, ResourceName name) {
        return new RecordKey(id, null, Bytes.wrap(name.key().toBytes()));
    }

    /** The DHT key this record belongs under. */
    public NodeId dhtKey() {
        return name != null ? NodeId.ofName(name) : NodeId.of(digest.unsafeArray());
    }

    /** The parsed resource name; refused with {@link Refusal#BAD_NAME} for the digest form or a foreign name. */
    public ResourceName resourceName() throws RecordException {
        if (name == null) {
            throw new RecordException(Refusal.BAD_NAME, "the key is a digest, not a name");
        }
        return ResourceName.parse(name);
    }

    public boolean isDigest() {
        return digest != null;
    }

    @Override
    public String toString() {
        return name != null ? (name.startsWith("private:") ? "private:<...>" : name) : "sha1:" + digest.hex();
    }
}
