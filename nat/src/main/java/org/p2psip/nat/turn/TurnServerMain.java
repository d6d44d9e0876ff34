package org.p2psip.nat.turn;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a TURN server until standard input closes or the process is killed.
 *
 * <pre>
 *   java -cp ... org.p2psip.nat.turn.TurnServerMain LISTEN_IP:PORT RELAY_IP --realm REALM --user NAME:PASSWORD ...
 *        [--deny CIDR ...] [--deny-private] [--rfc5766-channels] [--quota N] [--max-allocations N]
 * </pre>
 *
 * Prints {@code ready listen=IP:PORT relay=IP} once bound, and the counters when it stops.
 */
public final class TurnServerMain {
    private TurnServerMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            usage();
        }
        InetSocketAddress listen = parse(args[0]);
        InetAddress relay = InetAddress.getByName(args[1]);
        String realm = "p2psip";
        Map<String, String> users = new HashMap<>();
        List<String> deny = new ArrayList<>();
        boolean denyPrivate = false;
        boolean rfc5766 = false;
        int quota = 10;
        int max = 1000;
        for (int i = 2; i < args.length; i++) {
            switch (args[i]) {
                case "--realm" -> realm = args[++i];
                case "--user" -> {
                    String u = args[++i];
                    int c = u.indexOf(':');
                    if (c < 1) {
                        usage();
                    }
                    users.put(u.substring(0, c), u.substring(c + 1));
                }
                case "--deny" -> deny.add(args[++i]);
                case "--deny-private" -> denyPrivate = true;
                case "--rfc5766-channels" -> rfc5766 = true;
                case "--quota" -> quota = Integer.parseInt(args[++i]);
                case "--max-allocations" -> max = Integer.parseInt(args[++i]);
                default -> usage();
            }
        }
        PeerFilter filter = (denyPrivate ? PeerFilter.privateNetworks() : PeerFilter.none())
                .withNetworks(deny.toArray(String[]::new));
        TurnServer.Config config = TurnServer.Config.builder(listen, relay, realm, CredentialStore.passwords(users))
                .peerFilter(filter).rfc5766Channels(rfc5766).maxAllocationsPerUser(quota).maxAllocations(max).build();
        try (TurnServer server = TurnServer.start(config)) {
            System.out.println("ready listen=" + hostPort(server.listenAddress()) + " relay="
                    + relay.getHostAddress());
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

    private static void usage() {
        System.err.println("usage: TurnServerMain LISTEN_IP:PORT RELAY_IP [--realm R] --user NAME:PASSWORD ... "
                + "[--deny CIDR] [--deny-private] [--rfc5766-channels] [--quota N] [--max-allocations N]");
        System.exit(2);
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
