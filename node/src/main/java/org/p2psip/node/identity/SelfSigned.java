package org.p2psip.node.identity;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Self-signed X.509 certificates for keys that have no CA-issued one (the node key, a fresh user key). */
public final class SelfSigned {
    /** Backdating, so a certificate made now is valid on a peer whose clock is a little behind. */
    private static final Duration BACKDATE = Duration.ofHours(1);
    private static final Duration VALIDITY = Duration.ofDays(3650);

    private SelfSigned() { }

    /** The signature algorithm for a key: Ed25519 or SHA256withECDSA. */
    public static String signatureAlgorithm(PrivateKey key) {
        return key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "Ed25519";
    }

    /** A self-signed certificate with subject CN={@code commonName}, valid for ten years from an hour ago. */
    public static X509Certificate certificate(PrivateKey privateKey, PublicKey publicKey, String commonName) {
        X500Name name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
        Instant now = Instant.now();
        try {
            var builder = new JcaX509v3CertificateBuilder(name, new BigInteger(64, new SecureRandom()),
                    Date.from(now.minus(BACKDATE)), Date.from(now.plus(VALIDITY)), name, publicKey);
            var signer = new JcaContentSignerBuilder(signatureAlgorithm(privateKey)).build(privateKey);
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot make a self-signed certificate for the " + privateKey.getAlgorithm()
                    + " key: " + e.getMessage(), e);
        }
    }
}
