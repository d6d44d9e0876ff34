package org.p2psip.storage;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.net.URL;
import java.util.Objects;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Source;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.Schema;
import javax.xml.validation.SchemaFactory;
import javax.xml.validation.Validator;
import org.w3c.dom.Document;
import org.w3c.dom.Node;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * The only way this module turns bytes into a DOM: a hardened, namespace-aware parser that refuses DTDs
 * (and so every entity trick: XXE, billion laughs, external parameter entities), never touches the network
 * or the file system, bounds the document size, the element depth and the attributes per element, and
 * validates every document against the module's corrected schemas (dht, p2p-sip, and local subsets of
 * xmldsig and xmlenc). Each refusal is a {@link RecordException} with its own {@link Refusal} code.
 * Thread-safe: parsers and validators are kept per thread.
 */
public final class SecureXml {
    /** Limits on a parsed document. */
    public record Limits(int maxBytes, int maxDepth, int maxAttributes) {
        public Limits {
            if (maxBytes <= 0 || maxDepth <= 0 || maxAttributes <= 0) {
                throw new IllegalArgumentException("limits must be positive");
            }
        }
    }

    /** One overlay value (64 KiB), 24 levels, 16 attributes per element (the records need at most 8). */
    public static final Limits DEFAULT_LIMITS = new Limits(64 * 1024, 24, 16);

    private static final String ORACLE_PREFIX = "http://www.oracle.com/xml/jaxp/properties/";
    private static final String[] SCHEMAS = {"xmldsig-core.xsd", "xenc-core.xsd", "p2p-sip.xsd", "dht.xsd"};
    private static final Schema SCHEMA = loadSchema();
    private static final SecureXml DEFAULT = new SecureXml(DEFAULT_LIMITS);

    private final Limits limits;
    private final DocumentBuilderFactory factory;
    private final ThreadLocal<DocumentBuilder> builders;
    private final ThreadLocal<Validator> validators = ThreadLocal.withInitial(SecureXml::newValidator);

    public SecureXml(Limits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
        this.factory = hardenedFactory(limits);
        this.builders = ThreadLocal.withInitial(() -> {
            try {
                DocumentBuilder b = factory.newDocumentBuilder();
                b.setErrorHandler(THROWING);
                b.setEntityResolver((publicId, systemId) -> {
                    throw new SAXException("external entity refused: " + systemId);
                });
                return b;
            } catch (ParserConfigurationException e) {
                throw new IllegalStateException("cannot configure the XML parser", e);
            }
        });
    }

    /** The parser with {@link #DEFAULT_LIMITS}. */
    public static SecureXml defaults() {
        return DEFAULT;
    }

    public Limits limits() {
        return limits;
    }

    /** Parses and validates {@code xml}; the result satisfies the module's schemas. */
    public Document parse(byte[] xml) throws RecordException {
        Document doc = parseUnvalidated(xml);
        validate(doc);
        return doc;
    }

    /** Parses with every hardening limit but without schema validation (for tests and diagnostics). */
    Document parseUnvalidated(byte[] xml) throws RecordException {
        if (xml.length > limits.maxBytes()) {
            throw new RecordException(Refusal.TOO_LARGE,
                    "document of " + xml.length + " bytes exceeds the limit of " + limits.maxBytes());
        }
        // No DocumentBuilder.reset() after a parse: the JDK's reset() puts back the error handler and entity resolver
        // the builder was created with (none), silently dropping THROWING and the refusing resolver from every later
        // parse on this thread. Xerces resets its own parsing state at the start of each parse.
        DocumentBuilder b = builders.get();
        try {
            return b.parse(new ByteArrayInputStream(xml));
        } catch (SAXException e) {
            throw classify(e);
        } catch (IOException e) {
            throw new RecordException(Refusal.MALFORMED, e.getMessage(), e);
        } catch (RuntimeException e) {
            // the JDK's parser has thrown unchecked exceptions on hostile input; refuse, never propagate
            builders.remove();
            throw new RecordException(Refusal.MALFORMED, "the parser failed on this document: " + e, e);
        }
    }

    /** Validates a DOM against the schemas. */
    public void validate(Document doc) throws RecordException {
        Validator v = validators.get();
        try {
            v.validate(new DOMSource(doc));
        } catch (SAXParseException e) {
            throw new RecordException(Refusal.INVALID, e.getMessage(), e);
        } catch (SAXException | IOException e) {
            throw new RecordException(Refusal.INVALID, e.getMessage(), e);
        } catch (RuntimeException e) {
            // e.g. JDK 17's Xerces Base64 decoder throws ArrayIndexOutOfBoundsException on a non-ASCII character in
            // an xs:base64Binary value (found by RecordFuzzTest); refuse, never propagate
            validators.remove(); // its state after an unexpected exception is unknown: use a fresh one
            throw new RecordException(Refusal.INVALID, "the schema validator failed on this document: " + e, e);
        }
    }

