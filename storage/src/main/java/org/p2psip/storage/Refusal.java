package org.p2psip.storage;

/**
 * Why a record, a document or a storage request was refused. The code is the first word of every refusal
 * reason ("BAD_SIGNATURE: ..."), so it reaches the writer through the overlay's reason string.
 */
public enum Refusal {
    /** The document is larger than the parser's limit. */
    TOO_LARGE(1001),
    /** The document has a DOCTYPE (DTDs, and with them all entity tricks, are refused). */
    DTD_REFUSED(1002),
    /** Elements nest deeper than the parser's limit. */
    TOO_DEEP(1003),
    /** An element has more attributes than the parser's limit. */
    TOO_MANY_ATTRIBUTES(1004),
    /** Not well-formed XML. */
    MALFORMED(1005),
    /** Well-formed, but not valid against the module's schemas. */
    INVALID(1006),
    /** Valid XML, but not a record this operation accepts (wrong root, missing parts, bad content). */
    BAD_RECORD(1007),
    /** A resource name that is none of the draft's forms. */
    BAD_NAME(1008),
    /** The XML signature is missing, malformed, uses a refused algorithm or does not verify. */
    BAD_SIGNATURE(1009),
    /** The record's key is not the DHT key it is stored under. */
    KEY_MISMATCH(1010),
    /** The value's owner is not the SHA-1 of the signer's public key. */
    OWNER_MISMATCH(1011),
    /** The value's nonce is not the record's nonce. */
    NONCE_MISMATCH(1012),
    /** The record has expired, or its expiry is not the one the value carries. */
    EXPIRED(1013),
    /** The signer may not write (or remove) this name. */
    NOT_ENTITLED(1014),
    /** A certificate of the signer's chain is outside its validity period. */
    CERT_EXPIRED(1015),
    /** The signer's certificate does not chain to the overlay's trust anchors. */
    CERT_UNTRUSTED(1016),
    /** An older expiry for the same writer and nonce, or a removal older than the value. */
    REPLAY(1017),
    /** A remove-auth digest that is not the hash of the stored value. */
    DIGEST_MISMATCH(1018),
    /** An EncryptedData that this key cannot open (wrong key, wrong password, tampered, or an algorithm we do not use). */
    CANNOT_DECRYPT(1019),
    /** An immutable value whose key or nonce is not its hash, or whose content is not a data or index node. */
    HASH_MISMATCH(1020),
    /** An immutable value that is already stored with a later expiry: the put changes nothing. */
    STORED_LONGER(1021),
    /**
     * A compact refresh ({@link CompactRefresh}) of a record this node does not hold, or holds in another signed
     * version: it cannot be expanded here, and the writer sends the full value.
     */
    NOT_HELD(1022);

    /** XML-RPC fault codes of refusals are {@code 1001..}; listed in the README, never renumbered. */
    private final int faultCode;

    Refusal(int faultCode) {
        this.faultCode = faultCode;
    }

    /** The number for interfaces that carry numeric error codes (the XML-RPC gateway's fault code). */
    public int faultCode() {
        return faultCode;
    }

    private static final java.util.regex.Pattern CODE = java.util.regex.Pattern.compile("(?:^|[:;] )([A-Z][A-Z_]+)(?=:|$|;)");

    /**
     * The first refusal code in a reason text, e.g. in the overlay's "no replica accepted the operation: REFUSED:
     * CERT_UNTRUSTED: …; REFUSED: …" (the code leads each replica's reason; overlay statuses are skipped).
     */
    public static java.util.Optional<Refusal> find(String text) {
        if (text == null) {
            return java.util.Optional.empty();
        }
        java.util.regex.Matcher m = CODE.matcher(text);
        while (m.find()) {
            for (Refusal r : values()) {
                if (r.name().equals(m.group(1))) {
                    return java.util.Optional.of(r);
                }
            }
        }
        return java.util.Optional.empty();
    }

    /** The reason string: {@code CODE: detail}. */
    public String reason(String detail) {
        return detail == null || detail.isEmpty() ? name() : name() + ": " + detail;
    }
}
