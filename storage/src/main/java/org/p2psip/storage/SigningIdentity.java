package org.p2psip.storage;

import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * A writer's key pair, its certificate chain (leaf first; a self-signed certificate in tofu mode, or empty
 * to publish the bare key as a KeyValue) and the KeyName it signs with (e.g. {@code bob@example.net}).
 */
public record SigningIdentity(PrivateKey privateKey, PublicKey publicKey, List<X509Certificate> chain, String keyName) {
    public SigningIdentity {
        Objects.requireNonNull(privateKey, "privateKey");
        Objects.requireNonNull(publicKey, "publicKey");
        chain = chain == null ? List.of() : List.copyOf(chain);
        if (!chain.isEmpty() && !chain.get(0).getPublicKey().equals(publicKey)) {
            throw new IllegalArgumentException("the first certificate of the chain must certify the signing key");
        }
    }

    public static SigningIdentity of(KeyPair keys, List<X509Certificate> chain, String keyName) {
        return new SigningIdentity(keys.getPrivate(), keys.getPublic(), chain, keyName);
    }

    /** The DHT owner of this writer's values: SHA-1 of the public key's SubjectPublicKeyInfo. */
    public org.p2psip.overlay.Bytes owner() {
        return VerifiedRecord.ownerOf(publicKey);
    }
}
