package org.p2psip.node.identity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;
import org.p2psip.overlay.NodeId;

/**
 * The node's Ed25519 key pair, kept in its data directory, and the node id derived from it.
 *
 * <p>Files, both PEM (base64 DER between {@code -----BEGIN/END-----} lines, readable with
 * {@code openssl pkey}):
 * <ul>
 *   <li>{@value #PRIVATE_FILE}: the private key, PKCS#8 {@code PRIVATE KEY}; mode 600 where the file system is POSIX;</li>
 *   <li>{@value #PUBLIC_FILE}: the public key, X.509 {@code SubjectPublicKeyInfo} ({@code PUBLIC KEY}).</li>
 * </ul>
 *
 * <p><b>Node id</b> = SHA-1 of the raw 32-byte Ed25519 public key (RFC 8032's encoding of the point A).
 * That raw key is the last 32 bytes of the 44-byte X.509 encoding, whose first 12 bytes are the fixed
 * header {@code 30 2a 30 05 06 03 2b 65 70 03 21 00} (SEQUENCE, AlgorithmIdentifier id-Ed25519
 * 1.3.101.112, BIT STRING of 33 bytes with 0 unused bits), as RFC 8410 section 4 specifies. Hashing the raw
 * key rather than the DER keeps the id independent of how a library encodes the key. The id is
 * self-certifying: a node cannot choose where it lands in the id space.
 */
public final class NodeKeys {
    public static final String PRIVATE_FILE = "node.key";
    public static final String PUBLIC_FILE = "node.pub";
    /** Length of the raw Ed25519 public key. */
    public static final int RAW_PUBLIC_KEY_BYTES = 32;
    private static final byte[] X509_ED25519_HEADER = HexFormat.of().parseHex("302a300506032b6570032100");
    private static final String ALGORITHM = "Ed25519";

    private final PrivateKey privateKey;
    private final PublicKey publicKey;
    private final byte[] rawPublicKey;
    private final NodeId id;

    private org.p2psip.storage.SigningIdentity signingIdentity;

    private NodeKeys(PrivateKey privateKey, PublicKey publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
        this.rawPublicKey = rawPublicKey(publicKey.getEncoded());
        this.id = NodeId.sha1(rawPublicKey);
    }

    /** A fresh key pair that lives only in memory. */
    public static NodeKeys generate() {
        try {
            KeyPair kp = KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
            return new NodeKeys(kp.getPrivate(), kp.getPublic());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this Java runtime lacks Ed25519 (needs Java 15 or later)", e);
        }
    }

    /**
     * Loads the key pair from {@code dataDir}, or creates it there (and the directory, mode 700) on first
     * run. Never overwrites an existing key: if only one of the two files exists, or either is damaged,
     * this fails with an {@link IOException} that names the file and says what to do.
     */
    public static NodeKeys loadOrCreate(Path dataDir) throws IOException {
        Path priv = dataDir.resolve(PRIVATE_FILE);
        Path pub = dataDir.resolve(PUBLIC_FILE);
        boolean hasPriv = Files.exists(priv);
        boolean hasPub = Files.exists(pub);
        if (hasPriv || hasPub) {
            return load(dataDir);
        }
        createDirectory(dataDir);
        NodeKeys keys = generate();
        keys.save(dataDir);
        return keys;
    }

