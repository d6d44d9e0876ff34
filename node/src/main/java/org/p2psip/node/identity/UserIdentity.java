package org.p2psip.node.identity;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.p2psip.overlay.Bytes;
import org.p2psip.storage.CertificateNames;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.api.DraftDht;

/**
 * A SIP user's identity kept in the data directory: a key pair for an address such as {@code sip:bob@example.net},
 * a certificate request for it, the certificate a CA issued (after checking it), and the password-encrypted
 * private-key record (draft §4.2) that carries the key to the user's other devices.
 *
 * <p>Files, in {@code <data-dir>/identities/<user@domain>/} (mode 700): {@value #KEY_FILE} (PKCS#8 PEM, mode 600),
 * {@value #PUBLIC_FILE} (X.509 SubjectPublicKeyInfo PEM), {@value #CSR_FILE} (PKCS#10 PEM), {@value #CERT_FILE} (the
 * imported chain, leaf first, PEM).
 */
public final class UserIdentity {
    public static final String DIRECTORY = "identities";
    public static final String KEY_FILE = "key.pem";
    public static final String PUBLIC_FILE = "public.pem";
    public static final String CSR_FILE = "request.csr";
    public static final String CERT_FILE = "cert.pem";

    /** The key types a user identity may have; both sign the draft's records (XML-DSig) and certificates. */
    public enum KeyType {
        /** ECDSA on NIST P-256 (secp256r1): what most CAs issue certificates for. */
        P256,
        /** Ed25519 (RFC 8032). */
        ED25519
    }

    private final String user;
    private final Path dir;
    private final PrivateKey privateKey;
    private final PublicKey publicKey;
    private final List<X509Certificate> chain;

    private UserIdentity(String user, Path dir, PrivateKey privateKey, PublicKey publicKey, List<X509Certificate> chain) {
        this.user = user;
        this.dir = dir;
        this.privateKey = privateKey;
        this.publicKey = publicKey;
        this.chain = List.copyOf(chain);
    }

