package org.p2psip.storage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.ECKey;
import java.security.interfaces.XECKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.w3c.dom.Element;

/**
 * Encryption to a recipient's public key in the draft's {@code xenc:EncryptedData} shape, with modern algorithms
 * instead of the draft's 3DES-CBC and RSA 1.5: direct key agreement ({@code AgreementMethod} in the EncryptedData's
 * KeyInfo, XML Encryption 1.1) with an ephemeral key — ECDH-ES on P-256 or X25519, by the recipient's key — then
 * ConcatKDF with SHA-256 to a 256-bit key, and AES-256-GCM ({@code CipherValue} = 12-byte IV, ciphertext, 16-byte
 * tag). The ephemeral public key travels as {@code dsig11:DEREncodedKeyValue} in {@code OriginatorKeyInfo}. Only
 * the holder of the recipient's private key can decrypt; storing nodes cannot.
 * Interoperability with other XML Encryption 1.1 implementations is not tested yet.
 */
public final class RecordCrypto {
    public static final String AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
    public static final String ECDH_ES = "http://www.w3.org/2009/xmlenc11#ECDH-ES";
    public static final String X25519 = "http://www.w3.org/2021/04/xmldsig-more#x25519";
    public static final String CONCAT_KDF = "http://www.w3.org/2009/xmlenc11#ConcatKDF";
    public static final String XENC11 = "http://www.w3.org/2009/xmlenc11#";
    public static final String DSIG11 = "http://www.w3.org/2009/xmldsig11#";
    /** The {@code Type} of an encrypted offline message (text). */
    public static final String TYPE_OFFLINE_TEXT = Namespaces.P2P_SIP + "#offline-text";

    private static final SecureRandom RANDOM = new SecureRandom();
    /** ConcatKDF AlgorithmID: the content algorithm's URI (hex attribute with the leading 00 padding byte). */
    private static final byte[] ALGORITHM_ID = AES256_GCM.getBytes(StandardCharsets.US_ASCII);

    private RecordCrypto() {
    }

    /** Encrypts {@code plaintext} to {@code recipient} (P-256 EC or X25519) as an EncryptedData element. */
    public static ValueContent.Encrypted encrypt(byte[] plaintext, String type, PublicKey recipient, String recipientKeyName)
            throws GeneralSecurityException {
        return encrypt(plaintext, type, recipient, recipientKeyName, null).content();
    }

    /**
     * An EncryptedData whose cipher bytes are stored elsewhere: the element holds {@code CipherReference URI}
     * instead of a {@code CipherValue}, and {@code cipherBytes} (IV ‖ ciphertext ‖ tag) must be stored at that URI
     * (e.g. as an immutable value, for content larger than one overlay value).
     */
    public record Detached(ValueContent.Encrypted content, byte[] cipherBytes) { }

