package org.p2psip.storage;

import java.security.Key;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.xml.crypto.AlgorithmMethod;
import javax.xml.crypto.KeySelector;
import javax.xml.crypto.KeySelectorException;
import javax.xml.crypto.KeySelectorResult;
import javax.xml.crypto.MarshalException;
import javax.xml.crypto.XMLCryptoContext;
import javax.xml.crypto.XMLStructure;
import javax.xml.crypto.dsig.CanonicalizationMethod;
import javax.xml.crypto.dsig.Reference;
import javax.xml.crypto.dsig.SignedInfo;
import javax.xml.crypto.dsig.Transform;
import javax.xml.crypto.dsig.XMLSignature;
import javax.xml.crypto.dsig.XMLSignatureException;
import javax.xml.crypto.dsig.XMLSignatureFactory;
import javax.xml.crypto.dsig.dom.DOMValidateContext;
import javax.xml.crypto.dsig.keyinfo.KeyInfo;
import javax.xml.crypto.dsig.keyinfo.KeyName;
import javax.xml.crypto.dsig.keyinfo.KeyValue;
import javax.xml.crypto.dsig.keyinfo.X509Data;
import org.p2psip.overlay.Bytes;
import org.w3c.dom.Element;

/**
 * Verifies a signed dhtRecord with the JDK's standard XML-DSig implementation (secure validation on), and
 * accepts any standard signer's choices within these bounds:
 * <ul>
 * <li>the References are exactly the record's key and value, by their {@code Id}s (same-document only: no
 * other URI is dereferenced, so no network and no file access, and no signature wrapping);</li>
 * <li>canonicalization and transforms are the four c14n algorithms (inclusive or exclusive, with or without
 * comments); no XPath, XSLT or enveloped transforms;</li>
 * <li>digests are SHA-256, SHA-384 or SHA-512; signatures are ECDSA with SHA-256/384/512 or Ed25519;</li>
 * <li>the key comes from the KeyInfo: the leaf of its X509Data, or a KeyValue.</li>
 * </ul>
 * Every failure is a {@link RecordException} with {@link Refusal#BAD_SIGNATURE} (or a parse code). Thread-safe.
 */
public final class RecordVerifier {
    static final Set<String> C14N = Set.of(CanonicalizationMethod.INCLUSIVE, CanonicalizationMethod.INCLUSIVE_WITH_COMMENTS,
            CanonicalizationMethod.EXCLUSIVE, CanonicalizationMethod.EXCLUSIVE_WITH_COMMENTS);
    static final Set<String> DIGESTS = Set.of(Namespaces.DIGEST_SHA256, Namespaces.DIGEST_SHA384, Namespaces.DIGEST_SHA512);
    static final Set<String> SIGNATURES = Set.of(Namespaces.SIG_ECDSA_SHA256, Namespaces.SIG_ECDSA_SHA384,
            Namespaces.SIG_ECDSA_SHA512, Namespaces.SIG_ED25519);

    private static final XMLSignatureFactory FACTORY = XMLSignatureFactory.getInstance("DOM");
    /**
     * The JDK XML-DSig context property naming the JCA provider its SignatureMethod uses to verify (and sign) the
     * SignatureValue (JDK 17 {@code DOMSignatureMethod}); everything else stays the JDK's standard processing.
     */
    static final String SIGNATURE_PROVIDER_PROPERTY = "org.jcp.xml.dsig.internal.dom.SignatureProvider";
    private final SecureXml parser;
    private final java.security.Provider signatureProvider;
    private final LocallySigned signedHere;

    /**
     * @param signatureProvider the JCA provider for the SignatureValue step, or null for the JDK's default
     *        provider lookup
     * @param signedHere        the documents this process's signer signed (trusted when the bytes are equal to
     *                          them, see {@link LocallySigned}), or null to verify everything
     */
    public RecordVerifier(SecureXml parser, java.security.Provider signatureProvider, LocallySigned signedHere) {
        this.parser = parser;
        this.signatureProvider = signatureProvider;
        this.signedHere = signedHere;
    }

    /** See {@link #RecordVerifier(SecureXml, java.security.Provider, LocallySigned)}; verifies everything. */
    public RecordVerifier(SecureXml parser, java.security.Provider signatureProvider) {
        this(parser, signatureProvider, null);
    }

