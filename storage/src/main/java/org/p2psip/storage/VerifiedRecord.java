package org.p2psip.storage;

import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.List;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.NodeId;

/**
 * A record whose XML signature verified: its content and who signed it. Only the signature is checked here;
 * whether the signer may write the name, and whether its certificate is trusted, is {@link SignedRecordPolicy}'s.
 *
 * @param record the signed content (the key and value elements the signature references)
 * @param signerKey the key that verified the signature
 * @param chain the certificates of the KeyInfo, leaf (the signer's) first; empty when the key came as a KeyValue
 * @param keyName the KeyName, or null
 * @param signatureMethod the SignatureMethod URI
 */
public record VerifiedRecord(DhtRecord record, PublicKey signerKey, List<X509Certificate> chain, String keyName,
        String signatureMethod) {
    public VerifiedRecord {
        chain = List.copyOf(chain);
    }

    /** SHA-1 of the signer's public key (its SubjectPublicKeyInfo): the DHT owner of the value. */
    public Bytes owner() {
        return ownerOf(signerKey);
    }

    static Bytes ownerOf(PublicKey key) {
        return Bytes.wrap(NodeId.sha1(key.getEncoded()).toBytes());
    }
}
