package org.p2psip.nat.stun;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Runs a STUN server until standard input closes or the process is killed.
 *
 * <pre>
 *   java -cp ... org.p2psip.nat.stun.StunServerMain PRIMARY_IP:PORT [ALTERNATE_IP:PORT]
 * </pre>
 *
 * Prints {@code ready primary=IP:PORT [alternate=IP:PORT]} once bound, and the counters when it stops.
 */
public final class StunServerMain {
    private StunServerMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: StunServerMain PRIMARY_IP:PORT [ALTERNATE_IP:PORT]");
            System.exit(2);
        }
        InetSocketAddress primary = parse(args[0]);
        StunServer.Config config = args.length == 2
                ? StunServer.Config.rfc5780(primary, parse(args[1]))
                : StunServer.Config.basic(primary);
        try (StunServer server = StunServer.start(config)) {
            System.out.println("ready primary=" + hostPort(server.primaryAddress())
                    + (server.alternateAddress() == null ? "" : " alternate=" + hostPort(server.alternateAddress())));
            System.out.flush();
            try {
                while (System.in.read() >= 0) {
                    // run until stdin closes
                }
            } catch (IOException e) {
                // stdin gone: stop
            }
            System.out.println("stats " + server.stats());
        }
    }

    static InetSocketAddress parse(String s) throws Exception {
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("expected IP:PORT, got " + s);
        }
        String host = s.substring(0, colon).replace("[", "").replace("]", "");
        return new InetSocketAddress(InetAddress.getByName(host), Integer.parseInt(s.substring(colon + 1)));
    }

    static String hostPort(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }
}