    /**
     * Encrypts like {@link #encrypt(byte[], String, PublicKey, String)}, but with the cipher bytes detached: the
     * EncryptedData refers to them with {@code <CipherReference URI="cipherUri"/>}; the caller stores them there.
     * {@code cipherUri} may be null to get the element with a CipherValue.
     */
    public static Detached encrypt(byte[] plaintext, String type, PublicKey recipient, String recipientKeyName, String cipherUri)
            throws GeneralSecurityException {
        boolean x = isX25519(recipient);
        KeyPair eph;
        KeyAgreement ka;
        if (x) {
            KeyPairGenerator g = KeyPairGenerator.getInstance("XDH");
            g.initialize(NamedParameterSpec.X25519);
            eph = g.generateKeyPair();
            ka = KeyAgreement.getInstance("XDH");
        } else if (recipient instanceof ECKey ec && ec.getParams().getCurve().getField().getFieldSize() == 256) {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            eph = g.generateKeyPair();
            ka = KeyAgreement.getInstance("ECDH");
        } else {
            throw new GeneralSecurityException("encryption is to P-256 or X25519 keys, not " + recipient.getAlgorithm());
        }
        ka.init(eph.getPrivate());
        ka.doPhase(recipient, true);
        byte[] key = concatKdf(ka.generateSecret());
        byte[] iv = new byte[12];
        RANDOM.nextBytes(iv);
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, iv));
        byte[] ct = c.doFinal(plaintext);
        Arrays.fill(key, (byte) 0);
        byte[] cv = ByteBuffer.allocate(iv.length + ct.length).put(iv).put(ct).array();

        StringBuilder b = new StringBuilder(512 + cv.length * 4 / 3);
        b.append("<EncryptedData xmlns=\"").append(Namespaces.XENC).append('"');
        RecordXml.attr(b, "Type", type);
        b.append("><EncryptionMethod Algorithm=\"").append(AES256_GCM).append("\"/>");
        b.append("<KeyInfo xmlns=\"").append(Namespaces.DSIG).append("\">");
        b.append("<AgreementMethod xmlns=\"").append(Namespaces.XENC).append("\" Algorithm=\"").append(x ? X25519 : ECDH_ES).append("\">");
        b.append("<KeyDerivationMethod xmlns=\"").append(XENC11).append("\" Algorithm=\"").append(CONCAT_KDF).append("\">");
        b.append("<ConcatKDFParams AlgorithmID=\"00").append(HexFormat.of().formatHex(ALGORITHM_ID))
                .append("\" PartyUInfo=\"00\" PartyVInfo=\"00\">");
        b.append("<DigestMethod xmlns=\"").append(Namespaces.DSIG).append("\" Algorithm=\"").append(Namespaces.DIGEST_SHA256).append("\"/>");
        b.append("</ConcatKDFParams></KeyDerivationMethod>");
        b.append("<OriginatorKeyInfo><DEREncodedKeyValue xmlns=\"").append(DSIG11).append("\">")
                .append(Base64.getEncoder().encodeToString(eph.getPublic().getEncoded())).append("</DEREncodedKeyValue></OriginatorKeyInfo>");
        if (recipientKeyName != null) {
            b.append("<RecipientKeyInfo><KeyName xmlns=\"").append(Namespaces.DSIG).append("\">");
            RecordXml.text(b, recipientKeyName);
            b.append("</KeyName></RecipientKeyInfo>");
        }
        b.append("</AgreementMethod></KeyInfo>");
        if (cipherUri == null) {
            b.append("<CipherData><CipherValue>").append(Base64.getEncoder().encodeToString(cv)).append("</CipherValue></CipherData>");
        } else {
            b.append("<CipherData><CipherReference");
            RecordXml.attr(b, "URI", cipherUri);
            b.append("/></CipherData>");
        }
        b.append("</EncryptedData>");
        return new Detached(new ValueContent.Encrypted(type, b.toString()), cv);
    }

    /** The {@code CipherReference URI} of an EncryptedData, or null when it carries a CipherValue. */
    public static String cipherReference(ValueContent.Encrypted enc) throws RecordException {
        Element ed = RecordXml.rootNamed(SecureXml.defaults().parse(enc.xml().getBytes(StandardCharsets.UTF_8)), Namespaces.XENC, "EncryptedData");
        Element cd = RecordXml.child(ed, Namespaces.XENC, "CipherData");
        Element ref = cd == null ? null : RecordXml.child(cd, Namespaces.XENC, "CipherReference");
        return ref == null ? null : ref.getAttribute("URI");
    }

    /** Decrypts an EncryptedData made by {@link #encrypt} with the recipient's private key. */
    public static byte[] decrypt(ValueContent.Encrypted enc, PrivateKey recipient) throws RecordException {
        return decrypt(enc, recipient, null);
    }

    /**
     * Decrypts an EncryptedData; {@code detachedCipherBytes} are the bytes its {@code CipherReference} points to
     * (fetched by the caller), or null when it carries a CipherValue.
     */
    public static byte[] decrypt(ValueContent.Encrypted enc, PrivateKey recipient, byte[] detachedCipherBytes) throws RecordException {
        Element ed = RecordXml.rootNamed(SecureXml.defaults().parse(enc.xml().getBytes(StandardCharsets.UTF_8)), Namespaces.XENC, "EncryptedData");
        Element em = RecordXml.child(ed, Namespaces.XENC, "EncryptionMethod");
        if (em == null || !AES256_GCM.equals(em.getAttribute("Algorithm"))) {
            throw cannot("the content must be encrypted with " + AES256_GCM);
        }
        Element ki = RecordXml.child(ed, Namespaces.DSIG, "KeyInfo");
        Element am = ki == null ? null : RecordXml.child(ki, Namespaces.XENC, "AgreementMethod");
        if (am == null) {
            throw cannot("no AgreementMethod in the KeyInfo");
        }
        String agreement = am.getAttribute("Algorithm");
        Element kdm = RecordXml.child(am, XENC11, "KeyDerivationMethod");
        Element params = kdm == null ? null : RecordXml.child(kdm, XENC11, "ConcatKDFParams");
        Element dm = params == null ? null : RecordXml.child(params, Namespaces.DSIG, "DigestMethod");
        if (kdm == null || !CONCAT_KDF.equals(kdm.getAttribute("Algorithm")) || dm == null
                || !Namespaces.DIGEST_SHA256.equals(dm.getAttribute("Algorithm"))
                || !("00" + HexFormat.of().formatHex(ALGORITHM_ID)).equalsIgnoreCase(params.getAttribute("AlgorithmID"))
                || !"00".equals(params.getAttribute("PartyUInfo")) || !"00".equals(params.getAttribute("PartyVInfo"))) {
            throw cannot("the key derivation must be ConcatKDF with SHA-256 and this profile's parameters");
        }
        Element oki = RecordXml.child(am, Namespaces.XENC, "OriginatorKeyInfo");
        Element der = oki == null ? null : RecordXml.child(oki, DSIG11, "DEREncodedKeyValue");
        Element cd = RecordXml.child(ed, Namespaces.XENC, "CipherData");
        Element cvEl = cd == null ? null : RecordXml.child(cd, Namespaces.XENC, "CipherValue");
        if (der == null || (cvEl == null) == (detachedCipherBytes == null)) {
            throw cannot(der == null ? "missing the originator's key" : detachedCipherBytes == null
                    ? "missing the CipherValue (a CipherReference needs the referenced bytes)" : "a CipherValue and detached bytes");
        }
        boolean x = isX25519(recipient);
        if (x != X25519.equals(agreement) || (!x && !ECDH_ES.equals(agreement))) {
            throw cannot("agreement " + agreement + " does not fit a " + recipient.getAlgorithm() + " key");
        }
        byte[] key = null;
        try {
            PublicKey eph = KeyFactory.getInstance(x ? "XDH" : "EC").generatePublic(
                    new X509EncodedKeySpec(Base64.getMimeDecoder().decode(der.getTextContent().strip())));
            KeyAgreement ka = KeyAgreement.getInstance(x ? "XDH" : "ECDH");
            ka.init(recipient);
            ka.doPhase(eph, true);
            key = concatKdf(ka.generateSecret());
            byte[] cv = cvEl == null ? detachedCipherBytes : Base64.getMimeDecoder().decode(cvEl.getTextContent().strip());
            if (cv.length < 12 + 16) {
                throw cannot("CipherValue too short");
            }
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, cv, 0, 12));
            return c.doFinal(cv, 12, cv.length - 12);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw cannot("wrong key or tampered data (" + e.getClass().getSimpleName() + ")");
        } finally {
            if (key != null) {
                Arrays.fill(key, (byte) 0);
            }
        }
    }

    /** An encrypted watcher list ({@code Type="urn:ietf:params:xml:ns:p2p-sip#watchers"}), as in the draft. */
    public static ValueContent.Encrypted encryptWatchers(List<Watcher> watchers, PublicKey recipient, String recipientKeyName)
            throws GeneralSecurityException {
        return encrypt(RecordXml.watchersXml(watchers).getBytes(StandardCharsets.UTF_8), Namespaces.TYPE_WATCHERS, recipient, recipientKeyName);
    }

    /** Decrypts and reads (hardened, validated) an encrypted watcher list. */
    public static List<Watcher> decryptWatchers(ValueContent.Encrypted enc, PrivateKey recipient) throws RecordException {
        if (!Namespaces.TYPE_WATCHERS.equals(enc.type())) {
            throw new RecordException(Refusal.BAD_RECORD, "not an encrypted watcher list: " + enc.type());
        }
        byte[] plain = decrypt(enc, recipient);
        return RecordXml.readWatchers(RecordXml.rootNamed(SecureXml.defaults().parse(plain), Namespaces.P2P_SIP, "watchers"));
    }

    private static boolean isX25519(java.security.Key k) {
        return k instanceof XECKey xk && xk.getParams() instanceof NamedParameterSpec n && "X25519".equalsIgnoreCase(n.getName());
    }

    /** NIST SP 800-56A ConcatKDF, one SHA-256 round: H(00000001 || Z || AlgorithmID || PartyUInfo || PartyVInfo). */
    private static byte[] concatKdf(byte[] z) throws GeneralSecurityException {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(new byte[] {0, 0, 0, 1});
        md.update(z);
        md.update(ALGORITHM_ID);
        Arrays.fill(z, (byte) 0);
        return md.digest();
    }

    private static RecordException cannot(String detail) {
        return new RecordException(Refusal.CANNOT_DECRYPT, detail);
    }
}
