package org.p2psip.testbed.docker;

/** The NAT behaviours the router image knows (its {@code NAT_TYPE}), the same as the NAT lab's. */
enum NatBehaviour {
    FULL_CONE("full-cone"),
    ADDRESS_RESTRICTED("address-restricted"),
    PORT_RESTRICTED("port-restricted"),
    SYMMETRIC("symmetric");

    private final String envName;

    NatBehaviour(String envName) {
        this.envName = envName;
    }

    /** The value of the router's {@code NAT_TYPE}. */
    String envName() {
        return envName;
    }
}
