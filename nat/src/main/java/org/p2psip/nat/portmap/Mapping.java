package org.p2psip.nat.portmap;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * A port mapping the router granted: datagrams (or connections) to {@code external} reach {@code internal}.
 *
 * @param protocol UDP or TCP
 * @param internal this host's address and port behind the router
 * @param external the router's public address and the mapped port: what the peer advertises
 * @param lifetime how long the router keeps it without renewal ({@link Duration#ZERO}: until deleted)
 * @param method the protocol that obtained it
 */
public record Mapping(Protocol protocol, InetSocketAddress internal, InetSocketAddress external, Duration lifetime,
        Method method) {
    public Mapping {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(internal, "internal");
        Objects.requireNonNull(external, "external");
        Objects.requireNonNull(lifetime, "lifetime");
        Objects.requireNonNull(method, "method");
        if (lifetime.isNegative()) {
            throw new IllegalArgumentException("negative lifetime");
        }
    }

    /** Whether the router keeps the mapping until it is deleted (UPnP permanent leases). */
    public boolean permanent() {
        return lifetime.isZero();
    }

    @Override
    public String toString() {
        return method + " " + protocol + " " + external.getAddress().getHostAddress() + ":" + external.getPort()
                + " -> " + internal.getAddress().getHostAddress() + ":" + internal.getPort() + " for "
                + (permanent() ? "ever" : lifetime.toSeconds() + " s");
    }
}
