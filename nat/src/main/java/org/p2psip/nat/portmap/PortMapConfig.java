package org.p2psip.nat.portmap;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Settings of the port-mapping clients.
 *
 * @param router the router to ask (null: the IPv4 default gateway)
 * @param local this host's address facing the router (null: what the kernel routes from)
 * @param initialTimeout NAT-PMP/PCP first retransmission timeout, doubled for each attempt (RFC 6886: 250 ms)
 * @param attempts NAT-PMP/PCP transmissions before giving up
 * @param ssdpWait how long UPnP discovery waits for SSDP answers
 * @param httpTimeout connect and read timeout of each UPnP HTTP request
 * @param methods the order in which methods are tried
 * @param description the UPnP mapping description
 */
public record PortMapConfig(InetAddress router, InetAddress local, Duration initialTimeout, int attempts,
        Duration ssdpWait, Duration httpTimeout, List<Method> methods, String description) {
    public PortMapConfig {
        Objects.requireNonNull(initialTimeout, "initialTimeout");
        Objects.requireNonNull(ssdpWait, "ssdpWait");
        Objects.requireNonNull(httpTimeout, "httpTimeout");
        methods = List.copyOf(methods);
        Objects.requireNonNull(description, "description");
        if (attempts < 1 || initialTimeout.isNegative() || initialTimeout.isZero()) {
            throw new IllegalArgumentException("need at least one attempt and a positive timeout");
        }
        if (methods.isEmpty()) {
            throw new IllegalArgumentException("no mapping method");
        }
        if (!description.matches("[A-Za-z0-9 ._:-]{1,64}")) {
            throw new IllegalArgumentException("description must be 1-64 plain characters: " + description);
        }
    }

    /** PCP, then NAT-PMP, then UPnP-IGD, with RFC 6886's 250 ms initial timeout and 4 attempts (3.75 s). */
    public static PortMapConfig defaults() {
        return new PortMapConfig(null, null, Duration.ofMillis(250), 4, Duration.ofSeconds(2), Duration.ofSeconds(5),
                List.of(Method.PCP, Method.NAT_PMP, Method.UPNP_IGD), "p2psip");
    }

    /** The same settings for another router. */
    public PortMapConfig withRouter(InetAddress r) {
        return new PortMapConfig(r, local, initialTimeout, attempts, ssdpWait, httpTimeout, methods, description);
    }

    /** The same settings from another local address. */
    public PortMapConfig withLocal(InetAddress l) {
        return new PortMapConfig(router, l, initialTimeout, attempts, ssdpWait, httpTimeout, methods, description);
    }

    /** The same settings with other methods, tried in the given order. */
    public PortMapConfig withMethods(List<Method> m) {
        return new PortMapConfig(router, local, initialTimeout, attempts, ssdpWait, httpTimeout, m, description);
    }

    /** The same settings with other NAT-PMP/PCP retransmission, SSDP and HTTP timeouts. */
    public PortMapConfig withTimeouts(Duration initial, int tries, Duration ssdp, Duration http) {
        return new PortMapConfig(router, local, initial, tries, ssdp, http, methods, description);
    }
}
