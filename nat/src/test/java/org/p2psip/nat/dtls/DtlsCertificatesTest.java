package org.p2psip.nat.dtls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.Certificate;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.crypto.TlsCertificate;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;
import org.junit.jupiter.api.Test;
import org.p2psip.nat.discovery.NatDiscovery;
import org.p2psip.overlay.NodeId;

/** The certificate rule ({@link PeerCertificates}), identities and the keepalive settings. */
class DtlsCertificatesTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    @Test
    void aNodeCertificateAuthenticatesTheSha1OfItsRawKey() throws Exception {
        KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        DtlsIdentity identity = DtlsIdentity.of(kp.getPrivate(), kp.getPublic());
        byte[] x509 = kp.getPublic().getEncoded();
        NodeId expected = NodeId.sha1(Arrays.copyOfRange(x509, x509.length - 32, x509.length)); // as NodeKeys derives it
        assertEquals(expected, identity.id());
        assertEquals(expected, PeerCertificates.nodeId(identity.certificate()));
    }

    @Test
    void mismatchedJcaKeysAreRejected() throws Exception {
        KeyPair a = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        KeyPair b = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        assertThrows(IllegalArgumentException.class, () -> DtlsIdentity.of(a.getPrivate(), b.getPublic()));
        KeyPair ec = ecKeyPair();
        assertThrows(IllegalArgumentException.class, () -> DtlsIdentity.of(ec.getPrivate(), ec.getPublic()));
    }

    private static KeyPair ecKeyPair() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static String refusal(byte[] der) {
        IOException e = assertThrows(IOException.class, () -> PeerCertificates.nodeId(der));
        return e.getMessage();
    }

    @Test
    void invalidOrSelfInconsistentCertificatesAreRefused() throws Exception {
        Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(RANDOM);
        Ed25519PrivateKeyParameters other = new Ed25519PrivateKeyParameters(RANDOM);
        byte[] good = DtlsIdentity.selfSigned(key);

        assertTrue(refusal(DtlsIdentity.certificate(key, other, "x")).contains("does not verify with its own key"));
        byte[] flipped = good.clone();
        flipped[flipped.length - 3] ^= 1; // inside the signature
        assertTrue(refusal(flipped).contains("does not verify"));
        byte[] trailing = Arrays.copyOf(good, good.length + 2);
        assertTrue(refusal(trailing).contains("DER"), refusal(trailing));
        assertTrue(refusal(Arrays.copyOf(good, good.length - 10)).contains("not a DER X.509 certificate"));
        assertTrue(refusal(new byte[] {0x30, 0x03, 0x02, 0x01, 0x01}).contains("not a DER X.509 certificate"));
        assertTrue(refusal(new byte[5000]).contains("larger than"));

        // a P-256 certificate, validly self-signed with ECDSA
        KeyPair ec = ecKeyPair();
        X500Name n = new X500Name("CN=ec");
        byte[] ecCert = new JcaX509v3CertificateBuilder(n, BigInteger.ONE, new Date(), new Date(System.currentTimeMillis() + 1000000),
                n, ec.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(ec.getPrivate())).getEncoded();
        assertTrue(refusal(ecCert).contains("not signed with Ed25519"));
    }

    @Test
    void theChainMustBeExactlyOneCertificate() throws Exception {
        BcTlsCrypto crypto = new BcTlsCrypto(RANDOM);
        TlsCertificate one = crypto.createCertificate(DtlsIdentity.generate().certificate());
        TlsCertificate two = crypto.createCertificate(DtlsIdentity.generate().certificate());
        TlsFatalAlert empty = assertThrows(TlsFatalAlert.class, () -> PeerCertificates.verify(Certificate.EMPTY_CHAIN));
        assertEquals(AlertDescription.certificate_required, empty.getAlertDescription());
        TlsFatalAlert chain = assertThrows(TlsFatalAlert.class,
                () -> PeerCertificates.verify(new Certificate(new TlsCertificate[] {one, two})));
        assertEquals(AlertDescription.bad_certificate, chain.getAlertDescription());
        PeerCertificates.verify(new Certificate(new TlsCertificate[] {one}));
    }

    @Test
    void keepalivesFollowTheBindingLifetime() {
        DtlsConfig d = DtlsConfig.defaults();
        assertEquals(15_000, d.keepaliveIntervalMillis());
        assertEquals(45_000, d.deadPeerTimeoutMillis());
        assertEquals(15_000, d.withBindingLifetime(0).keepaliveIntervalMillis());
        assertEquals(15_000, d.withBindingLifetime(120_000).keepaliveIntervalMillis());
        assertEquals(10_000, d.withBindingLifetime(20_000).keepaliveIntervalMillis());
        assertEquals(1_000, d.withBindingLifetime(2_000).keepaliveIntervalMillis());
        assertEquals(1_000, d.withBindingLifetime(500).keepaliveIntervalMillis());
        assertEquals(3_000, d.withBindingLifetime(2_000).deadPeerTimeoutMillis());
        assertThrows(IllegalArgumentException.class, () -> d.withKeepalive(1_000, 1_000));
        // from discovery: the lab's 3 s conntrack timeout measures atLeast 2 s, lessThan 4 s
        var lab = new NatDiscovery.BindingLifetime(List.of(new NatDiscovery.LifetimeProbe(Duration.ofSeconds(1), true),
                new NatDiscovery.LifetimeProbe(Duration.ofSeconds(2), true),
                new NatDiscovery.LifetimeProbe(Duration.ofSeconds(4), false)));
        assertEquals(1_000, d.withBindingLifetime(lab).keepaliveIntervalMillis());
        var nat30 = new NatDiscovery.BindingLifetime(List.of(new NatDiscovery.LifetimeProbe(Duration.ofSeconds(25), true),
                new NatDiscovery.LifetimeProbe(Duration.ofSeconds(35), false)));
        assertEquals(12_500, d.withBindingLifetime(nat30).keepaliveIntervalMillis());
        var allDead = new NatDiscovery.BindingLifetime(List.of(new NatDiscovery.LifetimeProbe(Duration.ofSeconds(6), false)));
        assertEquals(2_000, d.withBindingLifetime(allDead).keepaliveIntervalMillis());
        assertEquals(15_000, d.withBindingLifetime((NatDiscovery.BindingLifetime) null).keepaliveIntervalMillis());
        assertEquals(1_472 - DtlsConfig.RECORD_OVERHEAD, d.maxPayloadBytes());
    }
}
