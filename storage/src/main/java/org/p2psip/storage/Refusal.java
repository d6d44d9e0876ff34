package org.p2psip.storage;

/**
 * Why a record, a document or a storage request was refused. The code is the first word of every refusal
 * reason ("BAD_SIGNATURE: ..."), so it reaches the writer through the overlay's reason string.
 */
public enum Refusal {
    /** The document is larger than the parser's limit. */
    TOO_LARGE,
    /** The document has a DOCTYPE (DTDs, and with them all entity tricks, are refused). */
    DTD_REFUSED,
    /** Elements nest deeper than the parser's limit. */
    TOO_DEEP,
    /** An element has more attributes than the parser's limit. */
    TOO_MANY_ATTRIBUTES,
    /** Not well-formed XML. */
    MALFORMED,
    /** Well-formed, but not valid against the module's schemas. */
    INVALID,
    /** Valid XML, but not a record this operation accepts (wrong root, missing parts, bad content). */
    BAD_RECORD,
    /** A resource name that is none of the draft's forms. */
    BAD_NAME,
    /** The XML signature is missing, malformed, uses a refused algorithm or does not verify. */
    BAD_SIGNATURE,
    /** The record's key is not the DHT key it is stored under. */
    KEY_MISMATCH,
    /** The value's owner is not the SHA-1 of the signer's public key. */
    OWNER_MISMATCH,
    /** The value's nonce is not the record's nonce. */
    NONCE_MISMATCH,
    /** The record has expired, or its expiry is not the one the value carries. */
    EXPIRED,
    /** The signer may not write (or remove) this name. */
    NOT_ENTITLED,
    /** A certificate of the signer's chain is outside its validity period. */
    CERT_EXPIRED,
    /** The signer's certificate does not chain to the overlay's trust anchors. */
    CERT_UNTRUSTED,
    /** An older expiry for the same writer and nonce, or a removal older than the value. */
    REPLAY,
    /** A remove-auth digest that is not the hash of the stored value. */
    DIGEST_MISMATCH,
    /** An EncryptedData that this key cannot open (wrong key, wrong password, tampered, or an algorithm we do not use). */
    CANNOT_DECRYPT,
    /** An immutable value whose key or nonce is not its hash, or whose content is not a data or index node. */
    HASH_MISMATCH,
    /** An immutable value that is already stored with a later expiry: the put changes nothing. */
    STORED_LONGER;

    /** The reason string: {@code CODE: detail}. */
    public String reason(String detail) {
        return detail == null || detail.isEmpty() ? name() : name() + ": " + detail;
    }
}
