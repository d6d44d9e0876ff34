package org.p2psip.nat.lab;

/**
 * The NAT behaviours a lab site's router emulates with Linux netfilter (see nat/README.md for the rules and why
 * each one gives its behaviour). The expected RFC 4787 mapping/filtering classes are what the NAT lab test measured.
 */
public enum NatType {
    /** Endpoint-independent mapping and filtering: MASQUERADE (port kept) plus DNAT of every inbound UDP port to the host. */
    FULL_CONE,
    /** Endpoint-independent mapping, address-dependent filtering: as full cone, but DNAT only from addresses the host sent to (xt_recent). */
    ADDRESS_RESTRICTED,
    /** Endpoint-independent mapping, address-and-port-dependent filtering: plain MASQUERADE, conntrack filters. */
    PORT_RESTRICTED,
    /** Address-and-port-dependent mapping and filtering: MASQUERADE --random-fully. */
    SYMMETRIC,
    /**
     * A port-restricted cone (plain MASQUERADE) whose router runs miniupnpd: PCP, NAT-PMP and UPnP-IGD clients on its
     * LAN get port mappings (DNAT rules miniupnpd adds), and only mapped ports admit unsolicited inbound traffic.
     */
    UPNP
}
