package org.p2psip.node.xmlrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.xmlrpc.XmlRpcException;
import org.apache.xmlrpc.client.XmlRpcClient;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.Entitlement;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;
import org.p2psip.overlay.DhtException;
import org.p2psip.storage.Contact;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.Namespaces;
import org.p2psip.storage.Refusal;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.ValueContent;
import org.p2psip.storage.api.DraftDht;

/**
 * Three loopback peers in {@code ca} entitlement mode, the trust anchor read from a PEM file as the CLI does. A
 * Bouncy Castle CA chain (root → intermediate → leaves) binds user names (rfc822Name) and a domain (dNSName). A valid
 * record is stored; an untrusted, an expired and a wrong-name certificate, and a replay, are each refused with their
 * own code, which reaches the writer as the XML-RPC put-auth fault code (and in the Java API's exception).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CaEntitlementTest {
    private static final AtomicLong SERIAL = new AtomicLong(1);

    @TempDir
    static Path tmp;

    private final List<Peer> peers = new ArrayList<>();
    private KeyPair rootKeys;
    private X509Certificate root;
    private KeyPair interKeys;
    private X509Certificate inter;

    @BeforeAll
    void startCaCluster() throws Exception {
        rootKeys = ec();
        root = cert(null, rootKeys.getPrivate(), "CN=Example Overlay Root CA", rootKeys.getPublic(), true, days(-1), days(365));
        interKeys = ec();
        inter = cert(root, rootKeys.getPrivate(), "CN=Example Overlay Users CA", interKeys.getPublic(), true, days(-1), days(180));
        Path pem = tmp.resolve("overlay-ca.pem");
        Files.writeString(pem, pem(root), StandardCharsets.US_ASCII);
        Entitlement ca = Entitlement.ca(Entitlement.readAnchors(List.of(pem)));

        TestSupport.startCluster(peers, tmp, 3, b -> b.entitlement(ca));
    }

    @AfterAll
    void stopCluster() {
        peers.forEach(Peer::close);
    }

    @Test
    void validRecordsAreStoredAndEachBadCertificateGetsItsOwnCode() throws Exception {
        Instant exp = Instant.now().plusSeconds(600).truncatedTo(ChronoUnit.SECONDS);
        ResourceName bob = ResourceName.sip("bob@example.net");

        // a user certificate (rfc822Name) from the intermediate CA: stored
        SigningIdentity bobId = leaf("bob@example.net", inter, interKeys, days(-1), days(30), new GeneralName(GeneralName.rfc822Name, "bob@example.net"));
        assertEquals(Boolean.TRUE, putAuth(0, record(bob, exp, "desk", "sip:bob@192.0.2.10"), bobId));
        String got = (String) client(2).execute("get", new Object[] {query(bob)});
        assertTrue(got.contains("sip:bob@192.0.2.10"), got);

        // a domain certificate (dNSName) writes for any user of its domain
        SigningIdentity domain = leaf("proxy.example.org", inter, interKeys, days(-1), days(30), new GeneralName(GeneralName.dNSName, "example.org"));
        assertEquals(Boolean.TRUE, putAuth(1, record(ResourceName.sip("alice@example.org"), exp, "p1", "sip:alice@192.0.2.11"), domain));

        // a certificate from a CA the overlay does not trust
        KeyPair otherRootKeys = ec();
        X509Certificate otherRoot = cert(null, otherRootKeys.getPrivate(), "CN=Some Other CA", otherRootKeys.getPublic(), true, days(-1), days(365));
        SigningIdentity untrusted = leaf("bob@example.net", otherRoot, otherRootKeys, days(-1), days(30),
                new GeneralName(GeneralName.rfc822Name, "bob@example.net"));
        assertRefused(Refusal.CERT_UNTRUSTED, 1, record(bob, exp, "evil", "sip:bob@192.0.2.66"), untrusted);

        // an expired certificate from the trusted chain
        SigningIdentity expired = leaf("bob@example.net", inter, interKeys, days(-30), days(-1),
                new GeneralName(GeneralName.rfc822Name, "bob@example.net"));
        assertRefused(Refusal.CERT_EXPIRED, 2, record(bob, exp, "old", "sip:bob@192.0.2.67"), expired);

        // a valid certificate for another name
        SigningIdentity carol = leaf("carol@example.net", inter, interKeys, days(-1), days(30),
                new GeneralName(GeneralName.rfc822Name, "carol@example.net"));
        assertRefused(Refusal.NOT_ENTITLED, 0, record(bob, exp, "carol", "sip:carol@192.0.2.68"), carol);
        // a domain certificate of another domain
        assertRefused(Refusal.NOT_ENTITLED, 0, record(bob, exp, "p2", "sip:bob@192.0.2.69"), domain);

        // a replay: bob refreshes 'desk', then the older record is sent again
        assertEquals(Boolean.TRUE, putAuth(0, record(bob, exp.plusSeconds(300), "desk", "sip:bob@192.0.2.10"), bobId));
        assertRefused(Refusal.REPLAY, 1, record(bob, exp, "desk", "sip:bob@192.0.2.10"), bobId);

        // the Java API carries the same code to the writer
        DraftDht api = new DraftDht(peers.get(0).dht());
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> api.putAuth(record(bob, exp, "evil2", "sip:bob@192.0.2.70"), untrusted).get(40, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof DhtException, e.toString());
        assertEquals(Refusal.CERT_UNTRUSTED, Refusal.find(e.getCause().getMessage()).orElseThrow(), e.getCause().getMessage());

        // none of the refused records is there
        String after = (String) client(1).execute("get", new Object[] {query(bob)});
        assertTrue(after.contains("sip:bob@192.0.2.10") && !after.contains("192.0.2.6") && !after.contains("192.0.2.70"), after);
    }

    private void assertRefused(Refusal code, int peer, DhtRecord rec, SigningIdentity id) throws Exception {
        XmlRpcException e = assertThrows(XmlRpcException.class, () -> putAuth(peer, rec, id));
        assertEquals(code.faultCode(), e.code, e.getMessage());
        assertTrue(e.getMessage().startsWith(code.name() + ": "), e.getMessage());
    }

    private Object putAuth(int peer, DhtRecord rec, SigningIdentity id) throws Exception {
        return client(peer).execute("put-auth", new Object[] {DraftDht.signed(rec, id).data().utf8String()});
    }

    private static DhtRecord record(ResourceName name, Instant exp, String nonce, String contact) {
        return DhtRecord.of(name, exp, nonce, new ValueContent.Contacts(List.of(Contact.of(contact))));
    }

    private static String query(ResourceName name) {
        return "<dhtRecord xmlns=\"" + Namespaces.DHT + "\"><key>" + name.format() + "</key></dhtRecord>";
    }

    private XmlRpcClient client(int i) throws Exception {
        return TestSupport.xmlRpcClient(peers.get(i).xmlrpcAddress().getPort());
    }

    private static SigningIdentity leaf(String cn, X509Certificate issuer, KeyPair issuerKeys, Instant from, Instant to, GeneralName san)
            throws Exception {
        KeyPair kp = ec();
        X509Certificate c = cert(issuer, issuerKeys.getPrivate(), "CN=" + cn, kp.getPublic(), false, from, to, san);
        List<X509Certificate> chain = issuer.getSubjectX500Principal().equals(issuer.getIssuerX500Principal())
                ? List.of(c) : List.of(c, issuer);
        return SigningIdentity.of(kp, chain, cn);
    }

    static String pem(X509Certificate c) throws Exception {
        return "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(c.getEncoded())
                + "\n-----END CERTIFICATE-----\n";
    }

    static KeyPair ec() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static Instant days(int d) {
        return Instant.now().plus(Duration.ofDays(d));
    }

    static X509Certificate cert(X509Certificate issuer, PrivateKey issuerKey, String subject, PublicKey pub, boolean ca,
            Instant from, Instant to, GeneralName... sans) throws Exception {
        X500Name subj = new X500Name(subject);
        X500Name iss = issuer == null ? subj : X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(iss, BigInteger.valueOf(SERIAL.incrementAndGet()),
                Date.from(from), Date.from(to), subj, pub);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign : KeyUsage.digitalSignature));
        if (sans.length > 0) {
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
        }
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
    }
}
