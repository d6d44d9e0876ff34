package org.p2psip.node.xmlrpc;

/**
 * An XML-RPC fault: sent back as {@code <fault>} with {@code faultCode} and {@code faultString}. The codes
 * follow the common XML-RPC fault-code convention (xmlrpc-epi "specification for fault code interoperability").
 */
public final class XmlRpcFault extends Exception {
    private static final long serialVersionUID = 1L;
    /** The body is not well-formed XML, or is refused by the hardened parser (DOCTYPE, entities, too deep). */
    public static final int PARSE_ERROR = -32700;
    /** Well-formed XML that is not a valid XML-RPC methodCall. */
    public static final int INVALID_REQUEST = -32600;
    /** No such method. */
    public static final int METHOD_NOT_FOUND = -32601;
    /** Wrong number or type of parameters, or a parameter over its limit. */
    public static final int INVALID_PARAMS = -32602;
    /** A failure inside the gateway. */
    public static final int INTERNAL_ERROR = -32603;
    /** The DHT failed the operation in a way that has no OpenDHT return code (e.g. a get with no node reachable). */
    public static final int APPLICATION_ERROR = -32500;

    private final int code;

    public XmlRpcFault(int code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public int code() {
        return code;
    }
}
