package org.p2psip.nat.turn;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The operator's denylist of peers a TURN server must never relay to (RFC 8656 section 21.1.1 and 17: an open relay
 * into the operator's own network, or back into the server, is an attack).
 *
 * <p>Two kinds of entries: <b>networks</b> (CIDR prefixes: no permission, channel, or datagram for any address in
 * them) and <b>transport addresses</b> (IP and port: no channel and no datagram to exactly that address; a permission
 * for its IP is still allowed, since permissions are per IP). The server adds its own listening addresses as
 * transport entries by default, so a client cannot make the relay send into the server's own TURN port. Addresses
 * that can never be a unicast peer (unspecified, multicast, the IPv4 broadcast address) and port 0 are always
 * refused.
 */
public final class PeerFilter {
    /** A CIDR prefix such as {@code 10.0.0.0/8} or {@code fc00::/7}. */
    public record Network(InetAddress address, int prefixLength) {
        public Network {
            Objects.requireNonNull(address, "address");
            int bits = address.getAddress().length * 8;
            if (prefixLength < 0 || prefixLength > bits) {
                throw new IllegalArgumentException("prefix length " + prefixLength + " out of 0.." + bits);
            }
        }

        /** Parses {@code a.b.c.d/n}, {@code x::/n}, or a single address (a full-length prefix). */
        public static Network parse(String cidr) {
            int slash = cidr.indexOf('/');
            String host = slash < 0 ? cidr : cidr.substring(0, slash);
            if (!host.matches("[0-9a-fA-F:.]+")) {
                throw new IllegalArgumentException("not an IP literal: " + cidr); // never resolve names
            }
            try {
                InetAddress a = InetAddress.getByName(host);
                int len = slash < 0 ? a.getAddress().length * 8 : Integer.parseInt(cidr.substring(slash + 1));
                return new Network(a, len);
            } catch (UnknownHostException | NumberFormatException e) {
                throw new IllegalArgumentException("bad CIDR prefix: " + cidr, e);
            }
        }

        public boolean contains(InetAddress a) {
            byte[] net = address.getAddress();
            byte[] x = a.getAddress();
            if (net.length != x.length) {
                return false;
            }
            int full = prefixLength / 8;
            for (int i = 0; i < full; i++) {
                if (net[i] != x[i]) {
                    return false;
                }
            }
            int rest = prefixLength % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xFF << (8 - rest)) & 0xFF;
            return (net[full] & mask) == (x[full] & mask);
        }

        @Override
        public String toString() {
            return address.getHostAddress() + "/" + prefixLength;
        }
    }

    private final List<Network> networks;
    private final Set<InetSocketAddress> transports;

    private PeerFilter(List<Network> networks, Set<InetSocketAddress> transports) {
        this.networks = List.copyOf(networks);
        this.transports = Set.copyOf(transports);
    }

    /** Refuses nothing beyond the addresses that are never unicast peers. */
    public static PeerFilter none() {
        return new PeerFilter(List.of(), Set.of());
    }

    /** Refuses every address in the given CIDR prefixes. */
    public static PeerFilter denying(String... cidrs) {
        List<Network> n = new ArrayList<>();
        for (String c : cidrs) {
            n.add(Network.parse(c));
        }
        return new PeerFilter(n, Set.of());
    }

    /**
     * The networks a public deployment should refuse: loopback, RFC 1918 and other private, link-local, CGNAT,
     * unique-local and link-local IPv6 (IPv4-mapped IPv6 addresses are read as IPv4, so the IPv4 ranges cover them).
     * Not the default: the tests and the NAT lab relay on loopback and in documentation ranges.
     */
    public static PeerFilter privateNetworks() {
        return denying("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
                "192.168.0.0/16", "::1/128", "fc00::/7", "fe80::/10");
    }

    public PeerFilter withNetworks(String... cidrs) {
        List<Network> n = new ArrayList<>(networks);
        for (String c : cidrs) {
            n.add(Network.parse(c));
        }
        return new PeerFilter(n, transports);
    }

    public PeerFilter withTransport(InetSocketAddress address) {
        Set<InetSocketAddress> t = new java.util.HashSet<>(transports);
        t.add(address);
        return new PeerFilter(networks, t);
    }

    public List<Network> networks() {
        return networks;
    }

    public Set<InetSocketAddress> transports() {
        return transports;
    }

    /** Whether a permission for {@code ip} may be installed. */
    public boolean allowsIp(InetAddress ip) {
        if (ip.isAnyLocalAddress() || ip.isMulticastAddress() || isBroadcast(ip)) {
            return false;
        }
        for (Network n : networks) {
            if (n.contains(ip)) {
                return false;
            }
        }
        return true;
    }

    /** Whether datagrams may be relayed to (or a channel bound to) {@code peer}. */
    public boolean allows(InetSocketAddress peer) {
        if (peer.getPort() == 0 || !allowsIp(peer.getAddress())) {
            return false;
        }
        return !transports.contains(new InetSocketAddress(peer.getAddress(), peer.getPort()));
    }

    private static boolean isBroadcast(InetAddress ip) {
        byte[] b = ip.getAddress();
        return b.length == 4 && (b[0] & b[1] & b[2] & b[3]) == (byte) 0xFF;
    }

    @Override
    public String toString() {
        return "PeerFilter[networks=" + networks + ", transports=" + transports + "]";
    }
}
