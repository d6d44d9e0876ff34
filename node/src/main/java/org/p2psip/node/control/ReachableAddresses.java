package org.p2psip.node.control;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.p2psip.node.HostPort;

/**
 * The {@code address} lines of {@code STATUS}: where other peers reach this one. A concrete bind is that address; a
 * wildcard bind ({@code 0.0.0.0}, {@code [::]}) is every address of the host's interfaces that are up, routable
 * ones first, at the bound port (IPv6 only when the socket is IPv6; link-local ones left out, as they need a scope),
 * then a {@code bind} line with the wildcard itself; a {@code reflexive} line gives the public address STUN saw, when
 * discovery found one.
 */
final class ReachableAddresses {
    private ReachableAddresses() {
    }

    /**
     * @param bound the socket's address
     * @param reflexive the STUN-discovered address (its port is the discovery socket's), or null
     */
    static List<String> lines(InetSocketAddress bound, InetSocketAddress reflexive) {
        List<String> l = new ArrayList<>();
        if (bound.getAddress() == null || !bound.getAddress().isAnyLocalAddress()) {
            l.add("address " + HostPort.format(bound));
        } else {
            boolean v6 = !(bound.getAddress() instanceof Inet4Address);
            List<InetAddress> all = interfaceAddresses(v6);
            for (InetAddress a : all) {
                l.add("address " + HostPort.format(new InetSocketAddress(a, bound.getPort())));
            }
            l.add("bind " + HostPort.format(bound));
        }
        if (reflexive != null && reflexive.getAddress() != null) {
            l.add("reflexive " + HostPort.address(reflexive.getAddress()));
        }
        return l;
    }

    /** The up interfaces' addresses: routable ones, then loopback; IPv6 ones only for an IPv6 socket. */
    private static List<InetAddress> interfaceAddresses(boolean v6) {
        List<InetAddress> routable = new ArrayList<>();
        List<InetAddress> loopback = new ArrayList<>();
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!ni.isUp()) {
                    continue;
                }
                for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                    if (a.isLinkLocalAddress() || (!v6 && !(a instanceof Inet4Address))) {
                        continue;
                    }
                    (a.isLoopbackAddress() ? loopback : routable).add(a);
                }
            }
        } catch (SocketException e) {
            // no interface list: the loopback address is still one the peer answers at
            loopback.add(InetAddress.getLoopbackAddress());
        }
        routable.sort(ReachableAddresses::ipv4First);
        loopback.sort(ReachableAddresses::ipv4First);
        routable.addAll(loopback);
        return routable;
    }

    private static int ipv4First(InetAddress a, InetAddress b) {
        return Boolean.compare(!(a instanceof Inet4Address), !(b instanceof Inet4Address));
    }
}
