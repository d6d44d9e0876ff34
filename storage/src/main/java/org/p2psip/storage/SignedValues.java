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
     * The remove-auth request for {@code stored} (a value this writer put under {@code key}): a record with the
     * same key and nonce whose value is the SHA-256 of the stored data, expiring at {@code expires} (at least the
     * stored value's expiry).
     */
    public static RemoveRequest remove(RecordKey key, DhtValue stored, Instant expires, SigningIdentity writer)
            throws GeneralSecurityException {
        byte[] h = MessageDigest.getInstance("SHA-256").digest(stored.data().unsafeArray());
        DhtRecord proof = new DhtRecord(null, new RecordKey("k", key.name(), key.digest()),
                new RecordValue("v", expires, stored.nonce().utf8String(), null,
                        new ValueContent.Digest(Namespaces.DIGEST_SHA256, Bytes.wrap(h))));
        NodeId dhtKey = key.dhtKey();
        return new RemoveRequest(dhtKey, stored.owner(), stored.nonce(), Bytes.wrap(RecordSigner.sign(proof, writer)));
    }
}
