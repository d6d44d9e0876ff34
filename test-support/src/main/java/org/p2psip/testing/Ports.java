package org.p2psip.testing;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports on 127.0.0.1 that a test picks now and a program binds later (a sipp phone, a peer's static site list).
 * They are drawn below the kernel's ephemeral range ({@code net.ipv4.ip_local_port_range}): a port from that range
 * may be handed to any socket that binds port 0 between the pick and the bind (another peer of the test, another
 * test's JVM on the machine), and the program then fails to bind; below it only another explicit pick can collide,
 * which the random draw over some 20,000 ports makes unlikely. Each pick is checked free at that moment.
 */
public final class Ports {
    /** The lowest port drawn: above the well-known and most registered service ports. */
    static final int LOWEST = 10_000;

    private Ports() {
    }

    /** A UDP port on 127.0.0.1 that is free now and outside the ephemeral range. */
    public static int freeUdpPort() throws IOException {
        return pick(true);
    }

    /** A TCP port on 127.0.0.1 that is free now and outside the ephemeral range. */
    public static int freeTcpPort() throws IOException {
        return pick(false);
    }

    /**
     * A UDP port p with p+1 free as well, on every local address, outside the ephemeral range (a program that binds
     * two ports in a row: coturn's echo peer and its RTCP, a STUN server and its alternate port).
     */
    public static int freeUdpPortPair() throws IOException {
        int below = ephemeralLow();
        boolean outside = below - LOWEST >= 1_000;
        for (int i = 0; i < 200; i++) {
            int port = outside ? ThreadLocalRandom.current().nextInt(LOWEST, below - 1) : probeUdp(0);
            if (port >= 65_000) {
                continue;
            }
            try (DatagramSocket first = new DatagramSocket(port); DatagramSocket second = new DatagramSocket(port + 1)) {
                return port;
            } catch (IOException taken) {
                // another one
            }
        }
        throw new IOException("no free pair of UDP ports after 200 tries; is the machine out of ports?");
    }

    private static int pick(boolean udp) throws IOException {
        int below = ephemeralLow();
        if (below - LOWEST < 1_000) { // an unusual range: fall back to a port the kernel picks
            return udp ? probeUdp(0) : probeTcp(0);
        }
        for (int i = 0; i < 200; i++) {
            int port = ThreadLocalRandom.current().nextInt(LOWEST, below);
            try {
                return udp ? probeUdp(port) : probeTcp(port);
            } catch (IOException taken) {
                // another one
            }
        }
        throw new IOException("no free " + (udp ? "UDP" : "TCP") + " port on 127.0.0.1 between " + LOWEST + " and "
                + below + " after 200 tries; is the machine out of ports?");
    }

    private static int probeUdp(int port) throws IOException {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
            return s.getLocalPort();
        }
    }

    private static int probeTcp(int port) throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            return s.getLocalPort();
        }
    }

    /** The first port of the kernel's ephemeral range (Linux), else the IANA dynamic range's 49152. */
    static int ephemeralLow() {
        try {
            String[] range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
            return Integer.parseInt(range[0]);
        } catch (IOException | RuntimeException e) {
            return 49_152;
        }
    }
}
