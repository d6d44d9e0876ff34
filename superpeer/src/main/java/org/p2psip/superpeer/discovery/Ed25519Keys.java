package org.p2psip.superpeer.discovery;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import org.p2psip.overlay.NodeId;

/**
 * A node's Ed25519 key pair as the superpeer module uses it: the same scheme as {@code org.p2psip.node.identity.NodeKeys}
 * (node id = SHA-1 of the raw 32-byte public key, the last 32 bytes of the 44-byte X.509 encoding), without a
 * dependency on the node module. {@code node/} passes its key pair in with {@link #of(KeyPair)}.
 */
public final class Ed25519Keys {
    public static final int RAW_PUBLIC_KEY_BYTES = 32;
    public static final int SIGNATURE_BYTES = 64;
    private static final byte[] X509_HEADER = HexFormat.of().parseHex("302a300506032b6570032100");
    private static final String ALGORITHM = "Ed25519";

    private final PrivateKey privateKey;
    private final byte[] rawPublicKey;
    private final NodeId id;

    private Ed25519Keys(PrivateKey privateKey, PublicKey publicKey) {
        this.privateKey = Objects.requireNonNull(privateKey);
        this.rawPublicKey = rawPublicKey(publicKey);
        this.id = NodeId.sha1(rawPublicKey);
    }

    public static Ed25519Keys generate() {
        try {
            return of(KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this Java runtime lacks Ed25519", e);
        }
    }

    public static Ed25519Keys of(KeyPair kp) {
        return new Ed25519Keys(kp.getPrivate(), kp.getPublic());
    }

    public NodeId id() {
        return id;
    }

    public byte[] rawPublicKey() {
        return rawPublicKey.clone();
    }

    public byte[] sign(byte[] data, int off, int len) {
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initSign(privateKey);
            s.update(data, off, len);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 signing failed", e);
        }
    }

    /** True when {@code sig} is a valid Ed25519 signature of the data by the raw public key; false on any failure. */
    public static boolean verify(byte[] rawPublicKey, byte[] data, int off, int len, byte[] sig) {
        if (rawPublicKey == null || rawPublicKey.length != RAW_PUBLIC_KEY_BYTES || sig == null
                || sig.length != SIGNATURE_BYTES) {
            return false;
        }
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initVerify(publicKey(rawPublicKey));
            s.update(data, off, len);
            return s.verify(sig);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false; // a point that does not decode, a malformed signature: not valid
        }
    }

    static PublicKey publicKey(byte[] raw) throws GeneralSecurityException {
        byte[] der = Arrays.copyOf(X509_HEADER, X509_HEADER.length + RAW_PUBLIC_KEY_BYTES);
        System.arraycopy(raw, 0, der, X509_HEADER.length, RAW_PUBLIC_KEY_BYTES);
        return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der));
    }

    static byte[] rawPublicKey(PublicKey key) {
        byte[] der = key.getEncoded();
        if (der == null || der.length != X509_HEADER.length + RAW_PUBLIC_KEY_BYTES
                || !Arrays.equals(der, 0, X509_HEADER.length, X509_HEADER, 0, X509_HEADER.length)) {
            throw new IllegalArgumentException("not an Ed25519 public key");
        }
        return Arrays.copyOfRange(der, X509_HEADER.length, der.length);
    }
}
