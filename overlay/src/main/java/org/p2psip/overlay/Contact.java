package org.p2psip.overlay;

import java.net.InetSocketAddress;
import java.util.Objects;

/** A node as its peers know it: its id and the address its link is reached at. */
public record Contact(NodeId id, InetSocketAddress address) {
    public Contact {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(address, "address");
    }

    @Override
    public String toString() {
        return id.shortHex() + "@" + address.getHostString() + ":" + address.getPort();
    }
}
