package org.p2psip.nat.portmap;

/** The transport protocol of a port mapping, with its IANA protocol number (used by PCP) and its UPnP name. */
public enum Protocol {
    UDP(17, 1),
    TCP(6, 2);

    private final int ianaNumber;
    private final int natPmpOpcode;

    Protocol(int ianaNumber, int natPmpOpcode) {
        this.ianaNumber = ianaNumber;
        this.natPmpOpcode = natPmpOpcode;
    }

    /** The protocol number in PCP's MAP opcode (RFC 6887 11.1). */
    public int ianaNumber() {
        return ianaNumber;
    }

    /** The NAT-PMP request opcode (RFC 6886 3.3): 1 for UDP, 2 for TCP. */
    public int natPmpOpcode() {
        return natPmpOpcode;
    }
}
