package org.p2psip.nat.portmap;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * The XML parser for router documents (UPnP device descriptions and SOAP answers), hardened against hostile input:
 * no DTD at all (so no entity expansion, XXE or billion laughs), no external access, no XInclude, a size limit before
 * parsing and an element-depth limit. The storage module has its own SecureXml; nat does not depend on storage.
 */
final class RouterXml {
    static final int MAX_BYTES = 64 * 1024;
    static final int MAX_DEPTH = 32;
    private static final DocumentBuilderFactory FACTORY = factory();

    private RouterXml() {
    }

    private static DocumentBuilderFactory factory() {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        try {
            f.setNamespaceAware(true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            f.setAttribute("http://www.oracle.com/xml/jaxp/properties/maxElementDepth", String.valueOf(MAX_DEPTH));
            f.setXIncludeAware(false);
            f.setExpandEntityReferences(false);
        } catch (ParserConfigurationException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot harden the JDK's XML parser", e);
        }
        return f;
    }

    /** Parses a router's document; {@code what} names it in errors. */
    static Document parse(byte[] xml, String what) throws MalformedReplyException {
        if (xml.length > MAX_BYTES) {
            throw new MalformedReplyException(what + " of " + xml.length + " bytes exceeds the limit of " + MAX_BYTES);
        }
        try {
            DocumentBuilder b;
            synchronized (FACTORY) {
                b = FACTORY.newDocumentBuilder();
            }
            b.setErrorHandler(null);
            b.setEntityResolver((publicId, systemId) -> {
                throw new SAXException("external entity refused: " + systemId);
            });
            return b.parse(new ByteArrayInputStream(xml));
        } catch (SAXException e) {
            throw new MalformedReplyException(what + " is not acceptable XML: " + e.getMessage(), e);
        } catch (IOException | ParserConfigurationException | RuntimeException e) {
            throw new MalformedReplyException(what + " could not be parsed: " + e, e);
        }
    }

    /** All elements below {@code root} with this local name, in document order, whatever their namespace. */
    static List<Element> elements(Node root, String localName) {
        NodeList list = root instanceof Document d ? d.getElementsByTagNameNS("*", localName)
                : ((Element) root).getElementsByTagNameNS("*", localName);
        List<Element> out = new ArrayList<>(list.getLength());
        for (int i = 0; i < list.getLength(); i++) {
            out.add((Element) list.item(i));
        }
        return out;
    }

    /** The trimmed text of the first element with this local name below {@code root}, or null. */
    static String text(Node root, String localName) {
        List<Element> e = elements(root, localName);
        return e.isEmpty() ? null : e.get(0).getTextContent().trim();
    }
}
