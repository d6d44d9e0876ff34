package org.p2psip.sip.identity;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A user's key pair and self-signed certificate, as a peer creates them for a local account (the overlay's
 * {@code tofu} mode: the first key that writes a user's names owns them, and the certificate carries it).
 * P-256, because one key both signs records (ECDSA) and receives encrypted ones (ECDH-ES in {@code RecordCrypto});
 * Ed25519 could only sign.
 */
public final class UserCertificates {
    /** Validity of a created certificate. */
    public static final Duration VALIDITY = Duration.ofDays(3650);

    private UserCertificates() {
    }

    /** A new P-256 key pair. */
    public static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        return g.generateKeyPair();
    }

    /**
     * A self-signed end-entity certificate for {@code user} ({@code bob@example.net}): subject CN, and the
     * subjectAltNames rfc822Name {@code bob@example.net} and URI {@code sip:bob@example.net}, which is what
     * {@code CertificateNames.bindsUser} checks; valid from an hour ago (clock skew) for {@link #VALIDITY}.
     */
    public static X509Certificate selfSigned(String user, KeyPair keys) throws GeneralSecurityException {
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, user).build();
        Instant now = Instant.now();
        byte[] serial = new byte[16];
        new SecureRandom().nextBytes(serial);
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, new BigInteger(1, serial),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(VALIDITY)), subject, keys.getPublic());
        try {
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.rfc822Name, user),
                new GeneralName(GeneralName.uniformResourceIdentifier, "sip:" + user)}));
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
        } catch (CertIOException | OperatorCreationException e) {
            throw new GeneralSecurityException("cannot build the certificate of " + user + ": " + e.getMessage(), e);
        }
    }
}
