package org.p2psip.node.xmlrpc;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.ErrorHandler;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * A small, hardened XML-RPC codec. It reads a {@code methodCall} and writes a {@code methodResponse} or a
 * {@code fault}.
 *
 * <p>Values map to Java as: {@code int}/{@code i4} → {@link Integer}, {@code string} (or a bare
 * {@code <value>text</value>}) → {@link String}, {@code base64} → {@code byte[]}, {@code boolean} →
 * {@link Boolean}, {@code double} → {@link Double}, {@code array} → {@link List}, {@code struct} →
 * {@link Map} (insertion-ordered). {@code nil}, {@code dateTime.iso8601} and extensions are refused.
 *
 * <p>Hardening: DOCTYPE declarations are refused outright (so no entity of any kind, internal or external,
 * and no billion-laughs expansion), external DTDs and schemas are never loaded, secure processing is on,
 * XInclude is off, nesting is limited to {@link #MAX_DEPTH} values, and bodies are limited by the server
 * ({@link XmlRpcServer#MAX_BODY_BYTES}) before they reach the parser.
 */
public final class XmlRpcCodec {
    /** Deepest nesting of values (arrays and structs) accepted in a request. */
    public static final int MAX_DEPTH = 16;
    /** Most values (in total, at any depth) accepted in one request. */
    public static final int MAX_VALUES = 10_000;

    private static final DocumentBuilderFactory FACTORY = newFactory();
    private static final java.util.regex.Pattern WHITESPACE = java.util.regex.Pattern.compile("[ \\t\\r\\n]+");

    private XmlRpcCodec() { }

    /** A decoded {@code methodCall}. */
    public record MethodCall(String methodName, List<Object> params) { }

    private static DocumentBuilderFactory newFactory() {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        try {
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the XML parser cannot be hardened: " + e.getMessage(), e);
        }
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        f.setXIncludeAware(false);
        f.setExpandEntityReferences(false);
        f.setNamespaceAware(false);
        f.setValidating(false);
        f.setIgnoringComments(true);
        return f;
    }

    private static final ErrorHandler QUIET = new ErrorHandler() {
        @Override
        public void warning(SAXParseException e) { }

        @Override
        public void error(SAXParseException e) throws SAXException {
            throw e;
        }

        @Override
        public void fatalError(SAXParseException e) throws SAXException {
            throw e;
        }
    };

    /** Decodes a {@code methodCall}; throws a fault with {@link XmlRpcFault#PARSE_ERROR} or {@link XmlRpcFault#INVALID_REQUEST}. */
    public static MethodCall decodeCall(byte[] body) throws XmlRpcFault {
        Document doc;
        try {
            DocumentBuilder b;
            synchronized (FACTORY) {
                b = FACTORY.newDocumentBuilder();
            }
            b.setErrorHandler(QUIET);
            b.setEntityResolver((publicId, systemId) -> {
                throw new SAXException("external entities are not allowed");
            });
            doc = b.parse(new InputSource(new ByteArrayInputStream(body)));
        } catch (SAXException | IOException e) {
            throw new XmlRpcFault(XmlRpcFault.PARSE_ERROR, "not well-formed or refused XML: " + oneLine(e.getMessage()));
        } catch (ParserConfigurationException e) {
            throw new XmlRpcFault(XmlRpcFault.INTERNAL_ERROR, "XML parser unavailable");
        }
        Element root = doc.getDocumentElement();
        if (!"methodCall".equals(root.getTagName())) {
            throw invalid("the root element must be <methodCall>, not <" + root.getTagName() + ">");
        }
        List<Element> kids = elements(root);
        String name = null;
        List<Object> params = new ArrayList<>();
        int[] count = {0};
        for (Element e : kids) {
            switch (e.getTagName()) {
                case "methodName" -> {
                    if (name != null) {
                        throw invalid("more than one <methodName>");
                    }
                    requireNoElements(e);
                    name = e.getTextContent().trim();
                }
                case "params" -> {
                    for (Element p : elements(e)) {
                        if (!"param".equals(p.getTagName())) {
                            throw invalid("<params> may only contain <param>, not <" + p.getTagName() + ">");
                        }
                        List<Element> v = elements(p);
                        if (v.size() != 1 || !"value".equals(v.get(0).getTagName())) {
                            throw invalid("a <param> must contain exactly one <value>");
                        }
                        params.add(value(v.get(0), 1, count));
                    }
                }
                default -> throw invalid("unexpected <" + e.getTagName() + "> in <methodCall>");
            }
        }
        if (name == null || name.isEmpty()) {
            throw invalid("<methodName> is missing or empty");
        }
        if (name.length() > 100) {
            throw invalid("<methodName> is too long");
        }
        return new MethodCall(name, params);
    }

    private static Object value(Element v, int depth, int[] count) throws XmlRpcFault {
        if (depth > MAX_DEPTH) {
            throw invalid("values are nested deeper than " + MAX_DEPTH);
        }
        if (++count[0] > MAX_VALUES) {
            throw invalid("more than " + MAX_VALUES + " values");
        }
        List<Element> kids = elements(v);
        if (kids.isEmpty()) {
            return v.getTextContent(); // a bare <value>text</value> is a string
        }
        if (kids.size() != 1) {
            throw invalid("a <value> must contain one type element");
        }
        Element t = kids.get(0);
        String text;
        switch (t.getTagName()) {
            case "int", "i4" -> {
                requireNoElements(t);
                text = t.getTextContent().trim();
                try {
                    return Integer.parseInt(text.startsWith("+") ? text.substring(1) : text);
                } catch (NumberFormatException e) {
                    throw invalid("not a 32-bit integer: '" + clip(text) + "'");
                }
            }
            case "string" -> {
                requireNoElements(t);
                return t.getTextContent();
            }
            case "base64" -> {
                requireNoElements(t);
                try {
                    return Base64.getDecoder().decode(WHITESPACE.matcher(t.getTextContent()).replaceAll(""));
                } catch (IllegalArgumentException e) {
                    throw invalid("bad base64");
                }
            }
            case "boolean" -> {
                requireNoElements(t);
                text = t.getTextContent().trim();
                if (text.equals("1")) {
                    return Boolean.TRUE;
                }
                if (text.equals("0")) {
                    return Boolean.FALSE;
                }
                throw invalid("a boolean is 0 or 1, not '" + clip(text) + "'");
            }
            case "double" -> {
                requireNoElements(t);
                text = t.getTextContent().trim();
                try {
                    if (!text.matches("[+-]?[0-9]*\\.?[0-9]*([eE][+-]?[0-9]+)?") || text.isEmpty()) {
                        throw new NumberFormatException();
                    }
                    return Double.parseDouble(text);
                } catch (NumberFormatException e) {
                    throw invalid("not a double: '" + clip(text) + "'");
                }
            }
            case "array" -> {
                List<Element> data = elements(t);
                if (data.size() != 1 || !"data".equals(data.get(0).getTagName())) {
                    throw invalid("an <array> must contain one <data>");
                }
                List<Object> out = new ArrayList<>();
                for (Element e : elements(data.get(0))) {
                    if (!"value".equals(e.getTagName())) {
                        throw invalid("<data> may only contain <value>");
                    }
                    out.add(value(e, depth + 1, count));
                }
                return out;
            }
            case "struct" -> {
                Map<String, Object> out = new LinkedHashMap<>();
                for (Element m : elements(t)) {
                    if (!"member".equals(m.getTagName())) {
                        throw invalid("a <struct> may only contain <member>");
                    }
                    List<Element> nv = elements(m);
                    if (nv.size() != 2 || !"name".equals(nv.get(0).getTagName()) || !"value".equals(nv.get(1).getTagName())) {
                        throw invalid("a <member> must contain <name> then <value>");
                    }
                    requireNoElements(nv.get(0));
                    out.put(nv.get(0).getTextContent(), value(nv.get(1), depth + 1, count));
                }
                return out;
            }
            default -> throw invalid("unsupported value type <" + t.getTagName() + ">");
        }
    }

    private static List<Element> elements(Element parent) throws XmlRpcFault {
        List<Element> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            switch (n.getNodeType()) {
                case Node.ELEMENT_NODE -> out.add((Element) n);
                case Node.TEXT_NODE, Node.CDATA_SECTION_NODE -> {
                    // text between elements must be blank; text-only elements are read by the caller
                }
                case Node.COMMENT_NODE, Node.PROCESSING_INSTRUCTION_NODE -> { }
                default -> throw invalid("unexpected XML node in <" + parent.getTagName() + ">");
            }
        }
        if (!out.isEmpty()) {
            for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
                if ((n.getNodeType() == Node.TEXT_NODE || n.getNodeType() == Node.CDATA_SECTION_NODE)
                        && !n.getNodeValue().isBlank()) {
                    throw invalid("text mixed with elements in <" + parent.getTagName() + ">");
                }
            }
        }
        return out;
    }

    private static void requireNoElements(Element e) throws XmlRpcFault {
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n.getNodeType() == Node.ELEMENT_NODE) {
                throw invalid("<" + e.getTagName() + "> may not contain elements");
            }
        }
    }

    private static XmlRpcFault invalid(String message) {
        return new XmlRpcFault(XmlRpcFault.INVALID_REQUEST, message);
    }

    private static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    private static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        String t = s.replaceAll("\\s+", " ");
        return t.length() > 200 ? t.substring(0, 200) + "..." : t;
    }

    // ------------------------------------------------------------------ encoding

    /** A {@code methodResponse} carrying {@code result}. */
    public static byte[] encodeResponse(Object result) {
        StringBuilder sb = new StringBuilder(256);
        sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodResponse><params><param>");
        encodeValue(sb, result, 0);
        sb.append("</param></params></methodResponse>\n");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A {@code methodResponse} carrying a fault. */
    public static byte[] encodeFault(int code, String message) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("faultCode", code);
        s.put("faultString", message == null ? "" : message);
        StringBuilder sb = new StringBuilder(256);
        sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodResponse><fault>");
        encodeValue(sb, s, 0);
        sb.append("</fault></methodResponse>\n");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Encodes one value; throws IllegalArgumentException for a Java type XML-RPC cannot carry. */
    static void encodeValue(StringBuilder sb, Object v, int depth) {
        if (depth > 64) {
            throw new IllegalArgumentException("value nested too deep");
        }
        sb.append("<value>");
        if (v instanceof Integer i) {
            sb.append("<int>").append(i).append("</int>");
        } else if (v instanceof String s) {
            sb.append("<string>");
            escape(sb, s);
            sb.append("</string>");
        } else if (v instanceof byte[] b) {
            sb.append("<base64>").append(Base64.getEncoder().encodeToString(b)).append("</base64>");
        } else if (v instanceof Boolean b) {
            sb.append("<boolean>").append(b ? '1' : '0').append("</boolean>");
        } else if (v instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) {
                throw new IllegalArgumentException("XML-RPC cannot carry " + d);
            }
            sb.append("<double>").append(new java.math.BigDecimal(d).toPlainString()).append("</double>");
        } else if (v instanceof List<?> l) {
            sb.append("<array><data>");
            for (Object o : l) {
                encodeValue(sb, o, depth + 1);
            }
            sb.append("</data></array>");
        } else if (v instanceof Map<?, ?> m) {
            sb.append("<struct>");
            for (Map.Entry<?, ?> e : m.entrySet()) {
                sb.append("<member><name>");
                escape(sb, String.valueOf(e.getKey()));
                sb.append("</name>");
                encodeValue(sb, e.getValue(), depth + 1);
                sb.append("</member>");
            }
            sb.append("</struct>");
        } else {
            throw new IllegalArgumentException("XML-RPC cannot carry " + (v == null ? "null" : v.getClass().getName()));
        }
        sb.append("</value>");
    }

    /** Escapes markup characters and replaces characters XML 1.0 cannot carry with U+FFFD. */
    static void escape(StringBuilder sb, String s) {
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '\r' -> sb.append("&#13;");
                default -> {
                    boolean ok = c == 0x9 || c == 0xA || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD)
                            || (c >= 0x10000 && c <= 0x10FFFF);
                    sb.appendCodePoint(ok ? c : 0xFFFD);
                }
            }
        }
    }
}
