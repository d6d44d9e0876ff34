package org.p2psip.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.p2psip.node.cli.CliRunner.cli;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.Entitlement;
import org.p2psip.node.cli.CliRunner.Cli;
import org.p2psip.storage.SignedRecordPolicy;
import picocli.CommandLine;

/** {@code run --entitlement tofu|ca --trust-anchor FILE}: parsing, PEM reading and the usage errors. */
class EntitlementOptionsTest {
    @TempDir
    Path tmp;

    private static X509Certificate selfSignedCa(String cn) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        X500Name n = new X500Name("CN=" + cn);
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(n, BigInteger.ONE, Date.from(Instant.now().minus(Duration.ofDays(1))),
                Date.from(Instant.now().plus(Duration.ofDays(365))), n, kp.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
    }

    private static String pem(X509Certificate c) throws Exception {
        return "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(c.getEncoded())
                + "\n-----END CERTIFICATE-----\n";
    }

    private static Entitlement parse(String... args) {
        CommandLine cl = Main.newCommandLine();
        cl.parseArgs(args);
        RunCommand run = cl.getSubcommands().get("run").getCommand();
        return run.entitlement();
    }

    @Test
    void caModeReadsEveryAnchorFromPem() throws Exception {
        X509Certificate a = selfSignedCa("Root A");
        X509Certificate b = selfSignedCa("Root B");
        Path both = tmp.resolve("two.pem");
        Files.writeString(both, pem(a) + pem(b));
        Path der = tmp.resolve("c.der");
        X509Certificate c = selfSignedCa("Root C");
        Files.write(der, c.getEncoded());
        Entitlement e = parse("run", "--entitlement", "ca", "--trust-anchor", both.toString(), "--trust-anchor", der.toString());
        assertEquals(SignedRecordPolicy.Mode.CA, e.mode());
        assertEquals(java.util.List.of(a, b, c), e.anchors());
        assertEquals(SignedRecordPolicy.Mode.CA, e.policy(org.p2psip.storage.NameOwners.inMemory()).mode());
        assertEquals(SignedRecordPolicy.Mode.TOFU, parse("run").mode(), "tofu is the default");
    }

    @Test
    void badEntitlementOptionsAreUsageErrorsThatSayWhatToDo() throws Exception {
        Cli noAnchor = cli("run", "--entitlement", "ca", "--port", "0");
        assertEquals(Main.USAGE, noAnchor.code());
        assertTrue(noAnchor.err().contains("--trust-anchor FILE"), noAnchor.err());

        Path junk = tmp.resolve("junk.pem");
        Files.writeString(junk, "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n");
        Cli bad = cli("run", "--entitlement", "ca", "--trust-anchor", junk.toString(), "--port", "0");
        assertEquals(Main.USAGE, bad.code());
        assertTrue(bad.err().contains(junk.toString()) && bad.err().contains("PEM"), bad.err());

        Cli missing = cli("run", "--entitlement", "ca", "--trust-anchor", tmp.resolve("nope.pem").toString(), "--port", "0");
        assertEquals(Main.USAGE, missing.code());
        assertTrue(missing.err().contains("cannot read trust anchor file"), missing.err());

        Path ok = tmp.resolve("ok.pem");
        Files.writeString(ok, pem(selfSignedCa("Root")));
        Cli anchorWithoutCa = cli("run", "--trust-anchor", ok.toString(), "--port", "0");
        assertEquals(Main.USAGE, anchorWithoutCa.code());
        assertTrue(anchorWithoutCa.err().contains("--entitlement ca"), anchorWithoutCa.err());

        Cli unknown = cli("run", "--entitlement", "pki", "--port", "0");
        assertEquals(Main.USAGE, unknown.code());
        assertTrue(unknown.err().contains("'tofu' or 'ca'"), unknown.err());
    }
}