    /**
     * The {@code user@domain} of an address: {@code sip:bob@example.net}, {@code sips:bob@example.net} or
     * {@code bob@example.net} (the domain in lower case).
     *
     * @throws IllegalArgumentException when it is not such an address
     */
    public static String userOf(String address) {
        String a = address.strip();
        String lower = a.toLowerCase(Locale.ROOT);
        if (lower.startsWith("sip:")) {
            a = a.substring(4);
        } else if (lower.startsWith("sips:")) {
            a = a.substring(5);
        }
        try {
            return ResourceName.sip(a).user();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + address + "' is not a SIP address such as sip:bob@example.net");
        }
    }

    /** The directory of {@code user}'s files; characters that are unsafe in a file name are %-escaped. */
    public static Path directory(Path dataDir, String user) {
        StringBuilder b = new StringBuilder();
        for (byte c : user.getBytes(StandardCharsets.UTF_8)) {
            boolean safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '@' || c == '-' || c == '_' || c == '+' || (c == '.' && b.length() > 0);
            if (safe) {
                b.append((char) c);
            } else {
                b.append('%').append(String.format("%02X", c & 0xff));
            }
        }
        return dataDir.resolve(DIRECTORY).resolve(b.toString());
    }

    /**
     * Creates a new key pair for {@code address} and saves it, with a certificate request ({@link #csrPem()}).
     *
     * @throws IOException when the user already has a key (never overwritten) or the files cannot be written
     */
    public static UserIdentity create(Path dataDir, String address, KeyType type) throws IOException {
        String user = userOf(address);
        Path dir = directory(dataDir, user);
        if (Files.exists(dir.resolve(KEY_FILE))) {
            throw new IOException(user + " already has a key in " + dir + "; it is never overwritten (delete the "
                    + "directory first to start over, which makes any certificate issued for the old key useless)");
        }
        KeyPair pair;
        try {
            KeyPairGenerator g;
            if (type == KeyType.P256) {
                g = KeyPairGenerator.getInstance("EC");
                g.initialize(new ECGenParameterSpec("secp256r1"));
            } else {
                g = KeyPairGenerator.getInstance("Ed25519");
            }
            pair = g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this Java runtime cannot make " + type + " keys", e);
        }
        NodeKeys.createDirectory(dataDir);
        NodeKeys.createDirectory(dir.getParent());
        NodeKeys.createDirectory(dir);
        UserIdentity id = new UserIdentity(user, dir, pair.getPrivate(), pair.getPublic(), List.of());
        SecureFiles.write(dir.resolve(KEY_FILE), SecureFiles.pem("PRIVATE KEY", pair.getPrivate().getEncoded())
                .getBytes(StandardCharsets.US_ASCII), true);
        SecureFiles.write(dir.resolve(PUBLIC_FILE), SecureFiles.pem("PUBLIC KEY", pair.getPublic().getEncoded())
                .getBytes(StandardCharsets.US_ASCII), false);
        SecureFiles.write(dir.resolve(CSR_FILE), id.csrPem().getBytes(StandardCharsets.US_ASCII), false);
        return id;
    }

    /** Loads {@code address}'s key (and certificate chain, if imported) from the data directory. */
    public static UserIdentity load(Path dataDir, String address) throws IOException {
        String user = userOf(address);
        Path dir = directory(dataDir, user);
        Path keyFile = dir.resolve(KEY_FILE);
        if (!Files.exists(keyFile)) {
            throw new IOException("no key for " + user + " in " + dir + "; create one with `p2psip identity create "
                    + "sip:" + user + "`");
        }
        PrivateKey priv;
        PublicKey pub;
        try {
            byte[] der = single(SecureFiles.pemBlocks(read(keyFile), "PRIVATE KEY"), keyFile);
            byte[] pubDer = single(SecureFiles.pemBlocks(read(dir.resolve(PUBLIC_FILE)), "PUBLIC KEY"), dir.resolve(PUBLIC_FILE));
            String alg = keyAlgorithm(pubDer);
            priv = KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            pub = KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(pubDer));
        } catch (GeneralSecurityException e) {
            throw new IOException("the key files in " + dir + " are damaged (" + e.getMessage() + "); restore them from "
                    + "a backup, or from the private-key record with the password");
        }
        List<X509Certificate> chain = List.of();
        Path certFile = dir.resolve(CERT_FILE);
        if (Files.exists(certFile)) {
            chain = parseCertificates(read(certFile), certFile);
        }
        return new UserIdentity(user, dir, priv, pub, chain);
    }

    private static String keyAlgorithm(byte[] spki) throws GeneralSecurityException {
        for (String alg : new String[] {"EC", "Ed25519"}) {
            try {
                KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(spki));
                return alg;
            } catch (GeneralSecurityException e) {
                // try the next
            }
        }
        throw new GeneralSecurityException("the public key is neither P-256 nor Ed25519");
    }

    private static String read(Path file) throws IOException {
        if (Files.size(file) > 256 * 1024) {
            throw new IOException(file + " is larger than 256 KiB; it is not a key or certificate file");
        }
        return Files.readString(file, StandardCharsets.US_ASCII);
    }

    private static byte[] single(List<byte[]> blocks, Path file) throws IOException {
        if (blocks.size() != 1) {
            throw new IOException(file + " should hold one PEM block, not " + blocks.size());
        }
        return blocks.get(0);
    }

    private static List<X509Certificate> parseCertificates(String pem, Path file) throws IOException {
        List<X509Certificate> out = new ArrayList<>();
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            for (byte[] der : SecureFiles.pemBlocks(pem, "CERTIFICATE")) {
                out.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(der)));
            }
        } catch (CertificateException e) {
            throw new IOException(file + " holds a damaged certificate: " + e.getMessage());
        }
        if (out.isEmpty()) {
            throw new IOException(file + " holds no '-----BEGIN CERTIFICATE-----' block");
        }
        return out;
    }

    /** {@code user@domain}. */
    public String user() {
        return user;
    }

    /** The directory of this user's files. */
    public Path directory() {
        return dir;
    }

    public PublicKey publicKey() {
        return publicKey;
    }

    /** The imported certificate chain, leaf first; empty before {@link #importCertificate}. */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** H(Kp): SHA-1 of the public key's SubjectPublicKeyInfo, the owner of this user's records in the DHT. */
    public Bytes owner() {
        return new SigningIdentity(privateKey, publicKey, List.of(), null).owner();
    }

    /**
     * A PKCS#10 certificate request, signed with the key: subject {@code CN=user@domain}, and an extension request for
     * the subjectAltNames a CA should bind, {@code rfc822Name user@domain} and {@code URI sip:user@domain} (what
     * storing nodes check in ca mode).
     */
    public String csrPem() {
        try {
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, user).build();
            ExtensionsGenerator ext = new ExtensionsGenerator();
            ext.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.rfc822Name, user),
                    new GeneralName(GeneralName.uniformResourceIdentifier, "sip:" + user)}));
            var csr = new JcaPKCS10CertificationRequestBuilder(subject, publicKey)
                    .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate())
                    .build(new JcaContentSignerBuilder(SelfSigned.signatureAlgorithm(privateKey)).build(privateKey));
            return SecureFiles.pem("CERTIFICATE REQUEST", csr.getEncoded());
        } catch (IOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot make a certificate request for " + user + ": " + e.getMessage(), e);
        }
    }

    /**
     * Checks and saves a certificate issued for this key: the PEM holds the leaf (whose key must be this identity's)
     * and optionally its issuers. The leaf must bind the user (subjectAltName rfc822Name or sip:/sips: URI, or, with
     * none of those, the subject CN or emailAddress) or the user's domain (dNSName), be valid now, and each
     * certificate must be signed by the next one given.
     *
     * @return the chain as saved, leaf first
     * @throws IdentityException when a check fails; the message says which and what to do
     */
    public List<X509Certificate> importCertificate(String pem, Path source) throws IOException, IdentityException {
        List<X509Certificate> certs = parseCertificates(pem, source);
        X509Certificate leaf = null;
        for (X509Certificate c : certs) {
            if (Arrays.equals(c.getPublicKey().getEncoded(), publicKey.getEncoded())) {
                leaf = c;
                break;
            }
        }
        if (leaf == null) {
            throw new IdentityException("no certificate in " + source + " is for " + user + "'s key (H(Kp) "
                    + owner().hex() + "); import the certificate the CA issued for " + dir.resolve(CSR_FILE));
        }
        if (!CertificateNames.binds(leaf, ResourceName.sip(user))) {
            throw new IdentityException("the certificate for this key does not name " + user + " (subject "
                    + leaf.getSubjectX500Principal().getName() + ", subjectAltNames " + sans(leaf) + "); it needs a "
                    + "subjectAltName rfc822Name " + user + " or URI sip:" + user + ", or dNSName "
                    + ResourceName.sip(user).domain());
        }
        try {
            leaf.checkValidity();
        } catch (CertificateExpiredException e) {
            throw new IdentityException("the certificate expired on " + leaf.getNotAfter().toInstant() + "; ask the CA for a new one");
        } catch (CertificateNotYetValidException e) {
            throw new IdentityException("the certificate is valid only from " + leaf.getNotBefore().toInstant()
                    + "; check this machine's clock or wait");
        }
        List<X509Certificate> ordered = new ArrayList<>();
        ordered.add(leaf);
        for (X509Certificate c : certs) {
            if (c != leaf) {
                ordered.add(c);
            }
        }
        for (int i = 0; i + 1 < ordered.size(); i++) {
            try {
                ordered.get(i).verify(ordered.get(i + 1).getPublicKey());
            } catch (GeneralSecurityException e) {
                throw new IdentityException("certificate " + (i + 1) + " of the chain (" + ordered.get(i).getSubjectX500Principal()
                        .getName() + ") is not signed by the next one (" + ordered.get(i + 1).getSubjectX500Principal().getName()
                        + "); give the leaf first and then its issuers, or the leaf alone");
            }
        }
        StringBuilder out = new StringBuilder();
        try {
            for (Certificate c : ordered) {
                out.append(SecureFiles.pem("CERTIFICATE", c.getEncoded()));
            }
        } catch (CertificateException e) {
            throw new IOException("cannot encode the certificate: " + e.getMessage(), e);
        }
        SecureFiles.write(dir.resolve(CERT_FILE), out.toString().getBytes(StandardCharsets.US_ASCII), false);
        return List.copyOf(ordered);
    }

    private static String sans(X509Certificate c) {
        try {
            return c.getSubjectAlternativeNames() == null ? "none" : c.getSubjectAlternativeNames().toString();
        } catch (CertificateException e) {
            return "unreadable";
        }
    }

    /**
     * The key as a signer of the draft's records: with the imported chain, or else a self-signed certificate
     * naming the user (trust-on-first-use overlays accept it; an Ed25519 key cannot travel as a bare KeyValue).
     */
    public SigningIdentity signingIdentity() {
        List<X509Certificate> c = chain.isEmpty() ? List.of(SelfSigned.certificate(privateKey, publicKey, user)) : chain;
        return new SigningIdentity(privateKey, publicKey, c, user);
    }

    /**
     * The password-encrypted private-key record ({@code private:user:<secret>}, Argon2id and AES-256-GCM, see
     * {@link PrivateKeyRecord}), signed with the key it holds: a {@code dhtRecord} document to store with
     * {@code put-auth}. Takes about a second (Argon2id, 64 MiB).
     */
    public String exportPrivateKeyRecord(char[] password, Instant expires, PrivateKeyRecord.KdfParams kdf)
            throws GeneralSecurityException {
        PrivateKeyRecord.Unlocked u = PrivateKeyRecord.unlock(user, password, kdf);
        try {
            return DraftDht.signed(u.record(privateKey, expires, "private-key"), signingIdentity()).data().utf8String();
        } finally {
            u.destroy();
        }
    }

    /** A user identity that cannot be used as given; the message says why and what to do. */
    public static final class IdentityException extends Exception {
        private static final long serialVersionUID = 1L;

        public IdentityException(String message) {
            super(message);
        }
    }
}
