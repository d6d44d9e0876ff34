package org.p2psip.storage;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Test CAs and certificates, built with Bouncy Castle's bcpkix. */
public final class TestPki {
    private static final AtomicLong SERIAL = new AtomicLong(1000);

    private TestPki() {
    }

    static KeyPair ec() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static KeyPair ed25519() {
        try {
            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A CA, with its key. */
    record Ca(X509Certificate cert, KeyPair keys) {
        Credential issue(String cn, KeyPair subject, GeneralName... sans) {
            return issue(cn, subject, Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(30)), sans);
        }

        Credential issue(String cn, KeyPair subject, Instant notBefore, Instant notAfter, GeneralName... sans) {
            X509Certificate c = build(cert, keys.getPrivate(), new X500Name("CN=" + cn + ",O=P2P Inc.,C=US"),
                    subject.getPublic(), false, notBefore, notAfter, sans);
            return new Credential(c, subject, cert);
        }

        Ca subCa(String cn, KeyPair subject) {
            X509Certificate c = build(cert, keys.getPrivate(), new X500Name("CN=" + cn), subject.getPublic(), true,
                    Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(365)));
            return new Ca(c, subject);
        }
    }

    /** A leaf certificate with its key and its issuer. */
    public record Credential(X509Certificate cert, KeyPair keys, X509Certificate issuer) {
    }

    static Ca ca(String cn, KeyPair keys) {
        return new Ca(build(null, keys.getPrivate(), new X500Name("CN=" + cn), keys.getPublic(), true,
                Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(365))), keys);
    }

    /** A self-signed end-entity certificate (tofu mode's carrier for a bare key). */
    public static Credential selfSigned(String cn, KeyPair keys, Instant notBefore, Instant notAfter) {
        X509Certificate c = build(null, keys.getPrivate(), new X500Name("CN=" + cn), keys.getPublic(), false, notBefore, notAfter);
        return new Credential(c, keys, c);
    }

    public static Credential selfSigned(String cn, KeyPair keys) {
        return selfSigned(cn, keys, Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(30)));
    }

    static GeneralName email(String user) {
        return new GeneralName(GeneralName.rfc822Name, user);
    }

    static GeneralName uri(String uri) {
        return new GeneralName(GeneralName.uniformResourceIdentifier, uri);
    }

    static GeneralName dns(String domain) {
        return new GeneralName(GeneralName.dNSName, domain);
    }

    private static X509Certificate build(X509Certificate issuer, PrivateKey issuerKey, X500Name subject, PublicKey pub,
            boolean ca, Instant notBefore, Instant notAfter, GeneralName... sans) {
        try {
            X500Name issuerName = issuer == null ? subject : X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName, BigInteger.valueOf(SERIAL.incrementAndGet()),
                    Date.from(notBefore), Date.from(notAfter), subject, pub);
            JcaX509ExtensionUtils u = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign : KeyUsage.digitalSignature));
            b.addExtension(Extension.subjectKeyIdentifier, false, u.createSubjectKeyIdentifier(pub));
            if (issuer != null) {
                b.addExtension(Extension.authorityKeyIdentifier, false, u.createAuthorityKeyIdentifier(issuer));
            }
            if (sans.length > 0) {
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
            }
            String alg = "Ed25519".equals(issuerKey.getAlgorithm()) || "EdDSA".equals(issuerKey.getAlgorithm()) ? "Ed25519" : "SHA256withECDSA";
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(alg).build(issuerKey)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
