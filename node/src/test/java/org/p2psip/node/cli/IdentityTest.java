package org.p2psip.node.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.p2psip.node.cli.CliRunner.cli;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.cli.CliRunner.Cli;
import org.p2psip.node.identity.SecureFiles;
import org.p2psip.node.identity.UserIdentity;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.RecordVerifier;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.VerifiedRecord;

/** {@code p2psip identity}: key pair, CSR, certificate import with its checks, and the encrypted key record. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class IdentityTest {
    @TempDir
    Path tmp;

    /** A small CA of our own (Bouncy Castle), standing in for the one that would sign the request. */
    private static final class Ca {
        final KeyPair keys;
        final X509Certificate cert;

        Ca() throws Exception {
            keys = p256();
            X500Name n = new X500Name("CN=Test CA");
            cert = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(n, BigInteger.ONE,
                    Date.from(Instant.now().minusSeconds(3600)), Date.from(Instant.now().plus(Duration.ofDays(30))), n,
                    keys.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
        }

        X509Certificate issue(PublicKey key, GeneralNames sans, Instant notBefore, Instant notAfter) throws Exception {
            var b = new JcaX509v3CertificateBuilder(new X500Name("CN=Test CA"), BigInteger.valueOf(System.nanoTime()),
                    Date.from(notBefore), Date.from(notAfter), new X500Name("CN=someone"), key);
            b.addExtension(Extension.subjectAlternativeName, false, sans);
            return new JcaX509CertificateConverter().getCertificate(b.build(
                    new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
        }
    }

    private static KeyPair p256() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private Path pem(String name, X509Certificate... certs) throws Exception {
        StringBuilder b = new StringBuilder();
        for (X509Certificate c : certs) {
            b.append(SecureFiles.pem("CERTIFICATE", c.getEncoded()));
        }
        Path f = tmp.resolve(name);
        Files.writeString(f, b.toString());
        return f;
    }

    @Test
    void createCsrImportExport() throws Exception {
        String dd = tmp.resolve("d").toString();
        Cli created = cli("identity", "create", "sip:bob@example.net", "--data-dir", dd);
        assertEquals(0, created.code(), created.err());
        Path dir = UserIdentity.directory(Path.of(dd), "bob@example.net");
        assertTrue(created.out().contains(dir.toString()), created.out());
        if (SecureFiles.posix(dir)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(UserIdentity.KEY_FILE))));
        }
        assertEquals(1, cli("identity", "create", "sip:bob@example.net", "--data-dir", dd).code(), "a key is never overwritten");

        // The request is signed by the key and asks for the user's names.
        Cli csr = cli("identity", "csr", "sip:bob@example.net", "--data-dir", dd);
        assertEquals(0, csr.code(), csr.err());
        var bc = new org.bouncycastle.jce.provider.BouncyCastleProvider();
        var req = new JcaPKCS10CertificationRequest(SecureFiles.pemBlocks(csr.out(), "CERTIFICATE REQUEST").get(0)).setProvider(bc);
        assertTrue(req.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(bc).build(req.getSubjectPublicKeyInfo())));
        assertEquals("CN=bob@example.net", req.getSubject().toString());
        Extensions ext = Extensions.getInstance(req.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)[0]
                .getAttrValues().getObjectAt(0));
        GeneralNames asked = GeneralNames.fromExtensions(ext, Extension.subjectAlternativeName);
        assertTrue(List.of(asked.getNames()).contains(new GeneralName(GeneralName.rfc822Name, "bob@example.net")));
        assertTrue(List.of(asked.getNames()).contains(new GeneralName(GeneralName.uniformResourceIdentifier, "sip:bob@example.net")));

        Ca ca = new Ca();
        PublicKey bobKey = req.getPublicKey();
        Instant now = Instant.now();
        // Refused: another key, another name, expired, and a chain in which the leaf is not signed by the next.
        Cli otherKey = cli("identity", "import", "sip:bob@example.net", pem("other-key.pem",
                ca.issue(p256().getPublic(), asked, now.minusSeconds(60), now.plusSeconds(3600))).toString(), "--data-dir", dd);
        assertEquals(1, otherKey.code());
        assertTrue(otherKey.err().contains("is for bob@example.net's key"), otherKey.err());
        Cli otherName = cli("identity", "import", "sip:bob@example.net", pem("other-name.pem", ca.issue(bobKey,
                new GeneralNames(new GeneralName(GeneralName.rfc822Name, "alice@example.net")), now.minusSeconds(60),
                now.plusSeconds(3600))).toString(), "--data-dir", dd);
        assertEquals(1, otherName.code());
        assertTrue(otherName.err().contains("does not name bob@example.net"), otherName.err());
        Cli expired = cli("identity", "import", "sip:bob@example.net", pem("expired.pem", ca.issue(bobKey, asked,
                now.minusSeconds(7200), now.minusSeconds(3600))).toString(), "--data-dir", dd);
        assertEquals(1, expired.code());
        assertTrue(expired.err().contains("expired"), expired.err());
        Cli badChain = cli("identity", "import", "sip:bob@example.net", pem("bad-chain.pem", ca.issue(bobKey, asked,
                now.minusSeconds(60), now.plusSeconds(3600)), new Ca().cert).toString(), "--data-dir", dd);
        assertEquals(1, badChain.code());
        assertTrue(badChain.err().contains("is not signed by the next one"), badChain.err());
        assertTrue(!Files.exists(dir.resolve(UserIdentity.CERT_FILE)), "nothing refused was saved");

        // Accepted: the leaf for our key naming bob, with its CA after it.
        X509Certificate leaf = ca.issue(bobKey, asked, now.minusSeconds(60), now.plusSeconds(86_400));
        Cli imported = cli("identity", "import", "sip:bob@example.net", pem("bob.pem", leaf, ca.cert).toString(), "--data-dir", dd);
        assertEquals(0, imported.code(), imported.err());
        assertTrue(cli("identity", "show", "sip:bob@example.net", "--data-dir", dd).out().contains("issuer CN=Test CA"));

        // The encrypted private-key record: signed with the certified key, opened again with the password.
        Path pw = tmp.resolve("pw");
        Files.writeString(pw, "correct horse battery staple\n");
        Path out = tmp.resolve("record.xml");
        Cli export = cli("identity", "export", "sip:bob@example.net", "--password-file", pw.toString(), "--out", out.toString(),
                "--data-dir", dd);
        assertEquals(0, export.code(), export.err());
        VerifiedRecord vr = new RecordVerifier().verify(Files.readAllBytes(out));
        assertEquals(leaf, vr.chain().get(0));
        PrivateKeyRecord.Unlocked u = PrivateKeyRecord.unlock("bob@example.net", "correct horse battery staple".toCharArray(),
                PrivateKeyRecord.KdfParams.DEFAULT);
        assertEquals(u.key().dhtKey(), vr.record().key().dhtKey());
        SigningIdentity restored = u.restore(vr);
        byte[] saved = SecureFiles.pemBlocks(Files.readString(dir.resolve(UserIdentity.KEY_FILE)), "PRIVATE KEY").get(0);
        assertArrayEquals(saved, restored.privateKey().getEncoded());
        assertEquals(ResourceName.sip("bob@example.net").user(), restored.keyName());
    }

    @Test
    void anEd25519IdentityExportsWithASelfSignedCertificate() throws Exception {
        String dd = tmp.resolve("e").toString();
        assertEquals(0, cli("identity", "create", "carol@example.org", "--key-type", "ed25519", "--data-dir", dd).code());
        Path pw = tmp.resolve("pw2");
        Files.writeString(pw, "another password");
        Cli export = cli("identity", "export", "sip:carol@example.org", "--password-file", pw.toString(), "--data-dir", dd);
        assertEquals(0, export.code(), export.err());
        VerifiedRecord vr = new RecordVerifier().verify(export.out().strip().getBytes(StandardCharsets.UTF_8));
        assertEquals("Ed25519", vr.signerKey().getAlgorithm().equals("EdDSA") ? "Ed25519" : vr.signerKey().getAlgorithm());
    }

    @Test
    void usageErrors() {
        String dd = tmp.resolve("f").toString();
        assertEquals(2, cli("identity", "create", "not an address", "--data-dir", dd).code());
        assertEquals(2, cli("identity", "create", "sip:bob@example.net", "--key-type", "rsa", "--data-dir", dd).code());
        assertEquals(2, cli("identity").code());
        Cli none = cli("identity", "show", "sip:nobody@example.net", "--data-dir", dd);
        assertEquals(1, none.code());
        assertTrue(none.err().contains("p2psip identity create"), none.err());
        assertEquals(0, cli("identity", "create", "sip:dave@example.net", "--data-dir", dd).code());
        // No terminal here, so without --password-file there is nobody to ask.
        Cli noPw = cli("identity", "export", "sip:dave@example.net", "--data-dir", dd);
        assertEquals(2, noPw.code());
        assertTrue(noPw.err().contains("--password-file"), noPw.err());
    }
}
