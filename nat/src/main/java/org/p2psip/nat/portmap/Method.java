package org.p2psip.nat.portmap;

/** How a mapping was obtained from the router. */
public enum Method {
    /** Port Control Protocol, RFC 6887, MAP opcode, UDP 5351. */
    PCP,
    /** NAT Port Mapping Protocol, RFC 6886, UDP 5351. */
    NAT_PMP,
    /** UPnP Internet Gateway Device (WANIPConnection / WANPPPConnection) over SSDP, HTTP and SOAP. */
    UPNP_IGD
}