    private RecordException classify(SAXException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("DOCTYPE") || m.contains("disallow-doctype-decl")) {
            return new RecordException(Refusal.DTD_REFUSED, "a DOCTYPE is not allowed in a record", e);
        }
        if (m.contains("maxElementDepth") || m.contains("JAXP00010007") || m.contains("depth")) {
            return new RecordException(Refusal.TOO_DEEP, "elements nest deeper than " + limits.maxDepth(), e);
        }
        if (m.contains("elementAttributeLimit") || m.contains("JAXP00010002")) {
            return new RecordException(Refusal.TOO_MANY_ATTRIBUTES,
                    "an element has more than " + limits.maxAttributes() + " attributes", e);
        }
        if (m.contains("external entity refused")) {
            return new RecordException(Refusal.DTD_REFUSED, "entities are not allowed: " + m, e);
        }
        String where = e instanceof SAXParseException p ? " (line " + p.getLineNumber() + ", column " + p.getColumnNumber() + ")" : "";
        return new RecordException(Refusal.MALFORMED, m + where, e);
    }

    private static DocumentBuilderFactory hardenedFactory(Limits limits) {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        try {
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser lacks a hardening feature", e);
        }
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        f.setAttribute(ORACLE_PREFIX + "maxElementDepth", Integer.toString(limits.maxDepth()));
        f.setAttribute(ORACLE_PREFIX + "elementAttributeLimit", Integer.toString(limits.maxAttributes()));
        // Entity-size limits stay at the secure-processing defaults: with DOCTYPE refused only the five
        // predefined entities (&amp; ...) exist, and the size limits count those too.
        try {
            // Build the DOM at once instead of Xerces' deferred DOM (node tables in int[][] chunks, each node expanded
            // again on first access): every parsed record is walked whole by the schema validator, the XML-DSig code
            // and the reader, so deferring only added work (about 15 % of a record's parse and validation).
            f.setFeature("http://apache.org/xml/features/dom/defer-node-expansion", false);
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser lacks the defer-node-expansion feature", e);
        }
        f.setNamespaceAware(true);
        f.setXIncludeAware(false);
        f.setExpandEntityReferences(false);
        f.setValidating(false);
        return f;
    }

    private static Schema loadSchema() {
        SchemaFactory sf = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI);
        try {
            sf.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            sf.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            sf.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            sf.setErrorHandler(THROWING);
            Source[] sources = new Source[SCHEMAS.length];
            for (int i = 0; i < SCHEMAS.length; i++) {
                URL u = SecureXml.class.getResource("xsd/" + SCHEMAS[i]);
                if (u == null) {
                    throw new IllegalStateException("schema resource missing: " + SCHEMAS[i]);
                }
                sources[i] = new StreamSource(u.openStream(), u.toExternalForm());
            }
            return sf.newSchema(sources);
        } catch (SAXException | IOException e) {
            throw new IllegalStateException("cannot load the record schemas", e);
        }
    }

    private static Validator newValidator() {
        Validator v = SCHEMA.newValidator();
        try {
            v.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            v.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            v.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        } catch (SAXException e) {
            throw new IllegalStateException("cannot harden the schema validator", e);
        }
        v.setErrorHandler(THROWING);
        return v;
    }

    private static final ErrorHandler THROWING = new ErrorHandler() {
        @Override
        public void warning(SAXParseException e) {
        }

        @Override
        public void error(SAXParseException e) throws SAXException {
            throw e;
        }

        @Override
        public void fatalError(SAXParseException e) throws SAXException {
            throw e;
        }
    };

    /** Serializes a DOM node as UTF-8 without an XML declaration, without reformatting. */
    public static byte[] serialize(Node node) {
        return toString(node).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Serializes a DOM node as a string, without an XML declaration. */
    public static String toString(Node node) {
        Transformer t = SERIALIZERS.get();
        try {
            StringWriter w = new StringWriter(2048);
            t.transform(new DOMSource(node), new StreamResult(w));
            return w.toString();
        } catch (TransformerException | RuntimeException e) {
            SERIALIZERS.remove(); // its state after a failure is unknown
            throw new IllegalStateException("cannot serialize a DOM", e);
        }
    }

    /**
     * One identity transformer per thread: {@code TransformerFactory.newInstance()} runs a ServiceLoader lookup,
     * which was a third of the cost of serializing a signed record.
     */
    private static final ThreadLocal<Transformer> SERIALIZERS = ThreadLocal.withInitial(() -> {
        try {
            TransformerFactory tf = TransformerFactory.newInstance();
            tf.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            tf.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            tf.setAttribute(XMLConstants.ACCESS_EXTERNAL_STYLESHEET, "");
            Transformer t = tf.newTransformer();
            t.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
            t.setOutputProperty(OutputKeys.ENCODING, "UTF-8");
            t.setOutputProperty(OutputKeys.INDENT, "no");
            return t;
        } catch (TransformerException e) {
            throw new IllegalStateException("cannot configure the XML serializer", e);
        }
    });
}
