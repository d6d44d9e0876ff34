package org.p2psip.nat.portmap;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Finds the IPv4 default gateway (the router that NAT-PMP and PCP talk to) and the local address facing it. */
public final class Gateways {
    private static final Path ROUTES = Path.of("/proc/net/route");

    private Gateways() {
    }

    /** The gateway of the IPv4 default route, from Linux's /proc/net/route; empty elsewhere or without one. */
    public static Optional<InetAddress> defaultGateway() {
        try {
            return parseRouteTable(Files.readString(ROUTES, StandardCharsets.US_ASCII));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Parses /proc/net/route: the first line whose destination and mask are 0 and whose flags have RTF_GATEWAY
     * (0x2). Addresses there are hexadecimal in host (little-endian) byte order.
     */
    static Optional<InetAddress> parseRouteTable(String table) {
        String[] lines = table.split("\n");
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].trim().split("\\s+");
            if (f.length < 8) {
                continue;
            }
            try {
                long dest = Long.parseLong(f[1], 16);
                long gateway = Long.parseLong(f[2], 16);
                int flags = Integer.parseInt(f[3], 16);
                long mask = Long.parseLong(f[7], 16);
                if (dest == 0 && mask == 0 && (flags & 0x2) != 0 && gateway != 0) {
                    byte[] a = {(byte) gateway, (byte) (gateway >> 8), (byte) (gateway >> 16), (byte) (gateway >> 24)};
                    return Optional.of(NatPmpCodec.ipv4(a));
                }
            } catch (NumberFormatException ignored) {
                // not a route line
            }
        }
        return Optional.empty();
    }

    /** The local address the kernel would use to reach {@code remote} (no packet is sent). */
    public static InetAddress localAddressFacing(InetAddress remote) throws SocketException {
        try (DatagramSocket s = new DatagramSocket()) {
            s.connect(new InetSocketAddress(remote, 9));
            InetAddress local = s.getLocalAddress();
            if (local == null || local.isAnyLocalAddress()) {
                throw new SocketException("no local address routes to " + remote.getHostAddress());
            }
            return local;
        }
    }
}
