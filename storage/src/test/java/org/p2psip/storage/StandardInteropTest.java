package org.p2psip.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.xml.security.Init;
import org.apache.xml.security.c14n.Canonicalizer;
import org.apache.xml.security.keys.KeyInfo;
import org.apache.xml.security.signature.XMLSignature;
import org.apache.xml.security.transforms.Transforms;
import org.apache.xml.security.utils.Constants;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.store.StoragePolicy.Decision;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * Interop with a second, independent XML-DSig implementation: Apache Santuario's own API
 * ({@code org.apache.xml.security.signature.XMLSignature}, not the JSR 105 layer the JDK and our code use).
 * Both directions: our records verify with Santuario (secure validation on), and records Santuario signs with the
 * draft's two References are accepted by {@link RecordVerifier} and by {@link SignedRecordPolicy} in {@code ca}
 * mode. (The JDK's own JSR 105 implementation, configured independently, is covered by {@link SignatureTest}.)
 */
class StandardInteropTest {
    private static final ResourceName BOB = ResourceName.sip("bob@example.net");
    private static final TestPki.Ca CA = TestPki.ca("Interop CA", TestPki.ec());

    @BeforeAll
    static void initSantuario() {
        Init.init();
    }

    private static DhtRecord contactRecord(String nonce) {
        Instant exp = Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);
        return DhtRecord.of(BOB, exp, nonce, new ValueContent.Contacts(List.of(
                new Contact("sip:bob@192.0.2.3:5060;transport=tcp", null, null, "Bob Wilson", null, "0.7", null, List.of(), null))));
    }

    private static SigningIdentity bob(KeyPair kp) {
        return SigningIdentity.of(kp, List.of(CA.issue("bob@example.net", kp, TestPki.email("bob@example.net")).cert(), CA.cert()),
                "bob@example.net");
    }

    private static Document plainParse(byte[] xml) throws Exception {
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setNamespaceAware(true);
        dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return dbf.newDocumentBuilder().parse(new ByteArrayInputStream(xml));
    }

    private static void markIds(Element root) {
        for (String local : List.of("key", "value")) {
            ((Element) root.getElementsByTagNameNS(Namespaces.DHT, local).item(0)).setIdAttributeNS(null, "Id", true);
        }
    }

    /** Santuario's verification, as a user of that library would write it; the key from the KeyInfo. */
    private static boolean santuarioVerifies(byte[] xml) throws Exception {
        Document doc = plainParse(xml);
        Element root = doc.getDocumentElement();
        markIds(root);
        Element sigEl = (Element) root.getElementsByTagNameNS(Constants.SignatureSpecNS, "Signature").item(0);
        XMLSignature sig = new XMLSignature(sigEl, "", true);
        KeyInfo ki = sig.getKeyInfo();
        X509Certificate cert = ki.getX509Certificate();
        if (cert != null) {
            return sig.checkSignatureValue(cert);
        }
        PublicKey pk = ki.getPublicKey();
        return sig.checkSignatureValue(pk);
    }

    /** Santuario's signing: the draft's two References (#key Id, #value Id), the chain and KeyName in KeyInfo. */
    private static byte[] santuarioSign(DhtRecord r, PrivateKey key, List<X509Certificate> chain, String c14n, String digest)
            throws Exception {
        Document doc = plainParse(RecordXml.toBytes(r));
        Element root = doc.getDocumentElement();
        markIds(root);
        String alg = "EC".equals(key.getAlgorithm()) ? XMLSignature.ALGO_ID_SIGNATURE_ECDSA_SHA256 : XMLSignature.ALGO_ID_SIGNATURE_EDDSA_ED25519;
        XMLSignature sig = new XMLSignature(doc, "", alg, c14n);
        root.appendChild(sig.getElement());
        for (String id : List.of(r.key().id(), r.value().id())) {
            Transforms t = new Transforms(doc);
            t.addTransform(c14n);
            sig.addDocument("#" + id, t, digest);
        }
        sig.getKeyInfo().addKeyName("bob@example.net");
        for (X509Certificate c : chain) {
            sig.addKeyInfo(c);
        }
        sig.sign(key);
        return SecureXml.serialize(doc);
    }

    @Test
    void ourRecordsVerifyWithSantuario() throws Exception {
        for (KeyPair kp : List.of(TestPki.ed25519(), TestPki.ec())) {
            byte[] signed = RecordSigner.sign(contactRecord("n1"), bob(kp));
            assertTrue(santuarioVerifies(signed), kp.getPublic().getAlgorithm());
            // and a tampered one fails there too: the check is real
            String s = new String(signed, StandardCharsets.UTF_8);
            byte[] tampered = s.replace("sip:bob@192.0.2.3", "sip:eve@192.0.2.3").getBytes(StandardCharsets.UTF_8);
            assertFalse(santuarioVerifies(tampered), kp.getPublic().getAlgorithm());
        }
        // a bare P-256 key (KeyValue) too
        KeyPair bare = TestPki.ec();
        assertTrue(santuarioVerifies(RecordSigner.sign(contactRecord("n2"), SigningIdentity.of(bare, List.of(), null))));
    }

    @Test
    void santuarioSignedRecordsAreAcceptedByOurVerifierAndPolicy() throws Exception {
        SignedRecordPolicy policy = SignedRecordPolicy.ca(List.of(CA.cert()), false);
        String[][] profiles = {
            {Canonicalizer.ALGO_ID_C14N_EXCL_OMIT_COMMENTS, "http://www.w3.org/2001/04/xmlenc#sha256"},
            {Canonicalizer.ALGO_ID_C14N_OMIT_COMMENTS, "http://www.w3.org/2001/04/xmlenc#sha512"},
        };
        for (KeyPair kp : List.of(TestPki.ed25519(), TestPki.ec())) {
            SigningIdentity id = bob(kp);
            for (String[] p : profiles) {
                DhtRecord rec = contactRecord("santuario-" + p[1].hashCode());
                byte[] xml = santuarioSign(rec, kp.getPrivate(), id.chain(), p[0], p[1]);
                assertTrue(new String(xml, StandardCharsets.UTF_8).contains("<ds:Signature"));
                VerifiedRecord v = new RecordVerifier().verify(xml);
                assertEquals(rec, v.record());
                assertEquals(id.owner(), v.owner());
                assertEquals("bob@example.net", v.keyName());
                assertEquals(id.chain().get(0), v.chain().get(0));
                // the storing node's policy accepts it as any put-auth value
                DhtValue value = new DhtValue(id.owner(), Bytes.utf8(rec.value().nonce()), Bytes.wrap(xml),
                        rec.value().expires().toEpochMilli());
                Decision d = policy.checkPut(rec.key().dhtKey(), value, null, System.currentTimeMillis());
                assertTrue(d.accepted(), d.reason());
                // and a record Santuario signed, then altered, is refused with BAD_SIGNATURE
                String altered = new String(xml, StandardCharsets.UTF_8).replace("0.7", "1.0");
                Decision bad = policy.checkPut(rec.key().dhtKey(), new DhtValue(id.owner(), value.nonce(),
                        Bytes.utf8(altered), value.expiresAtMillis()), null, System.currentTimeMillis());
                assertFalse(bad.accepted());
                assertTrue(bad.reason().startsWith(Refusal.BAD_SIGNATURE.name()), bad.reason());
            }
        }
    }
}
