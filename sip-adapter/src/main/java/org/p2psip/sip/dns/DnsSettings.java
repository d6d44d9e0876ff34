package org.p2psip.sip.dns;

import java.net.InetSocketAddress;

/**
 * RFC 3263 routing for a peer: the DNS server to ask (null: the system's, from /etc/resolv.conf) and the per-domain
 * lookup order.
 */
public record DnsSettings(InetSocketAddress nameServer, DomainRouting routing) {
    public DnsSettings {
        if (routing == null) {
            throw new IllegalArgumentException("DNS settings need a domain routing (DomainRouting.DEFAULT)");
        }
    }

    /** The system's DNS server, default order (served domains: overlay; others: DNS, then overlay). */
    public static DnsSettings system() {
        return new DnsSettings(null, DomainRouting.DEFAULT);
    }
}
