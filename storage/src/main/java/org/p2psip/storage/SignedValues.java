package org.p2psip.storage;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.StoragePolicy.RemoveRequest;

/**
 * The writer's side of {@link SignedRecordPolicy}: put-auth values and remove-auth proofs for the overlay.
 */
public final class SignedValues {
    private SignedValues() {
    }

    /**
     * Signs {@code record} and wraps it as the overlay's value: data = the signed XML, owner = SHA-1 of the
     * writer's public key, nonce = the record's nonce, expiry = the record's {@code expires}.
     */
    public static DhtValue put(DhtRecord record, SigningIdentity writer) throws GeneralSecurityException {
        return put(record, writer, null);
    }

    /**
     * As {@link #put(DhtRecord, SigningIdentity)}, and remembers a private copy of the signed document in
     * {@code signedHere} (if not null), so that a verifier sharing it does not re-check equal bytes (the local
     * replica, the writer's read-back from any replica).
     */
    public static DhtValue put(DhtRecord record, SigningIdentity writer, LocallySigned signedHere)
            throws GeneralSecurityException {
        RecordValue v = record.value();
        if (v == null || v.nonce() == null || v.expires() == null) {
            throw new IllegalArgumentException("a put-auth record needs a value with a nonce and an expiry");
        }
        org.w3c.dom.Document doc = RecordSigner.signToDocument(record, writer);
        byte[] xml = SecureXml.serialize(doc);
        if (signedHere == null) {
            return new DhtValue(writer.owner(), Bytes.utf8(v.nonce()), Bytes.wrap(xml), v.expires().toEpochMilli());
        }
        try {
            // what verifying these bytes gives, for this process's own replica and read-back (LocallySigned)
            signedHere.remember(xml, new VerifiedRecord(RecordXml.readRecord(doc.getDocumentElement()),
                    writer.publicKey(), writer.chain(), writer.keyName(), RecordSigner.signatureMethodFor(writer.privateKey())));
        } catch (RecordException e) {
            throw new IllegalArgumentException("the signed record does not read back: " + e.getMessage(), e);
        }
        return new DhtValue(writer.owner(), Bytes.utf8(v.nonce()), Bytes.wrap(xml), v.expires().toEpochMilli());
    }

    /**
     * A refresh of {@code signed} (a value this writer put, with or without a trailer) by token {@code j} of its
     * record's {@link RefreshChain}: the same owner and nonce, data = the signed document unchanged followed by the
     * {@link RefreshTrailer} of {@code (j, token)}, expiry = {@code E0 + j·d} (E0 = the signed {@code expires}). No
     * signature is made; storing nodes and readers check the token by hashing. The token is not checked here
     * ({@code token} should be {@code chain.token(j)}); a wrong one is refused by the storing nodes.
     *
     * @throws IllegalArgumentException when the record signs no chain or {@code j} is outside {@code 1..N}
     */
    public static DhtValue refresh(DhtValue signed, RefreshChain.Params chain, long signedExpiresMillis, int j,
            byte[] token) {
        // the writer knows what it signed: no read of the record (about as costly as the rest of a refresh)
        if (j < 1 || j > chain.length()) {
            throw new IllegalArgumentException("token " + j + " is outside the signed chain's 1.." + chain.length()
                    + ": sign a new record with a new chain");
        }
        byte[] part;
        try {
            part = RefreshTrailer.signedPart(signed.data().unsafeArray());
        } catch (RecordException e) {
            throw new IllegalArgumentException("not a value this writer put: " + e.getMessage(), e);
        }
        return new DhtValue(signed.owner(), signed.nonce(), Bytes.wrap(RefreshTrailer.append(part, j, token)),
                chain.expiryAt(signedExpiresMillis, j));
    }

    /**
     * As {@link #refresh(DhtValue, RefreshChain.Params, long, int, byte[])}, reading the chain and the signed expiry
     * from the record.
     */
    public static DhtValue refresh(DhtValue signed, int j, byte[] token) {
        byte[] part;
        try {
            part = RefreshTrailer.signedPart(signed.data().unsafeArray());
        } catch (RecordException e) {
            throw new IllegalArgumentException("not a value this writer put: " + e.getMessage(), e);
        }
        SignedExpiry.Signed s = SignedExpiry.read(part);
        if (s.chain() == null || s.expiresMillis() == Long.MIN_VALUE) {
            throw new IllegalArgumentException("the record signs no refresh chain (or no expiry): sign a new record to extend it");
        }
        if (j < 1 || j > s.chain().length()) {
            throw new IllegalArgumentException("token " + j + " is outside the signed chain's 1.." + s.chain().length()
                    + ": sign a new record with a new chain");
        }
        return new DhtValue(signed.owner(), signed.nonce(), Bytes.wrap(RefreshTrailer.append(part, j, token)),
                s.chain().expiryAt(s.expiresMillis(), j));
    }

    /**
     * The remove-auth request for {@code stored} (a value this writer put under {@code key}): a record with the
     * same key and nonce whose value is the SHA-256 of the stored data's signed part (without a refresh trailer, so
     * it removes the value whichever token a replica holds), expiring at {@code expires} (at least the stored value's
     * expiry; with a chain, at least {@code E0 + N·d} covers every replica).
     */
    public static RemoveRequest remove(RecordKey key, DhtValue stored, Instant expires, SigningIdentity writer)
            throws GeneralSecurityException {
        byte[] part;
        try {
            part = RefreshTrailer.signedPart(stored.data().unsafeArray());
        } catch (RecordException e) {
            throw new IllegalArgumentException("not a stored put-auth value: " + e.getMessage(), e);
        }
        byte[] h = MessageDigest.getInstance("SHA-256").digest(part);
        DhtRecord proof = new DhtRecord(null, new RecordKey("k", key.name(), key.digest()),
                new RecordValue("v", expires, stored.nonce().utf8String(), null,
                        new ValueContent.Digest(Namespaces.DIGEST_SHA256, Bytes.wrap(h))));
        NodeId dhtKey = key.dhtKey();
        return new RemoveRequest(dhtKey, stored.owner(), stored.nonce(), Bytes.wrap(RecordSigner.sign(proof, writer)));
    }
}
