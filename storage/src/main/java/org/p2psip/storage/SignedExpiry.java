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
     * What the stored record's {@code value} signs about its lifetime.
     *
     * @param expiresMillis the signed {@code expires} (epoch ms), or {@code Long.MIN_VALUE} when unreadable
     * @param chain         the signed refresh chain, or null
     */
    public record Signed(long expiresMillis, RefreshChain.Params chain) {
        static final Signed NONE = new Signed(Long.MIN_VALUE, null);
    }

    /**
     * The epoch milliseconds of the {@code expires} attribute of the {@code dhtRecord}'s {@code value}, or
     * {@code Long.MIN_VALUE} when the data holds none (then it cannot be compared and callers must refuse).
     */
    public static long of(byte[] signedRecord) {
        return read(signedRecord).expiresMillis();
    }

    /**
     * The latest expiry a stored value can reach: its signed {@code expires}, plus {@code N·d} when it signs a refresh
     * chain ({@code Long.MIN_VALUE} when unreadable).
     */
    public static long latest(byte[] signedRecord) {
        Signed s = read(signedRecord);
        return s.chain() == null || s.expiresMillis() == Long.MIN_VALUE ? s.expiresMillis()
                : s.chain().expiryAt(s.expiresMillis(), s.chain().length());
    }

    /** The signed {@code expires} and refresh chain of the record's value ({@link Signed#NONE}'s expiry when unreadable). */
    public static Signed read(byte[] signedRecord) {
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
                        RefreshChain.Params chain = RecordXml.chain(r.getAttributeValue(null, "chainAnchor"),
                                r.getAttributeValue(null, "chainStep"), r.getAttributeValue(null, "chainLength"));
                        return exp == null ? Signed.NONE : new Signed(Times.parse(exp, "expires").toEpochMilli(), chain);
                    }
                } else if (ev == XMLStreamConstants.END_ELEMENT) {
                    depth--;
                }
            }
            return Signed.NONE;
        } catch (XMLStreamException | RecordException | RuntimeException e) {
            return Signed.NONE;
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