    /** With the default parser and Bouncy Castle, trusting documents equal to those the signer sharing {@code signedHere} made. */
    public RecordVerifier(LocallySigned signedHere) {
        this(SecureXml.defaults(), Crypto.provider(), signedHere);
    }

    /** With Bouncy Castle's signature engines ({@link Crypto#provider()}), which verify Ed25519 about 6x faster than JDK 17's. */
    public RecordVerifier(SecureXml parser) {
        this(parser, Crypto.provider());
    }

    public RecordVerifier() {
        this(SecureXml.defaults());
    }

    /**
     * Parses (hardened, validated) and verifies a signed {@code dhtRecord} document. A document with the same
     * SHA-256 as one this verifier accepted before (a re-replication, a republish, a re-read) is answered from a
     * bounded cache of successes; refusals are never cached. What does not depend on the bytes alone (expiry,
     * certificate validity, entitlement) is the caller's to check each time, as {@link SignedRecordPolicy} does.
     * A refreshed value's {@link RefreshTrailer} is not part of the signed document: only the signed part is verified
     * (and cached), and checking the trailer's chain is the caller's.
     */
    public VerifiedRecord verify(byte[] data) throws RecordException {
        byte[] xml = RefreshTrailer.signedPart(data);
        if (xml.length > parser.limits().maxBytes()) {
            throw new RecordException(Refusal.TOO_LARGE,
                    "document of " + xml.length + " bytes exceeds the limit of " + parser.limits().maxBytes());
        }
        byte[] sha256 = LocallySigned.sha256(xml);
        VerifiedRecord mine = signedHere == null ? null : signedHere.of(xml, sha256);
        if (mine != null) {
            return mine; // these very bytes were signed in this process a moment ago (see LocallySigned)
        }
        Bytes digest = Bytes.wrap(sha256);
        VerifiedRecord hit = verified.get(digest);
        if (hit != null) {
            return hit;
        }
        fullVerifications.increment();
        VerifiedRecord vr = verify(RecordXml.rootNamed(parser.parse(xml), Namespaces.DHT, "dhtRecord"));
        verified.put(digest, vr);
        return vr;
    }

    private final java.util.concurrent.atomic.LongAdder fullVerifications = new java.util.concurrent.atomic.LongAdder();

    /** Documents {@link #verify(byte[])} parsed and verified in full (not answered from a cache): signature checks made. */
    public long fullVerifications() {
        return fullVerifications.sum();
    }

