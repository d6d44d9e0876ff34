package org.p2psip.nat.lab;

import java.net.InetAddress;
import java.util.List;

/**
 * A namespace on the lab's public segment.
 *
 * @param namespace its network namespace
 * @param addresses its addresses in 203.0.113.0/24 (all on its eth0)
 */
public record PublicHost(String namespace, List<InetAddress> addresses) {
    public PublicHost {
        addresses = List.copyOf(addresses);
    }
}
