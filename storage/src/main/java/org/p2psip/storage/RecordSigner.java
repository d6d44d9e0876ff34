package org.p2psip.storage;

import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.Key;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.ECKey;
import java.security.spec.NamedParameterSpec;
import java.util.ArrayList;
import java.util.List;
import javax.xml.crypto.MarshalException;
import javax.xml.crypto.dsig.CanonicalizationMethod;
import javax.xml.crypto.dsig.DigestMethod;
import javax.xml.crypto.dsig.Reference;
import javax.xml.crypto.dsig.SignedInfo;
import javax.xml.crypto.dsig.XMLSignature;
import javax.xml.crypto.dsig.XMLSignatureException;
import javax.xml.crypto.dsig.XMLSignatureFactory;
import javax.xml.crypto.dsig.dom.DOMSignContext;
import javax.xml.crypto.dsig.keyinfo.KeyInfo;
import javax.xml.crypto.dsig.keyinfo.KeyInfoFactory;
import javax.xml.crypto.dsig.spec.C14NMethodParameterSpec;
import javax.xml.crypto.dsig.spec.TransformParameterSpec;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * Signs a dhtRecord with standard XML-DSig (the JDK's {@code javax.xml.crypto.dsig}, mechanism "DOM"), in
 * this module's profile:
 * <ul>
 * <li>two References, {@code #<key Id>} and {@code #<value Id>}, as in the draft, so the signature covers the
 * key, the value, its {@code nonce} and its {@code expires};</li>
 * <li>each with the exclusive canonicalization transform and SHA-256, and exclusive canonicalization of
 * SignedInfo, so a record still verifies when it is copied into a {@code dhtRecords} list;</li>
 * <li>SignatureMethod ECDSA P-256 with SHA-256 ({@value Namespaces#SIG_ECDSA_SHA256}) or Ed25519
 * ({@value Namespaces#SIG_ED25519}), chosen by the key;</li>
 * <li>KeyInfo with the KeyName (if any) and the X509Data chain, or the KeyValue of a bare EC key.</li>
 * </ul>
 * Thread-safe.
 */
public final class RecordSigner {
    private static final XMLSignatureFactory FACTORY = XMLSignatureFactory.getInstance("DOM");

    private RecordSigner() {
    }

    /** The signed record, serialized as UTF-8, ready to be a DhtValue's data. */
    public static byte[] sign(DhtRecord record, SigningIdentity id) throws GeneralSecurityException {
        return SecureXml.serialize(signToDocument(record, id));
    }

    /** The signed record as a DOM. */
    public static Document signToDocument(DhtRecord record, SigningIdentity id) throws GeneralSecurityException {
        if (record.key() == null || record.value() == null || record.key().id() == null || record.value().id() == null) {
            throw new IllegalArgumentException("a signed record needs a key and a value, each with an Id");
        }
        Document doc;
        try {
            // validated: a record the schemas refuse fails here, not at every replica (and LocallySigned relies on it)
            doc = SecureXml.defaults().parse(RecordXml.toBytes(record));
        } catch (RecordException e) {
            throw new IllegalArgumentException("the record does not serialize to a valid document: " + e.getMessage(), e);
        }
        Element root = doc.getDocumentElement();
        Element key = RecordXml.child(root, Namespaces.DHT, "key");
        Element value = RecordXml.child(root, Namespaces.DHT, "value");
        key.setIdAttributeNS(null, "Id", true);
        value.setIdAttributeNS(null, "Id", true);

        List<Reference> refs = new ArrayList<>(2);
        for (String refId : List.of(record.key().id(), record.value().id())) {
            refs.add(FACTORY.newReference("#" + refId, FACTORY.newDigestMethod(DigestMethod.SHA256, null),
                    List.of(FACTORY.newTransform(CanonicalizationMethod.EXCLUSIVE, (TransformParameterSpec) null)), null, null));
        }
        SignedInfo si = FACTORY.newSignedInfo(
                FACTORY.newCanonicalizationMethod(CanonicalizationMethod.EXCLUSIVE, (C14NMethodParameterSpec) null),
                FACTORY.newSignatureMethod(signatureMethodFor(id.privateKey()), null), refs);
        KeyInfoFactory kif = FACTORY.getKeyInfoFactory();
        List<javax.xml.crypto.XMLStructure> content = new ArrayList<>(2);
        if (id.keyName() != null) {
            content.add(kif.newKeyName(id.keyName()));
        }
        if (!id.chain().isEmpty()) {
            content.add(kif.newX509Data(new ArrayList<Object>(id.chain())));
        } else {
            content.add(kif.newKeyValue(id.publicKey()));
        }
        KeyInfo ki = kif.newKeyInfo(content);
        XMLSignature sig = FACTORY.newXMLSignature(si, ki);
        try {
            DOMSignContext ctx = new DOMSignContext(engineKey(id.privateKey()), root);
            ctx.setProperty(RecordVerifier.SIGNATURE_PROVIDER_PROPERTY, Crypto.provider());
            sig.sign(ctx);
        } catch (MarshalException | XMLSignatureException e) {
            throw new GeneralSecurityException("cannot sign the record: " + e.getMessage(), e);
        }
        return doc;
    }

    /**
     * The private key as the signature provider's own type, converted once per key. Bouncy Castle converts a JDK
     * key on every {@code initSign} into fresh domain parameters, and so recomputed its fixed-point table for the
     * P-256 generator on every signature: 60 % of an ECDSA signature here; its own key uses the named curve, whose
     * table is computed once.
     */
    static java.security.PrivateKey engineKey(java.security.PrivateKey k) {
        if (k.getClass().getName().startsWith("org.bouncycastle.")) {
            return k;
        }
        java.security.PrivateKey cached = ENGINE_KEYS.get(k);
        if (cached == null) {
            String alg = k instanceof ECKey ? "EC" : k instanceof java.security.interfaces.EdECKey ? "Ed25519" : null;
            byte[] pkcs8 = k.getEncoded();
            if (alg == null || pkcs8 == null) {
                return k;
            }
            try {
                cached = java.security.KeyFactory.getInstance(alg, Crypto.provider())
                        .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(pkcs8));
            } catch (GeneralSecurityException e) {
                return k; // the provider converts (or refuses) it itself
            } finally {
                java.util.Arrays.fill(pkcs8, (byte) 0);
            }
            ENGINE_KEYS.put(k, cached);
        }
        return cached;
    }

    /** JDK private keys → the provider's; weak keys: an entry goes when its identity is no longer used. */
    private static final java.util.Map<java.security.PrivateKey, java.security.PrivateKey> ENGINE_KEYS =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    /** The SignatureMethod URI for a key: ECDSA P-256/SHA-256 or Ed25519; other keys are refused. */
    public static String signatureMethodFor(Key k) throws NoSuchAlgorithmException, InvalidAlgorithmParameterException {
        if (k instanceof ECKey ec) {
            if (ec.getParams().getCurve().getField().getFieldSize() != 256) {
                throw new InvalidAlgorithmParameterException("only P-256 EC keys are used");
            }
            return Namespaces.SIG_ECDSA_SHA256;
        }
        if (k instanceof java.security.interfaces.EdECKey ed) {
            if (!NamedParameterSpec.ED25519.getName().equalsIgnoreCase(ed.getParams().getName())) {
                throw new InvalidAlgorithmParameterException("only Ed25519 EdDSA keys are used");
            }
            return Namespaces.SIG_ED25519;
        }
        throw new NoSuchAlgorithmException("records are signed with ECDSA P-256 or Ed25519, not " + k.getAlgorithm());
    }
}