    /** Loads an existing key pair from {@code dataDir}; fails with a clear message when it is missing or damaged. */
    public static NodeKeys load(Path dataDir) throws IOException {
        Path priv = dataDir.resolve(PRIVATE_FILE);
        Path pub = dataDir.resolve(PUBLIC_FILE);
        if (!Files.exists(priv)) {
            throw new IOException("the node's private key " + priv + " is missing although " + pub + " exists; restore "
                    + PRIVATE_FILE + " from a backup, or delete " + pub + " to create a new identity (a new node id)");
        }
        if (!Files.exists(pub)) {
            throw new IOException("the node's public key " + pub + " is missing although " + priv + " exists; restore "
                    + PUBLIC_FILE + " from a backup, or delete " + priv + " to create a new identity (a new node id)");
        }
        PrivateKey privateKey;
        PublicKey publicKey;
        try {
            privateKey = KeyFactory.getInstance(ALGORITHM).generatePrivate(
                    new PKCS8EncodedKeySpec(readPem(priv, "PRIVATE KEY")));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw corrupt(priv, "it is not a PKCS#8 Ed25519 private key (" + e.getMessage() + ")");
        }
        byte[] pubDer = readPem(pub, "PUBLIC KEY");
        try {
            rawPublicKey(pubDer);
            publicKey = KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(pubDer));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw corrupt(pub, "it is not an X.509 Ed25519 public key (" + e.getMessage() + ")");
        }
        NodeKeys keys = new NodeKeys(privateKey, publicKey);
        if (!keys.matches()) {
            throw new IOException(pub + " does not belong to the private key in " + priv + "; restore the matching pair "
                    + "from a backup, or delete both files to create a new identity (a new node id)");
        }
        return keys;
    }

    private static IOException corrupt(Path file, String what) {
        return new IOException("corrupt key file " + file + ": " + what + "; restore it from a backup, or delete "
                + PRIVATE_FILE + " and " + PUBLIC_FILE + " in " + file.getParent()
                + " to create a new identity (a new node id)");
    }

    private static byte[] readPem(Path file, String label) throws IOException {
        String text;
        try {
            byte[] bytes = Files.readAllBytes(file);
            if (bytes.length > 16 * 1024) {
                throw corrupt(file, "it is " + bytes.length + " bytes long, far more than a key");
            }
            text = new String(bytes, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new IOException("key file " + file + " disappeared while reading it", e);
        }
        String begin = "-----BEGIN " + label + "-----";
        String end = "-----END " + label + "-----";
        int b = text.indexOf(begin);
        int e = text.indexOf(end);
        if (b < 0 || e < b) {
            throw corrupt(file, "it has no '" + begin + "' ... '" + end + "' block");
        }
        String body = text.substring(b + begin.length(), e).replaceAll("\\s+", "");
        try {
            return Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException ex) {
            throw corrupt(file, "its base64 body is damaged");
        }
    }

    private static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    /** Extracts the raw 32-byte key from an X.509 SubjectPublicKeyInfo encoding of an Ed25519 key. */
    static byte[] rawPublicKey(byte[] x509) {
        if (x509.length != X509_ED25519_HEADER.length + RAW_PUBLIC_KEY_BYTES
                || !Arrays.equals(x509, 0, X509_ED25519_HEADER.length, X509_ED25519_HEADER, 0, X509_ED25519_HEADER.length)) {
            throw new IllegalArgumentException("not the 44-byte X.509 encoding of an Ed25519 public key");
        }
        return Arrays.copyOfRange(x509, X509_ED25519_HEADER.length, x509.length);
    }

    private boolean matches() {
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature s = Signature.getInstance(ALGORITHM);
            s.initSign(privateKey);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(ALGORITHM);
            v.initVerify(publicKey);
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** Writes both files into {@code dataDir}, the private key with mode 600 from the start. */
    private void save(Path dataDir) throws IOException {
        writeAtomically(dataDir.resolve(PRIVATE_FILE), pem("PRIVATE KEY", privateKey.getEncoded()), true);
        writeAtomically(dataDir.resolve(PUBLIC_FILE), pem("PUBLIC KEY", publicKey.getEncoded()), false);
    }

    private static void writeAtomically(Path target, String content, boolean secret) throws IOException {
        SecureFiles.write(target, content.getBytes(StandardCharsets.US_ASCII), secret);
    }

    /** Creates {@code dir} and its parents; a new directory gets mode 700 where the file system is POSIX. */
    public static void createDirectory(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        Path parent = dir.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try {
            if (parent != null && posix(parent)) {
                FileAttribute<Set<PosixFilePermission>> mode =
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
                Files.createDirectory(dir, mode);
            } else {
                Files.createDirectory(dir);
            }
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir)) {
                throw new IOException("the data directory " + dir + " is a file, not a directory", e);
            }
        }
    }

    private static boolean posix(Path dir) throws IOException {
        return Files.getFileStore(dir).supportsFileAttributeView("posix");
    }

    /** SHA-1 of the raw 32-byte public key. */
    public NodeId id() {
        return id;
    }

    public PublicKey publicKey() {
        return publicKey;
    }

    public PrivateKey privateKey() {
        return privateKey;
    }

    /**
     * The node key as a signer of the draft's records, with a self-signed certificate (the JDK's XML-DSig cannot
     * publish an Ed25519 key as a bare KeyValue, so the key travels in X509Data): used to register the node in the
     * service directory. Its record owner, SHA-1 of the X.509 encoding of the key, differs from {@link #id()}.
     */
    public synchronized org.p2psip.storage.SigningIdentity signingIdentity() {
        if (signingIdentity == null) {
            signingIdentity = new org.p2psip.storage.SigningIdentity(privateKey, publicKey,
                    java.util.List.of(SelfSigned.certificate(privateKey, publicKey, "p2psip node " + id.toHex())), null);
        }
        return signingIdentity;
    }

    /** The raw 32-byte Ed25519 public key (RFC 8032). */
    public byte[] rawPublicKey() {
        return rawPublicKey.clone();
    }

    /** An Ed25519 signature of {@code data} by this node. */
    public byte[] sign(byte[] data) {
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initSign(privateKey);
            s.update(data);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign with the node key", e);
        }
    }

    @Override
    public String toString() {
        return "NodeKeys[id=" + id.toHex() + "]";
    }
}