    /** Documents this verifier accepted, by SHA-256 of their bytes (LRU). */
    private final java.util.Map<Bytes, VerifiedRecord> verified = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>(256, 0.75f, true) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(java.util.Map.Entry<Bytes, VerifiedRecord> eldest) {
                    return size() > VERIFIED_ENTRIES;
                }
            });

    /** Entries of that cache: a verified contact record with its certificate is a few KiB. */
    static final int VERIFIED_ENTRIES = 4_096;


    /** Verifies a {@code dhtRecord} element of a validated document (e.g. one record of a dhtRecords list). */
    public VerifiedRecord verify(Element record) throws RecordException {
        try {
            return verifyElement(record);
        } catch (RuntimeException e) {
            // the JDK's XML-DSig code is not hardened against every malformed input; refuse, never propagate
            throw bad("the signature could not be processed: " + e);
        }
    }

    private VerifiedRecord verifyElement(Element record) throws RecordException {
        Element key = RecordXml.child(record, Namespaces.DHT, "key");
        Element value = RecordXml.child(record, Namespaces.DHT, "value");
        Element sigEl = RecordXml.child(record, Namespaces.DSIG, "Signature");
        if (sigEl == null) {
            throw bad("the record is not signed");
        }
        if (key == null || value == null || !key.hasAttribute("Id") || !value.hasAttribute("Id")) {
            throw bad("a signed record needs a key and a value, each with an Id the signature references");
        }
        String keyId = key.getAttribute("Id");
        String valueId = value.getAttribute("Id");
        if (keyId.equals(valueId)) {
            throw bad("the key and the value have the same Id");
        }

        Selector selector = new Selector();
        DOMValidateContext ctx = new DOMValidateContext(selector, sigEl);
        ctx.setProperty("org.jcp.xml.dsig.secureValidation", Boolean.TRUE);
        if (signatureProvider != null) {
            ctx.setProperty(SIGNATURE_PROVIDER_PROPERTY, signatureProvider);
        }
        ctx.setIdAttributeNS(key, null, "Id");
        ctx.setIdAttributeNS(value, null, "Id");
        XMLSignature sig;
        try {
            sig = FACTORY.unmarshalXMLSignature(ctx);
        } catch (MarshalException e) {
            throw bad("malformed Signature: " + e.getMessage());
        }
        SignedInfo si = sig.getSignedInfo();
        String sigMethod = si.getSignatureMethod().getAlgorithm();
        if (!SIGNATURES.contains(sigMethod)) {
            throw bad("SignatureMethod " + sigMethod + " is not accepted (ECDSA-SHA2 or Ed25519)");
        }
        if (!C14N.contains(si.getCanonicalizationMethod().getAlgorithm())) {
            throw bad("CanonicalizationMethod " + si.getCanonicalizationMethod().getAlgorithm() + " is not accepted");
        }
        checkReferences(si, keyId, valueId);

        boolean ok;
        try {
            ok = sig.validate(ctx);
        } catch (XMLSignatureException e) {
            Throwable c = e.getCause() instanceof KeySelectorException ks ? ks : e;
            throw bad(c.getMessage());
        }
        if (!ok) {
            StringBuilder why = new StringBuilder("signature does not verify");
            try {
                if (!sig.getSignatureValue().validate(ctx)) {
                    why.append(": SignatureValue is wrong");
                }
                for (Object o : si.getReferences()) {
                    Reference r = (Reference) o;
                    if (!r.validate(ctx)) {
                        why.append(": digest of ").append(r.getURI()).append(" does not match");
                    }
                }
            } catch (XMLSignatureException e) {
                why.append(": ").append(e.getMessage());
            }
            throw bad(why.toString());
        }
        DhtRecord content = RecordXml.readRecord(record);
        return new VerifiedRecord(content, selector.key, selector.chain, selector.keyName, sigMethod);
    }

    private static void checkReferences(SignedInfo si, String keyId, String valueId) throws RecordException {
        List<?> refs = si.getReferences();
        Set<String> seen = new HashSet<>();
        for (Object o : refs) {
            Reference r = (Reference) o;
            String uri = r.getURI();
            if (!("#" + keyId).equals(uri) && !("#" + valueId).equals(uri)) {
                throw bad("Reference URI " + uri + " is neither the key (#" + keyId + ") nor the value (#" + valueId + ")");
            }
            if (!seen.add(uri)) {
                throw bad("Reference " + uri + " appears twice");
            }
            if (!DIGESTS.contains(r.getDigestMethod().getAlgorithm())) {
                throw bad("DigestMethod " + r.getDigestMethod().getAlgorithm() + " is not accepted (SHA-256/384/512)");
            }
            for (Object t : r.getTransforms()) {
                String alg = ((Transform) t).getAlgorithm();
                if (!C14N.contains(alg)) {
                    throw bad("Transform " + alg + " is not accepted (canonicalization only)");
                }
            }
        }
        if (seen.size() != 2) {
            throw bad("the signature must reference both the key and the value");
        }
    }

    private static RecordException bad(String detail) {
        return new RecordException(Refusal.BAD_SIGNATURE, detail);
    }

    /** Takes the key from the KeyInfo, remembering the chain and the KeyName. */
    private final class Selector extends KeySelector {
        PublicKey key;
        List<X509Certificate> chain = List.of();
        String keyName;

        @Override
        public KeySelectorResult select(KeyInfo keyInfo, Purpose purpose, AlgorithmMethod method, XMLCryptoContext context)
                throws KeySelectorException {
            if (keyInfo == null) {
                throw new KeySelectorException("the Signature has no KeyInfo");
            }
            List<X509Certificate> certs = new ArrayList<>();
            PublicKey bare = null;
            for (Object o : keyInfo.getContent()) {
                XMLStructure s = (XMLStructure) o;
                if (s instanceof KeyName kn && keyName == null) {
                    keyName = kn.getName();
                } else if (s instanceof X509Data xd) {
                    for (Object c : xd.getContent()) {
                        if (c instanceof X509Certificate x) {
                            certs.add(x);
                        }
                    }
                } else if (s instanceof KeyValue kv && bare == null) {
                    try {
                        bare = kv.getPublicKey();
                    } catch (java.security.KeyException e) {
                        throw new KeySelectorException("unusable KeyValue: " + e.getMessage(), e);
                    }
                }
            }
            if (certs.size() > RecordXml.MAX_CERTIFICATES) {
                throw new KeySelectorException("more than " + RecordXml.MAX_CERTIFICATES + " certificates");
            }
            if (!certs.isEmpty()) {
                chain = leafFirst(certs);
                key = chain.get(0).getPublicKey();
                if (bare != null && !bare.equals(key)) {
                    throw new KeySelectorException("KeyValue and the X509Data leaf certificate disagree");
                }
            } else if (bare != null) {
                key = bare;
            } else {
                throw new KeySelectorException("the KeyInfo has neither X509Data nor KeyValue");
            }
            String alg = method.getAlgorithm();
            boolean ed = Namespaces.SIG_ED25519.equals(alg);
            boolean ec = "EC".equals(key.getAlgorithm());
            boolean edKey = key.getAlgorithm().equals("EdDSA") || key.getAlgorithm().equals("Ed25519");
            if (ed ? !edKey : !ec) {
                throw new KeySelectorException("a " + key.getAlgorithm() + " key cannot verify " + alg);
            }
            final Key k = engineKey(key);
            return () -> k;
        }

        /** The key as the signature provider's own type (cached): BC then keeps its decoded point between verifies. */
        private Key engineKey(PublicKey k) {
            if (signatureProvider != Crypto.provider()) {
                return k;
            }
            Bytes spki = Bytes.wrap(k.getEncoded());
            PublicKey cached = ENGINE_KEYS.get(spki);
            if (cached == null) {
                try {
                    String alg = "EC".equals(k.getAlgorithm()) ? "EC" : "Ed25519";
                    cached = java.security.KeyFactory.getInstance(alg, signatureProvider).generatePublic(
                            new java.security.spec.X509EncodedKeySpec(spki.unsafeArray()));
                } catch (java.security.GeneralSecurityException e) {
                    return k; // the provider converts (or refuses) it itself
                }
                ENGINE_KEYS.put(spki, cached);
            }
            return cached;
        }
    }

    /** Signers' keys converted to the signature provider's type, by SubjectPublicKeyInfo; bounded, LRU. */
    private static final java.util.Map<Bytes, PublicKey> ENGINE_KEYS = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>(256, 0.75f, true) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(java.util.Map.Entry<Bytes, PublicKey> eldest) {
                    return size() > 16_384;
                }
            });

    /**
     * Orders a certificate set leaf first: the leaf is the certificate that issued none of the others, and
     * each next one is the issuer of the previous when present (any remaining follow in their order).
     */
    static List<X509Certificate> leafFirst(List<X509Certificate> certs) {
        if (certs.size() < 2) {
            return List.copyOf(certs);
        }
        X509Certificate leaf = certs.get(0);
        for (X509Certificate c : certs) {
            boolean issuesAnother = false;
            for (X509Certificate o : certs) {
                if (o != c && o.getIssuerX500Principal().equals(c.getSubjectX500Principal())
                        && !o.getSubjectX500Principal().equals(o.getIssuerX500Principal())) {
                    issuesAnother = true;
                    break;
                }
            }
            if (!issuesAnother) {
                leaf = c;
                break;
            }
        }
        List<X509Certificate> rest = new ArrayList<>(certs);
        rest.remove(leaf);
        List<X509Certificate> out = new ArrayList<>();
        out.add(leaf);
        X509Certificate cur = leaf;
        boolean grew = true;
        while (grew && !rest.isEmpty()) {
            grew = false;
            for (X509Certificate c : rest) {
                if (cur.getIssuerX500Principal().equals(c.getSubjectX500Principal())) {
                    out.add(c);
                    rest.remove(c);
                    cur = c;
                    grew = true;
                    break;
                }
            }
        }
        out.addAll(rest);
        return out;
    }
}
