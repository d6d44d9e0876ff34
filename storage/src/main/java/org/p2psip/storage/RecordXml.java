package org.p2psip.storage;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.p2psip.overlay.Bytes;
import org.w3c.dom.Attr;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * Writes and reads the draft's XML: dhtRecord, dhtRecords, contacts, watchers, dhtService and the
 * certificate KeyInfo. Writing produces a string that {@link SecureXml} accepts; reading works on a DOM that
 * {@link SecureXml} has parsed and validated, and refuses what the schema cannot express with
 * {@link Refusal#BAD_RECORD}.
 */
public final class RecordXml {
    /** At most this many certificates in one KeyInfo. */
    public static final int MAX_CERTIFICATES = 8;
    /** Separates the hops of a contact's {@code path} (compiled once: {@code String.split} compiled it per contact). */
    private static final java.util.regex.Pattern WHITE_SPACE = java.util.regex.Pattern.compile("\\s+");

    private RecordXml() {
    }

    // ------------------------------------------------------------------ writing

    /** The unsigned {@code dhtRecord} element, with its namespace declaration. */
    public static String toXml(DhtRecord r) {
        StringBuilder b = new StringBuilder(512);
        b.append("<dhtRecord xmlns=\"").append(Namespaces.DHT).append('"');
        attr(b, "Id", r.id());
        b.append('>');
        if (r.key() != null) {
            appendKey(b, r.key());
        }
        if (r.value() != null) {
            appendValue(b, r.value());
        }
        b.append("</dhtRecord>");
        return b.toString();
    }

    /** The unsigned record as UTF-8 bytes. */
    public static byte[] toBytes(DhtRecord r) {
        return toXml(r).getBytes(StandardCharsets.UTF_8);
    }

    /** A {@code dhtRecords} list of records given as their serialized {@code dhtRecord} elements (signed or not). */
    public static String dhtRecords(List<String> records) {
        StringBuilder b = new StringBuilder("<dhtRecords xmlns=\"" + Namespaces.DHT + "\">");
        for (String r : records) {
            String s = stripDeclaration(r);
            if (!s.startsWith("<dhtRecord")) {
                throw new IllegalArgumentException("not a dhtRecord element");
            }
            b.append(s);
        }
        return b.append("</dhtRecords>").toString();
    }

    private static String stripDeclaration(String s) {
        s = s.strip();
        if (s.startsWith("<?xml")) {
            s = s.substring(s.indexOf("?>") + 2).strip();
        }
        return s;
    }

    static void appendKey(StringBuilder b, RecordKey k) {
        b.append("<key");
        attr(b, "Id", k.id());
        b.append('>');
        if (k.name() != null) {
            text(b, k.name());
        } else {
            appendDigest(b, Namespaces.DIGEST_SHA1, k.digest());
        }
        b.append("</key>");
    }

    static void appendValue(StringBuilder b, RecordValue v) {
        b.append("<value");
        attr(b, "Id", v.id());
        attr(b, "reference", v.reference());
        attr(b, "expires", v.expires() == null ? null : Times.format(v.expires()));
        attr(b, "nonce", v.nonce());
        if (v.chain() != null) {
            attr(b, "chainAnchor", Base64.getEncoder().encodeToString(v.chain().anchor().unsafeArray()));
            attr(b, "chainStep", Integer.toString(v.chain().stepSeconds()));
            attr(b, "chainLength", Integer.toString(v.chain().length()));
        }
        b.append('>');
        ValueContent c = v.content();
        if (c instanceof ValueContent.Text t) {
            b.append("<string>");
            text(b, t.text());
            b.append("</string>");
        } else if (c instanceof ValueContent.Binary bin) {
            b.append("<base64>").append(Base64.getEncoder().encodeToString(bin.data().unsafeArray())).append("</base64>");
        } else if (c instanceof ValueContent.Digest d) {
            appendDigest(b, d.algorithm(), d.digest());
        } else if (c instanceof ValueContent.Contacts cs) {
            b.append(contactsXml(cs.contacts()));
        } else if (c instanceof ValueContent.Watchers ws) {
            b.append(watchersXml(ws.watchers()));
        } else if (c instanceof ValueContent.Certificates cert) {
            b.append(certificatesXml(cert));
        } else if (c instanceof ValueContent.Service svc) {
            b.append(toXml(svc.service()));
        } else if (c instanceof ValueContent.Encrypted e) {
            String s = stripDeclaration(e.xml());
            if (!s.startsWith("<") || !s.contains(Namespaces.XENC)) {
                throw new IllegalArgumentException("not an xenc:EncryptedData element");
            }
            b.append(s);
        }
        b.append("</value>");
    }

    private static void appendDigest(StringBuilder b, String algorithm, Bytes digest) {
        b.append("<DigestMethod xmlns=\"").append(Namespaces.DSIG).append('"');
        attr(b, "Algorithm", algorithm);
        b.append("/><DigestValue xmlns=\"").append(Namespaces.DSIG).append("\">")
                .append(Base64.getEncoder().encodeToString(digest.unsafeArray())).append("</DigestValue>");
    }

    /** A {@code contacts} element of the p2p-sip namespace. */
    public static String contactsXml(List<Contact> contacts) {
        StringBuilder b = new StringBuilder("<contacts xmlns=\"" + Namespaces.P2P_SIP + "\">");
        for (Contact c : contacts) {
            b.append("<contact");
            attr(b, "Id", c.id());
            attr(b, "user", c.user());
            attr(b, "displayName", c.displayName());
            attr(b, "expires", c.expires() == null ? null : Times.format(c.expires()));
            attr(b, "priority", c.priority());
            attr(b, "params", c.params());
            attr(b, "path", c.path().isEmpty() ? null : String.join(" ", c.path()));
            attr(b, "peer", c.peer());
            b.append('>');
            text(b, c.uri());
            b.append("</contact>");
        }
        return b.append("</contacts>").toString();
    }

    /** A {@code watchers} element of the p2p-sip namespace (the plaintext of an encrypted watcher list). */
    public static String watchersXml(List<Watcher> watchers) {
        StringBuilder b = new StringBuilder("<watchers xmlns=\"" + Namespaces.P2P_SIP + "\">");
        for (Watcher w : watchers) {
            b.append("<watcher");
            attr(b, "Id", w.id());
            attr(b, "event", w.event());
            attr(b, "entity", w.entity());
            attr(b, "expires", w.expires() == null ? null : Times.format(w.expires()));
            b.append('>');
            text(b, w.uri());
            b.append("</watcher>");
        }
        return b.append("</watchers>").toString();
    }

    /** The draft's certificate value: {@code ds:KeyInfo/X509Data} with the subject name and the certificates. */
    public static String certificatesXml(ValueContent.Certificates c) {
        StringBuilder b = new StringBuilder("<KeyInfo xmlns=\"" + Namespaces.DSIG + "\"><X509Data>");
        if (c.subjectName() != null) {
            b.append("<X509SubjectName>");
            text(b, c.subjectName());
            b.append("</X509SubjectName>");
        }
        for (X509Certificate x : c.certificates()) {
            try {
                b.append("<X509Certificate>").append(Base64.getEncoder().encodeToString(x.getEncoded())).append("</X509Certificate>");
            } catch (CertificateEncodingException e) {
                throw new IllegalArgumentException("cannot encode a certificate", e);
            }
        }
        return b.append("</X509Data></KeyInfo>").toString();
    }

    /** A {@code dhtService} element. */
    public static String toXml(DhtService s) {
        StringBuilder b = new StringBuilder("<dhtService xmlns=\"" + Namespaces.DHT + "\">");
        if (s.namespace() != null) {
            b.append("<namespace>");
            text(b, s.namespace());
            b.append("</namespace>");
        }
        if (s.key() != null) {
            appendKey(b, s.key());
        }
        if (s.hostIdentifier() != null) {
            b.append("<hostIdentifier>");
            text(b, s.hostIdentifier());
            b.append("</hostIdentifier>");
        }
        if (s.serviceHosts() != null) {
            b.append("<serviceHosts>");
            for (DhtService.ServiceHost h : s.serviceHosts()) {
                b.append("<serviceHost");
                attr(b, "service", h.service());
                attr(b, "Id", h.id());
                b.append('>');
                text(b, h.uri());
                b.append("</serviceHost>");
            }
            b.append("</serviceHosts>");
        }
        return b.append("</dhtService>").toString();
    }

    static void attr(StringBuilder b, String name, String value) {
        if (value == null) {
            return;
        }
        b.append(' ').append(name).append("=\"");
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            switch (ch) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '"' -> b.append("&quot;");
                case '\t' -> b.append("&#9;");
                case '\n' -> b.append("&#10;");
                case '\r' -> b.append("&#13;");
                default -> b.append(checked(ch));
            }
        }
        b.append('"');
    }

    static void text(StringBuilder b, String value) {
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            switch (ch) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '\r' -> b.append("&#13;");
                case '\t', '\n' -> b.append(ch);
                default -> b.append(checked(ch));
            }
        }
    }

    private static char checked(char ch) {
        if (ch < 0x20 || ch == 0xfffe || ch == 0xffff) {
            throw new IllegalArgumentException("character U+" + Integer.toHexString(ch) + " cannot appear in XML 1.0");
        }
        return ch;
    }

    // ------------------------------------------------------------------ reading

    /** Parses (hardened, validated) and reads a {@code dhtRecord} document. */
    public static DhtRecord parseRecord(byte[] xml) throws RecordException {
        return readRecord(rootNamed(SecureXml.defaults().parse(xml), Namespaces.DHT, "dhtRecord"));
    }

    /** Parses (hardened, validated) and reads a {@code dhtService} document. */
    public static DhtService parseService(byte[] xml) throws RecordException {
        return readService(rootNamed(SecureXml.defaults().parse(xml), Namespaces.DHT, "dhtService"));
    }

    /** The document element, which must be {ns}local. */
    public static Element rootNamed(Document doc, String ns, String local) throws RecordException {
        Element e = doc.getDocumentElement();
        if (!is(e, ns, local)) {
            throw new RecordException(Refusal.BAD_RECORD, "expected a " + local + " document, not " + e.getLocalName());
        }
        return e;
    }

    /** The dhtRecord elements of a {@code dhtRecords} element. */
    public static List<Element> recordElements(Element dhtRecords) {
        return children(dhtRecords);
    }

    /** Reads a validated {@code dhtRecord} element. */
    public static DhtRecord readRecord(Element e) throws RecordException {
        try {
            return readRecordElement(e);
        } catch (IllegalArgumentException | IllegalStateException ex) {
            throw new RecordException(Refusal.BAD_RECORD, ex.getMessage());
        }
    }

    private static DhtRecord readRecordElement(Element e) throws RecordException {
        RecordKey key = null;
        RecordValue value = null;
        for (Element c : children(e)) {
            if (is(c, Namespaces.DHT, "key")) {
                key = readKey(c);
            } else if (is(c, Namespaces.DHT, "value")) {
                value = readValue(c);
            }
        }
        return new DhtRecord(attrOrNull(e, "Id"), key, value);
    }

    static RecordKey readKey(Element k) throws RecordException {
        List<Element> kids = children(k);
        String id = attrOrNull(k, "Id");
        if (kids.isEmpty()) {
            return named(id, k.getTextContent().strip());
        }
        mustHaveNoText(k);
        Element first = kids.get(0);
        if (is(first, Namespaces.DHT, "string")) {
            return named(id, first.getTextContent().strip());
        }
        if (is(first, Namespaces.DHT, "base64")) {
            throw new RecordException(Refusal.BAD_RECORD, "base64 keys are not supported: give the name or its SHA-1");
        }
        ValueContent.Digest d = readDigest(kids);
        if (!Namespaces.DIGEST_SHA1.equals(d.algorithm()) || d.digest().length() != 20) {
            throw new RecordException(Refusal.BAD_RECORD, "a key digest is the 20-byte SHA-1 of the name (the DHT key)");
        }
        return new RecordKey(id, null, d.digest());
    }

    /** The value's refresh chain attributes: all three or none (the schema checked each one's form). */
    static RefreshChain.Params chain(String anchor, String step, String length) throws RecordException {
        if (anchor == null && step == null && length == null) {
            return null;
        }
        if (anchor == null || step == null || length == null) {
            throw new RecordException(Refusal.BAD_RECORD, "a refresh chain needs chainAnchor, chainStep and chainLength together");
        }
        try {
            return new RefreshChain.Params(Bytes.wrap(Base64.getMimeDecoder().decode(anchor.strip())),
                    Integer.parseInt(step.strip()), Integer.parseInt(length.strip()));
        } catch (IllegalArgumentException e) {
            throw new RecordException(Refusal.BAD_RECORD, "bad refresh chain: " + e.getMessage());
        }
    }

    private static RecordKey named(String id, String name) throws RecordException {
        if (name.isEmpty() || name.length() > ResourceName.MAX_LENGTH) {
            throw new RecordException(Refusal.BAD_RECORD, "a key name has 1 to " + ResourceName.MAX_LENGTH + " characters");
        }
        return new RecordKey(id, name, null);
    }

    static RecordValue readValue(Element v) throws RecordException {
        Instant expires = v.hasAttribute("expires") ? Times.parse(v.getAttribute("expires"), "expires") : null;
        String nonce = attrOrNull(v, "nonce");
        ValueContent content = readContent(v);
        RefreshChain.Params chain = chain(attrOrNull(v, "chainAnchor"), attrOrNull(v, "chainStep"), attrOrNull(v, "chainLength"));
        try {
            return new RecordValue(attrOrNull(v, "Id"), expires, nonce == null ? null : nonce.strip(),
                    attrOrNull(v, "reference"), content, chain);
        } catch (IllegalArgumentException e) {
            throw new RecordException(Refusal.BAD_RECORD, e.getMessage());
        }
    }

    private static ValueContent readContent(Element v) throws RecordException {
        List<Element> kids = children(v);
        if (kids.isEmpty()) {
            return new ValueContent.Text(v.getTextContent());
        }
        mustHaveNoText(v);
        Element first = kids.get(0);
        String ns = first.getNamespaceURI();
        String local = first.getLocalName();
        if (Namespaces.DHT.equals(ns) && "string".equals(local)) {
            return new ValueContent.Text(first.getTextContent());
        }
        if (Namespaces.DHT.equals(ns) && "base64".equals(local)) {
            return new ValueContent.Binary(Bytes.wrap(base64(first)));
        }
        if (Namespaces.DHT.equals(ns) && "dhtService".equals(local)) {
            return new ValueContent.Service(readService(first));
        }
        if (Namespaces.DSIG.equals(ns) && ("DigestMethod".equals(local) || "DigestValue".equals(local))) {
            return readDigest(kids);
        }
        if (Namespaces.DSIG.equals(ns) && "KeyInfo".equals(local)) {
            return readCertificates(first);
        }
        if (Namespaces.P2P_SIP.equals(ns) && "contacts".equals(local)) {
            return new ValueContent.Contacts(readContacts(first));
        }
        if (Namespaces.P2P_SIP.equals(ns) && "watchers".equals(local)) {
            return new ValueContent.Watchers(readWatchers(first));
        }
        if (Namespaces.XENC.equals(ns) && "EncryptedData".equals(local)) {
            return new ValueContent.Encrypted(attrOrNull(first, "Type"), SecureXml.toString(first));
        }
        throw new RecordException(Refusal.BAD_RECORD, "a value cannot hold {" + ns + "}" + local);
    }

    private static ValueContent.Digest readDigest(List<Element> kids) {
        String alg = Namespaces.DIGEST_SHA1; // the draft's default when DigestMethod is absent
        Bytes value = Bytes.EMPTY;
        for (Element c : kids) {
            if ("DigestMethod".equals(c.getLocalName())) {
                alg = c.getAttribute("Algorithm");
            } else if ("DigestValue".equals(c.getLocalName())) {
                value = Bytes.wrap(base64(c));
            }
        }
        return new ValueContent.Digest(alg, value);
    }

    /** Reads a validated {@code contacts} element. */
    public static List<Contact> readContacts(Element e) throws RecordException {
        List<Contact> out = new ArrayList<>();
        for (Element c : children(e)) {
            String path = attrOrNull(c, "path");
            try {
                out.add(new Contact(c.getTextContent().strip(), attrOrNull(c, "Id"), attrOrNull(c, "user"),
                        attrOrNull(c, "displayName"),
                        c.hasAttribute("expires") ? Times.parse(c.getAttribute("expires"), "contact expires") : null,
                        attrOrNull(c, "priority"), attrOrNull(c, "params"),
                        path == null ? List.of() : Arrays.asList(WHITE_SPACE.split(path.strip())), attrOrNull(c, "peer")));
            } catch (IllegalArgumentException ex) {
                throw new RecordException(Refusal.BAD_RECORD, ex.getMessage());
            }
        }
        return out;
    }

    /** Reads a validated {@code watchers} element. */
    public static List<Watcher> readWatchers(Element e) throws RecordException {
        List<Watcher> out = new ArrayList<>();
        for (Element w : children(e)) {
            out.add(new Watcher(w.getTextContent().strip(), attrOrNull(w, "Id"), attrOrNull(w, "event"),
                    attrOrNull(w, "entity"),
                    w.hasAttribute("expires") ? Times.parse(w.getAttribute("expires"), "watcher expires") : null));
        }
        return out;
    }

    /** Reads the certificates of a {@code ds:KeyInfo} (its X509Data), leaf first. */
    public static ValueContent.Certificates readCertificates(Element keyInfo) throws RecordException {
        String subject = null;
        List<X509Certificate> certs = new ArrayList<>();
        for (Element x : children(keyInfo)) {
            if (!is(x, Namespaces.DSIG, "X509Data")) {
                continue;
            }
            for (Element c : children(x)) {
                if (is(c, Namespaces.DSIG, "X509SubjectName") && subject == null) {
                    subject = c.getTextContent().strip();
                } else if (is(c, Namespaces.DSIG, "X509Certificate")) {
                    if (certs.size() >= MAX_CERTIFICATES) {
                        throw new RecordException(Refusal.BAD_RECORD, "more than " + MAX_CERTIFICATES + " certificates");
                    }
                    certs.add(certificate(base64(c)));
                }
            }
        }
        if (certs.isEmpty()) {
            throw new RecordException(Refusal.BAD_RECORD, "a certificate value needs X509Data/X509Certificate");
        }
        return new ValueContent.Certificates(subject, certs);
    }

    /** Decodes one DER certificate, refusing garbage with {@link Refusal#BAD_RECORD}. */
    public static X509Certificate certificate(byte[] der) throws RecordException {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException | RuntimeException e) {
            throw new RecordException(Refusal.BAD_RECORD, "not an X.509 certificate: " + e.getMessage());
        }
    }

    /** Reads a validated {@code dhtService} element. */
    public static DhtService readService(Element e) throws RecordException {
        try {
            return readServiceElement(e);
        } catch (IllegalArgumentException | IllegalStateException ex) {
            throw new RecordException(Refusal.BAD_RECORD, ex.getMessage());
        }
    }

    private static DhtService readServiceElement(Element e) throws RecordException {
        String namespace = null;
        RecordKey key = null;
        String host = null;
        List<DhtService.ServiceHost> hosts = null;
        for (Element c : children(e)) {
            switch (c.getLocalName()) {
                case "namespace" -> namespace = c.getTextContent().strip();
                case "key" -> key = readKey(c);
                case "hostIdentifier" -> host = c.getTextContent().strip();
                case "serviceHosts" -> {
                    hosts = new ArrayList<>();
                    for (Element h : children(c)) {
                        hosts.add(new DhtService.ServiceHost(attrOrNull(h, "service"), h.getTextContent().strip(), attrOrNull(h, "Id")));
                    }
                }
                default -> { }
            }
        }
        return new DhtService(namespace, key, host, hosts);
    }

    // ------------------------------------------------------------------ DOM helpers

    static boolean is(Element e, String ns, String local) {
        return ns.equals(e.getNamespaceURI()) && local.equals(e.getLocalName());
    }

    /** The element children of {@code e}. */
    static List<Element> children(Element e) {
        List<Element> out = new ArrayList<>();
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c) {
                out.add(c);
            }
        }
        return out;
    }

    static Element child(Element e, String ns, String local) {
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && is(c, ns, local)) {
                return c;
            }
        }
        return null;
    }

    static String attrOrNull(Element e, String name) {
        Attr a = e.getAttributeNode(name);
        return a == null ? null : a.getValue();
    }

    private static void mustHaveNoText(Element e) throws RecordException {
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if ((n.getNodeType() == Node.TEXT_NODE || n.getNodeType() == Node.CDATA_SECTION_NODE) && !n.getNodeValue().isBlank()) {
                throw new RecordException(Refusal.BAD_RECORD, e.getLocalName() + " holds text and an element");
            }
        }
    }

    private static byte[] base64(Element e) {
        return Base64.getMimeDecoder().decode(e.getTextContent().strip());
    }
}
