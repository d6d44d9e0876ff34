package org.p2psip.storage;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import javax.security.auth.Destroyable;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;
import org.w3c.dom.Element;

/**
 * The draft's {@code private:bob@example.net:<secret>} record (§4.2): the user's private key, encrypted with a key
 * derived from a password, so that the user's other devices can fetch it and share the identity.
 * <p>
 * Derivation: <b>Argon2id</b> (RFC 9106, version 0x13, Bouncy Castle's {@code Argon2BytesGenerator}) of the UTF-8
 * password with salt = the first 16 bytes of SHA-256({@code "p2psip private-key v1\0" ‖ user}), 64 bytes out; default
 * cost {@link KdfParams#DEFAULT} = RFC 9106's second recommended option, 64 MiB, 3 passes, 4 lanes. The first 32
 * bytes, in unpadded base64url (43 characters), are the {@code <secret>} of the name: a device that knows the user and
 * the password finds the record without anything else. The last 32 bytes are the AES-256-GCM key; they never leave
 * the device. The salt is per user but fixed (it must be, for the name to be found from the password alone); an
 * attacker who learns the name's hash can try passwords offline at Argon2 cost per guess, which is what the cost is
 * for. Choose a strong password.
 * <p>
 * The record is stored under the <em>digest</em> form of the key (the SHA-1 of the name), so storing nodes never see
 * the secret. Its value is an {@code xenc:EncryptedData} with {@code Type="urn:ietf:params:xml:ns:p2p-sip#private-key"},
 * {@code EncryptionMethod} aes256-gcm, a {@code ds:KeyInfo/xenc11:DerivedKey/xenc11:KeyDerivationMethod} with
 * Algorithm {@value #ARGON2ID} (our URI: XML Encryption defines PBKDF2 but no Argon2) holding a {@code p:argon2id}
 * element with the cost and salt, and {@code CipherValue} = 12-byte IV ‖ ciphertext ‖ 16-byte tag. The plaintext is
 * the private key in PKCS#8 DER; the additional authenticated data is {@code "p2psip private-key v1\0" ‖ user}. The
 * record is signed with the very key it holds (put-auth), so the public key and certificate chain come back with it
 * in the signature's KeyInfo ({@link Unlocked#restore}).
 */
public final class PrivateKeyRecord {
    /** The {@code Type} of the EncryptedData. */
    public static final String TYPE = Namespaces.P2P_SIP + "#private-key";
    /** Our KeyDerivationMethod URI for Argon2id. */
    public static final String ARGON2ID = Namespaces.P2P_SIP + "#argon2id";
    static final String XENC11 = "http://www.w3.org/2009/xmlenc11#";
    private static final String CONTEXT = "p2psip private-key v1\0";
    private static final SecureRandom RANDOM = new SecureRandom();

    private PrivateKeyRecord() {
    }

    /**
     * Argon2id cost.
     *
     * @param memoryKiB memory in KiB (at least 8 per lane, at most 1 GiB)
     * @param iterations passes (1..16)
     * @param parallelism lanes (1..16)
     */
    public record KdfParams(int memoryKiB, int iterations, int parallelism) {
        /** RFC 9106 §4, second recommended option: 64 MiB, t = 3, p = 4. */
        public static final KdfParams DEFAULT = new KdfParams(64 * 1024, 3, 4);

        public KdfParams {
            if (parallelism < 1 || parallelism > 16 || iterations < 1 || iterations > 16
                    || memoryKiB < 8 * parallelism || memoryKiB > 1 << 20) {
                throw new IllegalArgumentException("Argon2id cost out of range: m=" + memoryKiB + " KiB, t=" + iterations + ", p=" + parallelism);
            }
        }
    }

