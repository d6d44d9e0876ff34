package org.p2psip.nat.dtls;

import java.io.IOException;
import java.math.BigInteger;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Date;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.bc.BcEdECContentSignerBuilder;
import org.p2psip.overlay.NodeId;

/**
 * What a node presents on its DTLS links: its Ed25519 node key and a self-signed X.509 certificate for it.
 * The node id is SHA-1 of the raw 32-byte public key (as {@code NodeKeys} in the node module derives it),
 * so a peer that checks the certificate (see {@link PeerCertificates}) learns the node id without trusting
 * anybody. Immutable and thread-safe.
 */
public final class DtlsIdentity {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Certificates claim validity from a day before creation for 20 years; peers do not check the dates. */
    private static final long DAY_MILLIS = 24L * 3600 * 1000;
    private static final long VALIDITY_MILLIS = 20L * 365 * DAY_MILLIS;

    private final Ed25519PrivateKeyParameters privateKey;
    private final byte[] certificate;
    private final NodeId id;

    private DtlsIdentity(Ed25519PrivateKeyParameters privateKey, byte[] certificate) {
        this.privateKey = privateKey;
        this.certificate = certificate;
        this.id = NodeId.sha1(privateKey.generatePublicKey().getEncoded());
    }

    /** A fresh key pair, for tests and throw-away nodes. */
    public static DtlsIdentity generate() {
        Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(RANDOM);
        return new DtlsIdentity(key, selfSigned(key));
    }

    /**
     * The identity of a node key given as JCA keys (the node's {@code NodeKeys.privateKey()} and {@code publicKey()}).
     *
     * @throws IllegalArgumentException when the keys are not a matching Ed25519 pair
     */
    public static DtlsIdentity of(PrivateKey privateKey, PublicKey publicKey) {
        Ed25519PrivateKeyParameters key = ed25519(privateKey);
        byte[] x509 = publicKey.getEncoded();
        byte[] raw = key.generatePublicKey().getEncoded();
        if (x509 == null || x509.length < raw.length
                || !Arrays.equals(x509, x509.length - raw.length, x509.length, raw, 0, raw.length)) {
            throw new IllegalArgumentException("the public key does not belong to the Ed25519 private key");
        }
        return new DtlsIdentity(key, selfSigned(key));
    }

    /**
     * An identity that presents {@code certificateDer} as it is. Peers refuse a certificate that is not a valid
     * self-signed Ed25519 certificate for this private key; this exists to test exactly that (and for
     * certificates made elsewhere).
     */
    public static DtlsIdentity withCertificate(PrivateKey privateKey, byte[] certificateDer) {
        return new DtlsIdentity(ed25519(privateKey), certificateDer.clone());
    }

    /** The same, with a raw 32-byte Ed25519 private key (RFC 8032 seed). */
    public static DtlsIdentity withCertificate(byte[] rawPrivateKey, byte[] certificateDer) {
        return new DtlsIdentity(new Ed25519PrivateKeyParameters(rawPrivateKey, 0), certificateDer.clone());
    }

    private static Ed25519PrivateKeyParameters ed25519(PrivateKey privateKey) {
        try {
            AsymmetricKeyParameter p = PrivateKeyFactory.createKey(privateKey.getEncoded());
            if (p instanceof Ed25519PrivateKeyParameters e) {
                return e;
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not an Ed25519 private key: " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("not an Ed25519 private key: " + privateKey.getAlgorithm());
    }

    /**
     * A self-signed X.509 v3 certificate for {@code key}: subject and issuer {@code CN=p2psip node <id hex>}, a
     * random serial, key usage digitalSignature, signed with Ed25519.
     */
    static byte[] selfSigned(Ed25519PrivateKeyParameters key) {
        return certificate(key, key, "p2psip node " + NodeId.sha1(key.generatePublicKey().getEncoded()).toHex());
    }

    /** A certificate for {@code subjectKey}'s public key signed by {@code signer} (not self-signed when they differ). */
    static byte[] certificate(Ed25519PrivateKeyParameters subjectKey, Ed25519PrivateKeyParameters signer, String cn) {
        try {
            X500Name name = new X500Name("CN=" + cn);
            long now = System.currentTimeMillis();
            X509v3CertificateBuilder b = new X509v3CertificateBuilder(name, new BigInteger(63, RANDOM).add(BigInteger.ONE),
                    new Date(now - DAY_MILLIS), new Date(now + VALIDITY_MILLIS), name,
                    SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(subjectKey.generatePublicKey()));
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            return b.build(new BcEdECContentSignerBuilder(new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519))
                    .build(signer)).getEncoded();
        } catch (IOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot build a certificate: " + e.getMessage(), e);
        }
    }

    /** SHA-1 of the raw public key: the node id peers will authenticate. */
    public NodeId id() {
        return id;
    }

    /** The DER certificate this node presents. */
    public byte[] certificate() {
        return certificate.clone();
    }

    Ed25519PrivateKeyParameters privateKey() {
        return privateKey;
    }

    byte[] certificateUnsafe() {
        return certificate;
    }

    @Override
    public String toString() {
        return "DtlsIdentity[id=" + id.toHex() + "]";
    }
}
