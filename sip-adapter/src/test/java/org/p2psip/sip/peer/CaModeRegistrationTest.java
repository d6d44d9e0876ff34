package org.p2psip.sip.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.identity.UserCertificates;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.registrar.DigestAccounts;
import org.p2psip.sip.testing.RawPhone;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.api.DraftDht;
import org.p2psip.storage.api.DraftPolicy;

/**
 * An overlay in {@code ca} mode: a user whose key file in {@code <dataDir>/sip-keys} holds a certificate issued by the
 * overlay's CA registers (signed contact record and certificate: stored); a user without one gets a self-signed
 * certificate, which the storing nodes refuse, so the REGISTER gets 503 and nothing is stored.
 */
class CaModeRegistrationTest {
    static final String DOMAIN = "p2p.test";

    @TempDir
    Path data;
    LoopbackOverlay overlay;
    SipPeer peer;
    RawPhone phone;
    X509Certificate caCert;
    int cseq = 1;

    @BeforeEach
    void start() throws Exception {
        KeyPair ca = UserCertificates.newKeyPair();
        caCert = certificate(new X500Name("CN=P2P Test CA"), new X500Name("CN=P2P Test CA"), ca, ca, true, null);
        overlay = new LoopbackOverlay(3, 31, () -> DraftPolicy.of(SignedRecordPolicy.ca(List.of(caCert), false)));
        // bob's CA-issued key, put in place by the operator
        KeyPair bob = UserCertificates.newKeyPair();
        X509Certificate bobCert = certificate(new X500Name("CN=P2P Test CA"), new X500Name("CN=bob"), bob, ca, false,
                "bob@" + DOMAIN);
        Files.createDirectories(data.resolve("sip-keys"));
        Files.writeString(data.resolve("sip-keys/bob@" + DOMAIN + ".key"), "p2psip-user-key/1\nkey="
                + Base64.getEncoder().encodeToString(bob.getPrivate().getEncoded()) + "\ncert="
                + Base64.getEncoder().encodeToString(bobCert.getEncoded()) + "\n");
        peer = SipPeer.start(SipPeer.Config.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), DOMAIN,
                DigestAccounts.of(Map.of("bob", "secret", "alice", "secret"))).withDataDir(data)
                .withKeyKdf(new org.p2psip.storage.PrivateKeyRecord.KdfParams(1024, 1, 1)), overlay.node(0));
        phone = new RawPhone(20_000);
    }

    @AfterEach
    void stop() {
        phone.close();
        peer.close();
        overlay.close();
    }

    static X509Certificate certificate(X500Name issuer, X500Name subject, KeyPair subjectKeys, KeyPair issuerKeys,
            boolean isCa, String user) throws Exception {
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer,
                BigInteger.valueOf(ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE)),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(30))), subject,
                subjectKeys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(isCa ? KeyUsage.keyCertSign : KeyUsage.digitalSignature));
        if (user != null) {
            b.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.rfc822Name, user)));
        }
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
    }

    SipResponse send(String text) throws Exception {
        return phone.send(peer.localAddress(), text);
    }

    String register(String user, String authorization) {
        return phone.register(user, DOMAIN, "reg-" + user, cseq++,
                "Contact: <sip:" + user + "@127.0.0.1:" + phone.port() + ">\n", "600", authorization);
    }

    SipResponse registerWithDigest(String user) throws Exception {
        SipResponse challenge = send(register(user, null));
        assertEquals(401, challenge.status());
        return send(register(user, RawPhone.digest("SHA-256", user, DOMAIN, "secret", RawPhone.nonce(challenge))));
    }

    @Test
    void onlyCaIssuedUsersRegister() throws Exception {
        DraftDht reader = new DraftDht(overlay.node(2));
        assertEquals(200, registerWithDigest("bob").status());
        var contacts = reader.get(ResourceName.sip("bob@" + DOMAIN)).get(10, TimeUnit.SECONDS);
        assertEquals(1, contacts.size());
        assertEquals(caCert.getSubjectX500Principal(), contacts.get(0).record().chain().get(0).getIssuerX500Principal());
        assertEquals(1, reader.get(ResourceName.certificate("bob@" + DOMAIN)).get(10, TimeUnit.SECONDS).size());

        SipResponse refused = registerWithDigest("alice"); // self-signed: not trusted by a ca overlay
        assertEquals(503, refused.status(), refused.toString());
        assertTrue(reader.get(ResourceName.sip("alice@" + DOMAIN)).get(10, TimeUnit.SECONDS).isEmpty());
        assertTrue(reader.get(ResourceName.certificate("alice@" + DOMAIN)).get(10, TimeUnit.SECONDS).isEmpty());
    }
}
