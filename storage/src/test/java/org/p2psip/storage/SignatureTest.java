package org.p2psip.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import javax.xml.crypto.KeySelector;
import javax.xml.crypto.KeySelectorResult;
import javax.xml.crypto.XMLStructure;
import javax.xml.crypto.dsig.CanonicalizationMethod;
import javax.xml.crypto.dsig.Reference;
import javax.xml.crypto.dsig.Transform;
import javax.xml.crypto.dsig.XMLSignature;
import javax.xml.crypto.dsig.XMLSignatureFactory;
import javax.xml.crypto.dsig.dom.DOMSignContext;
import javax.xml.crypto.dsig.dom.DOMValidateContext;
import javax.xml.crypto.dsig.keyinfo.KeyInfoFactory;
import javax.xml.crypto.dsig.keyinfo.X509Data;
import javax.xml.crypto.dsig.spec.C14NMethodParameterSpec;
import javax.xml.crypto.dsig.spec.TransformParameterSpec;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

class SignatureTest {
    private static final XMLSignatureFactory F = XMLSignatureFactory.getInstance("DOM");
    private static final ResourceName BOB = ResourceName.sip("bob@example.net");
    private static final Instant EXP = Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);
    private static final TestPki.Ca CA = TestPki.ca("Test CA", TestPki.ec());

    private static DhtRecord contactRecord() {
        return DhtRecord.of(BOB, EXP, "82771583614", new ValueContent.Contacts(List.of(
                new Contact("sip:bob@192.1.2.3:5060", null, null, "Bob Wilson", null, "1.0", null, List.of(), null))));
    }

    private static SigningIdentity ecBob() {
        KeyPair kp = TestPki.ec();
        return SigningIdentity.of(kp, List.of(CA.issue("bob@example.net", kp, TestPki.email("bob@example.net")).cert(), CA.cert()),
                "bob@example.net");
    }

    private static SigningIdentity edBob() {
        KeyPair kp = TestPki.ed25519();
        return SigningIdentity.of(kp, List.of(CA.issue("bob@example.net", kp, TestPki.email("bob@example.net")).cert()), "bob@example.net");
    }

    /** The plain JDK verifier, configured as any standard XML-DSig user would, with nothing from this module. */
    private static boolean standardVerify(byte[] xml) throws Exception {
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setNamespaceAware(true);
        Document doc = dbf.newDocumentBuilder().parse(new ByteArrayInputStream(xml));
        Element root = doc.getDocumentElement();
        Element sig = (Element) root.getElementsByTagNameNS(Namespaces.DSIG, "Signature").item(0);
        DOMValidateContext ctx = new DOMValidateContext(new KeySelector() {
            @Override
            public KeySelectorResult select(javax.xml.crypto.dsig.keyinfo.KeyInfo ki, Purpose p, javax.xml.crypto.AlgorithmMethod m,
                    javax.xml.crypto.XMLCryptoContext c) {
                for (Object o : ki.getContent()) {
                    if (o instanceof X509Data xd) {
                        for (Object x : xd.getContent()) {
                            if (x instanceof X509Certificate cert) {
                                Key k = cert.getPublicKey();
                                return () -> k;
                            }
                        }
                    }
                }
                return null;
            }
        }, sig);
        for (String local : List.of("key", "value")) {
            ctx.setIdAttributeNS((Element) root.getElementsByTagNameNS(Namespaces.DHT, local).item(0), null, "Id");
        }
        return F.unmarshalXMLSignature(ctx).validate(ctx);
    }

    @Test
    void ecdsaRecordVerifiesHereAndWithTheStandardVerifier() throws Exception {
        SigningIdentity bob = ecBob();
        byte[] signed = RecordSigner.sign(contactRecord(), bob);
        String s = new String(signed, StandardCharsets.UTF_8);
        assertTrue(s.contains("Algorithm=\"" + Namespaces.SIG_ECDSA_SHA256 + "\""), s);
        assertTrue(s.contains("URI=\"#k\"") && s.contains("URI=\"#v\""), s);
        assertTrue(s.contains("<KeyName>bob@example.net</KeyName>"), s);
        VerifiedRecord v = new RecordVerifier().verify(signed);
        assertEquals(contactRecord(), v.record());
        assertEquals(bob.publicKey(), v.signerKey());
        assertEquals(bob.owner(), v.owner());
        assertEquals(2, v.chain().size());
        assertEquals("bob@example.net", v.keyName());
        assertTrue(standardVerify(signed));
    }

    @Test
    void ed25519IsSupportedByTheJdk17Provider() throws Exception {
        SigningIdentity bob = edBob();
        byte[] signed = RecordSigner.sign(contactRecord(), bob);
        assertTrue(new String(signed, StandardCharsets.UTF_8).contains(Namespaces.SIG_ED25519));
        VerifiedRecord v = new RecordVerifier().verify(signed);
        assertEquals(Namespaces.SIG_ED25519, v.signatureMethod());
        assertEquals(bob.owner(), v.owner());
        assertTrue(standardVerify(signed));
    }

    @Test
    void bouncyCastleAndJdkSignatureEnginesAgree() throws Exception {
        RecordVerifier jdk = new RecordVerifier(SecureXml.defaults(), null);
        RecordVerifier bc = new RecordVerifier();
        for (SigningIdentity bob : List.of(edBob(), ecBob())) {
            byte[] signed = RecordSigner.sign(contactRecord(), bob); // signed through Bouncy Castle
            assertEquals(bob.owner(), jdk.verify(signed).owner());
            assertEquals(bob.owner(), bc.verify(signed).owner());
            assertTrue(standardVerify(signed));
            String s = new String(signed, StandardCharsets.UTF_8);
            int sv = s.indexOf("<SignatureValue>") + "<SignatureValue>".length();
            byte[] bad = (s.substring(0, sv) + (s.charAt(sv) == 'A' ? 'B' : 'A') + s.substring(sv + 1)).getBytes(StandardCharsets.UTF_8);
            assertEquals(Refusal.BAD_SIGNATURE, assertThrows(RecordException.class, () -> jdk.verify(bad)).code());
            assertEquals(Refusal.BAD_SIGNATURE, assertThrows(RecordException.class, () -> bc.verify(bad)).code());
        }
        // the provider property is honoured: a provider without signature engines cannot verify anything
        RecordVerifier none = new RecordVerifier(SecureXml.defaults(), new java.security.Provider("Empty", "1", "no algorithms") { });
        assertEquals(Refusal.BAD_SIGNATURE, assertThrows(RecordException.class,
                () -> none.verify(RecordSigner.sign(contactRecord(), edBob()))).code());
    }

    @Test
    void bareKeyValueSignatureVerifies() throws Exception {
        KeyPair kp = TestPki.ec();
        byte[] signed = RecordSigner.sign(contactRecord(), SigningIdentity.of(kp, List.of(), null));
        VerifiedRecord v = new RecordVerifier().verify(signed);
        assertEquals(kp.getPublic(), v.signerKey());
        assertTrue(v.chain().isEmpty());
    }

    @Test
    void tamperingWithKeyValueNonceOrExpiresFails() throws Exception {
        String signed = new String(RecordSigner.sign(contactRecord(), ecBob()), StandardCharsets.UTF_8);
        String[][] edits = {
            {">sip:bob@example.net</key>", ">sip:eve@example.net</key>"},
            {"sip:bob@192.1.2.3:5060", "sip:eve@192.1.2.3:5060"},
            {"nonce=\"82771583614\"", "nonce=\"82771583615\""},
            {"expires=\"" + EXP + "\"", "expires=\"" + EXP.plus(1, ChronoUnit.DAYS) + "\""},
            {"displayName=\"Bob Wilson\"", "displayName=\"Bob Wilson\" user=\"sip:eve@example.net\""},
        };
        for (String[] e : edits) {
            assertTrue(signed.contains(e[0]), e[0]);
            String t = signed.replace(e[0], e[1]);
            RecordException ex = assertThrows(RecordException.class, () -> new RecordVerifier().verify(t.getBytes(StandardCharsets.UTF_8)), e[1]);
            assertEquals(Refusal.BAD_SIGNATURE, ex.code(), ex.getMessage());
            assertTrue(ex.getMessage().contains("does not match"), ex.getMessage());
        }
    }

    @Test
    void anotherKeysCertificateFails() throws Exception {
        SigningIdentity bob = ecBob();
        KeyPair evil = TestPki.ec();
        // signed by evil, but claims bob's certificate
        SigningIdentity liar = new SigningIdentity(evil.getPrivate(), bob.publicKey(), bob.chain(), "bob@example.net");
        byte[] signed = RecordSigner.sign(contactRecord(), liar);
        assertEquals(Refusal.BAD_SIGNATURE, assertThrows(RecordException.class, () -> new RecordVerifier().verify(signed)).code());
    }

    /** The independent standard signer: a different but standard configuration. */
    private static byte[] independentSign(DhtRecord r, PrivateKey key, List<XMLStructure> keyInfo, String c14n, String refTransform,
            String digest, String prefix, boolean reverse) throws Exception {
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setNamespaceAware(true);
        Document doc = dbf.newDocumentBuilder().parse(new ByteArrayInputStream(RecordXml.toBytes(r)));
        Element root = doc.getDocumentElement();
        Element k = (Element) root.getElementsByTagNameNS(Namespaces.DHT, "key").item(0);
        Element v = (Element) root.getElementsByTagNameNS(Namespaces.DHT, "value").item(0);
        k.setIdAttributeNS(null, "Id", true);
        v.setIdAttributeNS(null, "Id", true);
        List<Transform> ts = refTransform == null ? null : List.of(F.newTransform(refTransform, (TransformParameterSpec) null));
        List<Reference> refs = new ArrayList<>();
        for (String id : reverse ? List.of(r.value().id(), r.key().id()) : List.of(r.key().id(), r.value().id())) {
            refs.add(F.newReference("#" + id, F.newDigestMethod(digest, null), ts, null, null));
        }
        String sm = "EC".equals(key.getAlgorithm()) ? Namespaces.SIG_ECDSA_SHA256 : Namespaces.SIG_ED25519;
        XMLSignature sig = F.newXMLSignature(F.newSignedInfo(F.newCanonicalizationMethod(c14n, (C14NMethodParameterSpec) null),
                F.newSignatureMethod(sm, null), refs), F.getKeyInfoFactory().newKeyInfo(keyInfo));
        DOMSignContext ctx = new DOMSignContext(key, root);
        if (prefix != null) {
            ctx.setDefaultNamespacePrefix(prefix);
        }
        sig.sign(ctx);
        return SecureXml.serialize(doc);
    }

    @Test
    void recordsFromAnIndependentStandardSignerAreAccepted() throws Exception {
        SigningIdentity bob = ecBob();
        KeyInfoFactory kif = F.getKeyInfoFactory();
        // inclusive c14n, no reference transforms, SHA-512, "ds:" prefix, value referenced first, bare KeyValue
        byte[] a = independentSign(contactRecord(), bob.privateKey(), List.of(kif.newKeyValue(bob.publicKey())),
                CanonicalizationMethod.INCLUSIVE, null, javax.xml.crypto.dsig.DigestMethod.SHA512, "ds", true);
        assertTrue(new String(a, StandardCharsets.UTF_8).contains("<ds:Signature"));
        assertEquals(bob.owner(), new RecordVerifier().verify(a).owner());
        // exclusive c14n with comments, inclusive c14n transform, SHA-384, X509Data only (no KeyName)
        byte[] b = independentSign(contactRecord(), bob.privateKey(), List.of(kif.newX509Data(new ArrayList<Object>(bob.chain()))),
                CanonicalizationMethod.EXCLUSIVE_WITH_COMMENTS, CanonicalizationMethod.INCLUSIVE,
                "http://www.w3.org/2001/04/xmldsig-more#sha384", null, false);
        VerifiedRecord vb = new RecordVerifier().verify(b);
        assertEquals(bob.owner(), vb.owner());
        assertEquals(contactRecord(), vb.record());
        // Ed25519 with inclusive c14n, chain given root first
        SigningIdentity ed = edBob();
        List<Object> rootFirst = new ArrayList<>(List.of(CA.cert(), ed.chain().get(0)));
        byte[] c = independentSign(contactRecord(), ed.privateKey(), List.of(kif.newX509Data(rootFirst)),
                CanonicalizationMethod.INCLUSIVE, CanonicalizationMethod.EXCLUSIVE, javax.xml.crypto.dsig.DigestMethod.SHA256, "dsig", false);
        VerifiedRecord vc = new RecordVerifier().verify(c);
        assertEquals(ed.owner(), vc.owner());
        assertEquals(ed.chain().get(0), vc.chain().get(0), "the leaf is found whatever the order");
    }

    @Test
    void weakOrDangerousSignerChoicesAreRefused() throws Exception {
        SigningIdentity bob = ecBob();
        List<XMLStructure> ki = List.of(F.getKeyInfoFactory().newX509Data(new ArrayList<Object>(bob.chain())));
        // enveloped-signature transform: not canonicalization
        byte[] env = independentSign(contactRecord(), bob.privateKey(), ki, CanonicalizationMethod.EXCLUSIVE, Transform.ENVELOPED,
                javax.xml.crypto.dsig.DigestMethod.SHA256, null, false);
        assertRefused(env, "Transform");
        // SHA-1 digests
        byte[] sha1 = independentSign(contactRecord(), bob.privateKey(), ki, CanonicalizationMethod.EXCLUSIVE, null,
                javax.xml.crypto.dsig.DigestMethod.SHA1, null, false);
        assertRefused(sha1, "sha1");
    }

    @Test
    void foreignAndExtraReferencesAreRefused() throws Exception {
        String signed = new String(RecordSigner.sign(contactRecord(), ecBob()), StandardCharsets.UTF_8);
        assertRefused(signed.replace("URI=\"#k\"", "URI=\"http://127.0.0.1:1/x\"").getBytes(StandardCharsets.UTF_8), "Reference URI");
        assertRefused(signed.replace("URI=\"#k\"", "URI=\"#v\"").getBytes(StandardCharsets.UTF_8), "twice");
        assertRefused(signed.replace("URI=\"#k\"", "URI=\"\"").getBytes(StandardCharsets.UTF_8), "Reference URI");
    }

    @Test
    void signatureWrappingIsRefused() throws Exception {
        String signed = new String(RecordSigner.sign(contactRecord(), ecBob()), StandardCharsets.UTF_8);
        // move the signed value into a ds:Object and put an unsigned one in its place
        int vs = signed.indexOf("<value");
        int ve = signed.indexOf("</value>") + "</value>".length();
        String signedValue = signed.substring(vs, ve);
        String evilValue = signedValue.replace("sip:bob@192.1.2.3:5060", "sip:eve@6.6.6.6");
        String wrapped = signed.substring(0, vs) + evilValue + signed.substring(ve);
        wrapped = wrapped.replace("</Signature>", "<Object>" + signedValue.replace("<value", "<value xmlns=\"urn:ietf:params:xml:ns:dht\"")
                + "</Object></Signature>");
        byte[] w = wrapped.getBytes(StandardCharsets.UTF_8);
        RecordException e = assertThrows(RecordException.class, () -> new RecordVerifier().verify(w));
        assertTrue(e.code() == Refusal.INVALID || e.code() == Refusal.BAD_SIGNATURE, e.getMessage());
        // and without an Id on the replacement, the signed one cannot be picked either
        String noId = signed.substring(0, vs) + evilValue.replace(" Id=\"v\"", "") + signed.substring(ve);
        noId = noId.replace("</Signature>", "<Object>" + signedValue.replace("<value", "<value xmlns=\"urn:ietf:params:xml:ns:dht\"")
                + "</Object></Signature>");
        byte[] n = noId.getBytes(StandardCharsets.UTF_8);
        assertEquals(Refusal.BAD_SIGNATURE, assertThrows(RecordException.class, () -> new RecordVerifier().verify(n)).code());
    }

    @Test
    void unsignedRecordIsRefused() {
        assertRefused(RecordXml.toBytes(contactRecord()), "not signed");
    }

    @Test
    void aSignedRecordStillVerifiesInsideADhtRecordsList() throws Exception {
        String a = new String(RecordSigner.sign(contactRecord(), ecBob()), StandardCharsets.UTF_8);
        String b = new String(RecordSigner.sign(DhtRecord.of(BOB, EXP, "other", new ValueContent.Text("x")), edBob()), StandardCharsets.UTF_8);
        String list = RecordXml.dhtRecords(List.of(a, b)).replace("<dhtRecords ", "<dhtRecords xmlns:x=\"urn:example:unrelated\" ");
        Element root = RecordXml.rootNamed(SecureXml.defaults().parse(list.getBytes(StandardCharsets.UTF_8)), Namespaces.DHT, "dhtRecords");
        List<Element> recs = RecordXml.recordElements(root);
        RecordVerifier v = new RecordVerifier();
        assertEquals(contactRecord(), v.verify(recs.get(0)).record());
        assertNotEquals(v.verify(recs.get(0)).owner(), v.verify(recs.get(1)).owner());
    }

    private static void assertRefused(byte[] xml, String why) {
        RecordException e = assertThrows(RecordException.class, () -> new RecordVerifier().verify(xml));
        assertEquals(Refusal.BAD_SIGNATURE, e.code(), e.getMessage());
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }
}
