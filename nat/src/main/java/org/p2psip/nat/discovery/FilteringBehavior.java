package org.p2psip.nat.discovery;

/** Which outside sources may send through an existing mapping (RFC 4787 section 5, tested per RFC 5780 section 4.4). */
public enum FilteringBehavior {
    /** Anyone ("full cone"). */
    ENDPOINT_INDEPENDENT,
    /** Only IP addresses the inside endpoint has sent to ("address-restricted cone"). */
    ADDRESS_DEPENDENT,
    /** Only IP address and port pairs the inside endpoint has sent to ("port-restricted cone", symmetric NATs). */
    ADDRESS_AND_PORT_DEPENDENT,
    /** The tests could not be completed. */
    UNKNOWN
}
