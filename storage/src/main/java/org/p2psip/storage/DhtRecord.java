package org.p2psip.storage;

/**
 * The content of a {@code dhtRecord}: a key and a value. Whether and by whom it is signed is not part of
 * this model: see {@link RecordSigner} and {@link VerifiedRecord}.
 *
 * @param id the record's {@code Id} attribute, or null
 * @param key or null (get-immut has none)
 * @param value or null (get and get-auth have none)
 */
public record DhtRecord(String id, RecordKey key, RecordValue value) {
    /** A record with key Id "k" and value Id "v", ready to sign. */
    public static DhtRecord of(ResourceName name, java.time.Instant expires, String nonce, ValueContent content) {
        return new DhtRecord(null, RecordKey.of("k", name), new RecordValue("v", expires, nonce, null, content));
    }
}
