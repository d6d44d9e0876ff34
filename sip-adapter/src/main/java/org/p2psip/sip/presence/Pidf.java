package org.p2psip.sip.presence;

/** PIDF documents (RFC 3863): one tuple whose basic status is open or closed. */
public final class Pidf {
    public static final String CONTENT_TYPE = "application/pidf+xml";

    private Pidf() {
    }

    /** The presence document of {@code entity} ({@code sip:bob@example.net}). */
    public static String document(String entity, boolean open) {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
                + "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"" + escape(entity) + "\">\r\n"
                + "  <tuple id=\"p2psip\">\r\n"
                + "    <status><basic>" + (open ? "open" : "closed") + "</basic></status>\r\n"
                + "  </tuple>\r\n"
                + "</presence>\r\n";
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
                .replace("'", "&apos;");
    }
}
