package org.p2psip.superpeer.leaf;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.p2psip.overlay.Bytes;

/**
 * The session cryptography of the leaf protocol: ephemeral X25519 keys (JDK), a shared secret turned into one
 * HMAC-SHA256 key per direction (extract-then-expand as in HKDF), and truncated MACs.
 */
final class LeafCrypto {
    static final int KEY_BYTES = 32;
    static final int MAC_BYTES = 16;
    private static final byte[] X25519_HEADER = HexFormat.of().parseHex("302a300506032b656e032100");

    private LeafCrypto() { }

    /** A fresh X25519 key pair and its raw 32-byte public key. */
    record Ephemeral(KeyPair pair, Bytes publicKey) {
        static Ephemeral generate() {
            try {
                KeyPair kp = KeyPairGenerator.getInstance("X25519").generateKeyPair();
                byte[] der = kp.getPublic().getEncoded();
                return new Ephemeral(kp, Bytes.wrap(Arrays.copyOfRange(der, X25519_HEADER.length, der.length)));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("this Java runtime lacks X25519", e);
            }
        }
    }

    /** The two directions' MAC keys of one session. */
    record SessionKeys(byte[] leafToSuperpeer, byte[] superpeerToLeaf) { }

    /**
     * Derives the session keys from this side's ephemeral key and the other side's raw public key.
     *
     * @throws GeneralSecurityException when the peer's key is not a usable X25519 point (e.g. all zero)
     */
    static SessionKeys derive(Ephemeral mine, Bytes theirs, Bytes leafEphemeral, Bytes superpeerEphemeral)
            throws GeneralSecurityException {
        byte[] der = Arrays.copyOf(X25519_HEADER, X25519_HEADER.length + KEY_BYTES);
        System.arraycopy(theirs.unsafeArray(), 0, der, X25519_HEADER.length, KEY_BYTES);
        PublicKey peer = KeyFactory.getInstance("X25519").generatePublic(new X509EncodedKeySpec(der));
        KeyAgreement ka = KeyAgreement.getInstance("X25519");
        ka.init(mine.pair().getPrivate());
        ka.doPhase(peer, true);
        byte[] shared = ka.generateSecret();
        if (MessageDigest.isEqual(shared, new byte[shared.length])) {
            throw new GeneralSecurityException("X25519 gave an all-zero secret (a low-order peer key)");
        }
        byte[] salt = new byte[2 * KEY_BYTES];
        System.arraycopy(leafEphemeral.unsafeArray(), 0, salt, 0, KEY_BYTES);
        System.arraycopy(superpeerEphemeral.unsafeArray(), 0, salt, KEY_BYTES, KEY_BYTES);
        byte[] prk = hmac(salt, shared, 0, shared.length);
        byte[] l2s = "p2psip leaf v1 leaf->superpeer".getBytes(StandardCharsets.US_ASCII);
        byte[] s2l = "p2psip leaf v1 superpeer->leaf".getBytes(StandardCharsets.US_ASCII);
        return new SessionKeys(hmac(prk, l2s, 0, l2s.length), hmac(prk, s2l, 0, s2l.length));
    }

    static byte[] hmac(byte[] key, byte[] data, int off, int len) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(data, off, len);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this Java runtime", e);
        }
    }

    /** The truncated MAC of {@code data[0..len)}. */
    static byte[] mac(byte[] key, byte[] data, int len) {
        return Arrays.copyOf(hmac(key, data, 0, len), MAC_BYTES);
    }
}
