package org.p2psip.nat.discovery;

/** How a NAT maps an inside address to outside ones (RFC 4787 section 4.1, tested per RFC 5780 section 4.3). */
public enum MappingBehavior {
    /** The same mapping for every destination (also reported when there is no NAT at all). */
    ENDPOINT_INDEPENDENT,
    /** A new mapping per destination IP address. */
    ADDRESS_DEPENDENT,
    /** A new mapping per destination IP address and port ("symmetric"). */
    ADDRESS_AND_PORT_DEPENDENT,
    /** The tests could not be completed (no RFC 5780 server, no answer). */
    UNKNOWN
}
