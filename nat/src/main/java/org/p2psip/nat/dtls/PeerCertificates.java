package org.p2psip.nat.dtls;

import java.io.IOException;
import java.util.Arrays;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1BitString;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.Certificate;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.TBSCertificate;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.TlsFatalAlert;
import org.p2psip.overlay.NodeId;

/**
 * Checks the certificate a DTLS peer presents and derives its node id. The rule: exactly one certificate, a
 * well-formed DER X.509 v3 certificate whose subject key is Ed25519, whose issuer is its subject and whose
 * Ed25519 signature verifies with its own key (self-signed and self-consistent); key usage, when present,
 * allows digitalSignature. The node id is SHA-1 of the raw 32-byte key. Validity dates are not checked: trust
 * comes from the key hash, not from a clock or an issuer. (The TLS handshake itself proves that the peer holds
 * the private key: Bouncy Castle checks the peer's handshake signature against this certificate's key.)
 */
public final class PeerCertificates {
    private static final AlgorithmIdentifier ED25519 = new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519);
    /** A certificate larger than this is refused before parsing (ours are about 300 bytes). */
    static final int MAX_CERTIFICATE_BYTES = 4096;

    private PeerCertificates() {
    }

    /** Checks a TLS certificate chain; the node id, or a {@code bad_certificate} (or {@code certificate_required}) alert. */
    static NodeId verify(org.bouncycastle.tls.Certificate chain) throws TlsFatalAlert {
        if (chain == null || chain.isEmpty()) {
            throw new TlsFatalAlert(AlertDescription.certificate_required, "the peer presented no certificate");
        }
        if (chain.getLength() != 1) {
            throw new TlsFatalAlert(AlertDescription.bad_certificate,
                    "the peer presented " + chain.getLength() + " certificates; a node presents only its own self-signed one");
        }
        try {
            return nodeId(chain.getCertificateAt(0).getEncoded());
        } catch (IOException e) {
            throw new TlsFatalAlert(AlertDescription.bad_certificate, e.getMessage());
        }
    }

    /**
     * The node id a DER certificate authenticates.
     *
     * @throws IOException naming the rule the certificate breaks
     */
    public static NodeId nodeId(byte[] der) throws IOException {
        if (der == null || der.length > MAX_CERTIFICATE_BYTES) {
            throw new IOException("certificate missing or larger than " + MAX_CERTIFICATE_BYTES + " bytes");
        }
        Certificate cert;
        try {
            cert = Certificate.getInstance(ASN1Primitive.fromByteArray(der));
        } catch (IOException | RuntimeException e) {
            throw new IOException("not a DER X.509 certificate: " + e.getMessage());
        }
        if (cert == null || !Arrays.equals(cert.getEncoded(ASN1Encoding.DER), der)) {
            throw new IOException("certificate is not in canonical DER");
        }
        TBSCertificate tbs = cert.getTBSCertificate();
        if (tbs.getVersionNumber() != 3) {
            throw new IOException("not an X.509 v3 certificate");
        }
        if (!ED25519.equals(cert.getSignatureAlgorithm()) || !ED25519.equals(tbs.getSignature())) {
            throw new IOException("certificate is not signed with Ed25519");
        }
        if (!tbs.getIssuer().equals(tbs.getSubject())) {
            throw new IOException("certificate is not self-issued (issuer differs from subject)");
        }
        SubjectPublicKeyInfo spki = tbs.getSubjectPublicKeyInfo();
        if (!ED25519.equals(spki.getAlgorithm())) {
            throw new IOException("certificate key is not Ed25519");
        }
        ASN1BitString keyBits = spki.getPublicKeyData();
        if (keyBits.getPadBits() != 0 || keyBits.getOctets().length != Ed25519PublicKeyParameters.KEY_SIZE) {
            throw new IOException("certificate key is not a 32-byte Ed25519 key");
        }
        byte[] rawKey = keyBits.getOctets();
        Extensions ext = tbs.getExtensions();
        if (ext != null) {
            KeyUsage ku = KeyUsage.fromExtensions(ext);
            if (ku != null && !ku.hasUsages(KeyUsage.digitalSignature)) {
                throw new IOException("certificate key usage does not allow digitalSignature");
            }
            if (ext.getExtensionOIDs().length > 16) {
                throw new IOException("certificate has too many extensions");
            }
        }
        ASN1BitString sig = cert.getSignature();
        if (sig.getPadBits() != 0 || sig.getOctets().length != Ed25519PrivateKeyParameters.SIGNATURE_SIZE) {
            throw new IOException("certificate signature is not a 64-byte Ed25519 signature");
        }
        Ed25519PublicKeyParameters key;
        try {
            key = new Ed25519PublicKeyParameters(rawKey, 0);
        } catch (RuntimeException e) {
            throw new IOException("certificate key is not a valid Ed25519 point");
        }
        Ed25519Signer verifier = new Ed25519Signer();
        verifier.init(false, key);
        byte[] tbsDer = tbs.getEncoded(ASN1Encoding.DER);
        verifier.update(tbsDer, 0, tbsDer.length);
        if (!verifier.verifySignature(sig.getOctets())) {
            throw new IOException("certificate signature does not verify with its own key (not self-signed by it)");
        }
        return NodeId.sha1(rawKey);
    }

}
