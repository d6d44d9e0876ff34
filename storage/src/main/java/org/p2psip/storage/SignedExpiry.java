package org.p2psip.storage;

import java.io.ByteArrayInputStream;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * Reads the signed {@code expires} of a stored record without verifying it again: a streaming read that stops at
 * the record's {@code value} element. Only for data this node verified when it stored it (the replay check needs
 * the stored record's signed expiry, because stores clamp a value's expiry to their maximum TTL before the policy
 * sees it). DTDs and external entities are off, as everywhere. Thread-safe.
 */
public final class SignedExpiry {
    private static final ThreadLocal<XMLInputFactory> FACTORY = ThreadLocal.withInitial(() -> {
        XMLInputFactory f = XMLInputFactory.newInstance();
        f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        f.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, true);
        return f;
    });

    private SignedExpiry() {
    }

    /**
     * The epoch milliseconds of the {@code expires} attribute of the {@code dhtRecord}'s {@code value}, or
     * {@code Long.MIN_VALUE} when the data holds none (then it cannot be compared and callers must refuse).
     */
    public static long of(byte[] signedRecord) {
        XMLStreamReader r = null;
        try {
            r = FACTORY.get().createXMLStreamReader(new ByteArrayInputStream(signedRecord));
            int depth = 0;
            while (r.hasNext()) {
                int ev = r.next();
                if (ev == XMLStreamConstants.START_ELEMENT) {
                    depth++;
                    if (depth == 2 && "value".equals(r.getLocalName()) && Namespaces.DHT.equals(r.getNamespaceURI())) {
                        String exp = r.getAttributeValue(null, "expires");
                        return exp == null ? Long.MIN_VALUE : Times.parse(exp, "expires").toEpochMilli();
                    }
                } else if (ev == XMLStreamConstants.END_ELEMENT) {
                    depth--;
                }
            }
            return Long.MIN_VALUE;
        } catch (XMLStreamException | RecordException | RuntimeException e) {
            return Long.MIN_VALUE;
        } finally {
            if (r != null) {
                try {
                    r.close();
                } catch (XMLStreamException ignored) {
                    // nothing held open: the input is a byte array
                }
            }
        }
    }
}