    /**
     * Derives the name secret and the content key of {@code user}'s private-key record from {@code password} (one
     * Argon2id run; slow by design). The password array is not kept.
     */
    public static Unlocked unlock(String user, char[] password, KdfParams params) {
        ResourceName probe = ResourceName.sip(user); // validates user@domain, lower-cases the host
        String canonicalUser = probe.user();
        byte[] salt = salt(canonicalUser);
        byte[] master = new byte[64];
        Argon2BytesGenerator g = new Argon2BytesGenerator();
        g.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id).withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withMemoryAsKB(params.memoryKiB()).withIterations(params.iterations()).withParallelism(params.parallelism())
                .withSalt(salt).build());
        g.generateBytes(password, master);
        String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(master, 32));
        byte[] key = Arrays.copyOfRange(master, 32, 64);
        Arrays.fill(master, (byte) 0);
        return new Unlocked(ResourceName.privateData(canonicalUser, secret), params, salt, key);
    }

    static byte[] salt(String user) {
        try {
            return Arrays.copyOf(java.security.MessageDigest.getInstance("SHA-256")
                    .digest((CONTEXT + user).getBytes(StandardCharsets.UTF_8)), 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A user's record name and content key, derived from the password. Destroy it when done. */
    public static final class Unlocked implements Destroyable {
        private final ResourceName name;
        private final KdfParams params;
        private final byte[] salt;
        private final byte[] key;
        private boolean destroyed;

        private Unlocked(ResourceName name, KdfParams params, byte[] salt, byte[] key) {
            this.name = name;
            this.params = params;
            this.salt = salt;
            this.key = key;
        }

        /** {@code private:<user>:<secret>}: keep it as secret as the password. */
        public ResourceName name() {
            return name;
        }

        /** The record key in digest form (the SHA-1 of the name), which is what storing nodes see. */
        public RecordKey key() {
            return RecordKey.digestOf("k", name);
        }

        /** The EncryptedData holding {@code privateKey} (PKCS#8). */
        public ValueContent.Encrypted seal(PrivateKey privateKey) throws GeneralSecurityException {
            check();
            byte[] plain = privateKey.getEncoded();
            if (plain == null || !"PKCS#8".equals(privateKey.getFormat())) {
                throw new GeneralSecurityException("the private key has no PKCS#8 encoding");
            }
            byte[] iv = new byte[12];
            RANDOM.nextBytes(iv);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, iv));
            c.updateAAD(aad());
            byte[] ct = c.doFinal(plain);
            Arrays.fill(plain, (byte) 0);
            byte[] cv = new byte[iv.length + ct.length];
            System.arraycopy(iv, 0, cv, 0, iv.length);
            System.arraycopy(ct, 0, cv, iv.length, ct.length);
            StringBuilder b = new StringBuilder(1024);
            b.append("<EncryptedData xmlns=\"").append(Namespaces.XENC).append("\" Type=\"").append(TYPE).append("\">");
            b.append("<EncryptionMethod Algorithm=\"").append(RecordCrypto.AES256_GCM).append("\"/>");
            b.append("<KeyInfo xmlns=\"").append(Namespaces.DSIG).append("\"><DerivedKey xmlns=\"").append(XENC11).append("\">");
            b.append("<KeyDerivationMethod Algorithm=\"").append(ARGON2ID).append("\">");
            b.append("<argon2id xmlns=\"").append(Namespaces.P2P_SIP).append("\" version=\"19\" memoryKiB=\"").append(params.memoryKiB())
                    .append("\" iterations=\"").append(params.iterations()).append("\" parallelism=\"").append(params.parallelism())
                    .append("\" salt=\"").append(Base64.getEncoder().encodeToString(salt)).append("\"/>");
            b.append("</KeyDerivationMethod></DerivedKey></KeyInfo>");
            b.append("<CipherData><CipherValue>").append(Base64.getEncoder().encodeToString(cv)).append("</CipherValue></CipherData>");
            b.append("</EncryptedData>");
            return new ValueContent.Encrypted(TYPE, b.toString());
        }

        /** The put-auth record: this user's key, sealed, under the digest key, with {@code nonce} and {@code expires}. */
        public DhtRecord record(PrivateKey privateKey, Instant expires, String nonce) throws GeneralSecurityException {
            return new DhtRecord(null, key(), new RecordValue("v", expires, nonce, null, seal(privateKey)));
        }

        /**
         * Decrypts a sealed private key. A wrong password (or an altered record) is refused with
         * {@link Refusal#CANNOT_DECRYPT}.
         */
        public PrivateKey open(ValueContent.Encrypted enc) throws RecordException {
            check();
            if (!TYPE.equals(enc.type())) {
                throw cannot("not a private-key record (Type " + enc.type() + ")");
            }
            Element ed = RecordXml.rootNamed(SecureXml.defaults().parse(enc.xml().getBytes(StandardCharsets.UTF_8)),
                    Namespaces.XENC, "EncryptedData");
            Element em = RecordXml.child(ed, Namespaces.XENC, "EncryptionMethod");
            if (em == null || !RecordCrypto.AES256_GCM.equals(em.getAttribute("Algorithm"))) {
                throw cannot("the private key must be encrypted with " + RecordCrypto.AES256_GCM);
            }
            Element ki = RecordXml.child(ed, Namespaces.DSIG, "KeyInfo");
            Element dk = ki == null ? null : RecordXml.child(ki, XENC11, "DerivedKey");
            Element kdm = dk == null ? null : RecordXml.child(dk, XENC11, "KeyDerivationMethod");
            Element a = kdm == null ? null : RecordXml.child(kdm, Namespaces.P2P_SIP, "argon2id");
            if (a == null || !ARGON2ID.equals(kdm.getAttribute("Algorithm"))) {
                throw cannot("the content key must be derived with " + ARGON2ID);
            }
            String want = params.memoryKiB() + "/" + params.iterations() + "/" + params.parallelism() + "/19/"
                    + Base64.getEncoder().encodeToString(salt);
            String got = a.getAttribute("memoryKiB") + "/" + a.getAttribute("iterations") + "/" + a.getAttribute("parallelism")
                    + "/" + a.getAttribute("version") + "/" + a.getAttribute("salt");
            if (!want.equals(got)) {
                throw cannot("sealed with other Argon2id parameters or salt (m/t/p/version/salt " + got
                        + "); unlock with those");
            }
            Element cd = RecordXml.child(ed, Namespaces.XENC, "CipherData");
            Element cvEl = cd == null ? null : RecordXml.child(cd, Namespaces.XENC, "CipherValue");
            if (cvEl == null) {
                throw cannot("no CipherValue");
            }
            byte[] plain = null;
            try {
                byte[] cv = Base64.getMimeDecoder().decode(cvEl.getTextContent().strip());
                if (cv.length < 12 + 16) {
                    throw cannot("CipherValue too short");
                }
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, cv, 0, 12));
                c.updateAAD(aad());
                plain = c.doFinal(cv, 12, cv.length - 12);
                return privateKey(plain);
            } catch (AEADBadTagException e) {
                throw cannot("wrong password, or the record was altered");
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw cannot("cannot decrypt the private key (" + e.getClass().getSimpleName() + ")");
            } finally {
                if (plain != null) {
                    Arrays.fill(plain, (byte) 0);
                }
            }
        }

        /**
         * The identity a fetched record restores: the decrypted private key with the public key, chain and KeyName
         * of the record's own signature, after checking that they are one key pair.
         */
        public SigningIdentity restore(VerifiedRecord record) throws RecordException {
            if (!(record.record().value().content() instanceof ValueContent.Encrypted enc)) {
                throw new RecordException(Refusal.BAD_RECORD, "a private-key record holds an EncryptedData");
            }
            PrivateKey k = open(enc);
            try {
                String alg = RecordSigner.signatureMethodFor(k).equals(Namespaces.SIG_ED25519) ? "Ed25519" : "SHA256withECDSA";
                byte[] probe = "p2psip key-pair check".getBytes(StandardCharsets.US_ASCII);
                Signature s = Signature.getInstance(alg);
                s.initSign(k);
                s.update(probe);
                byte[] sig = s.sign();
                Signature v = Signature.getInstance(alg);
                v.initVerify(record.signerKey());
                v.update(probe);
                if (!v.verify(sig)) {
                    throw new RecordException(Refusal.BAD_RECORD, "the record was not signed by the key it holds");
                }
            } catch (GeneralSecurityException e) {
                throw new RecordException(Refusal.BAD_RECORD, "the record was not signed by the key it holds: " + e.getMessage());
            }
            return new SigningIdentity(k, record.signerKey(), record.chain(), record.keyName());
        }

        private byte[] aad() {
            return (CONTEXT + name.user()).getBytes(StandardCharsets.UTF_8);
        }

        private void check() {
            if (destroyed) {
                throw new IllegalStateException("destroyed");
            }
        }

        @Override
        public void destroy() {
            Arrays.fill(key, (byte) 0);
            destroyed = true;
        }

        @Override
        public boolean isDestroyed() {
            return destroyed;
        }

        @Override
        public String toString() {
            return "PrivateKeyRecord.Unlocked[" + name + "]";
        }
    }

    private static PrivateKey privateKey(byte[] pkcs8) throws GeneralSecurityException {
        GeneralSecurityException last = null;
        for (String alg : new String[] {"EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw Objects.requireNonNull(last);
    }

    private static RecordException cannot(String detail) {
        return new RecordException(Refusal.CANNOT_DECRYPT, detail);
    }
}
