package org.p2psip.nat.ice;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import org.p2psip.nat.turn.CredentialStore;
import org.p2psip.nat.turn.TurnServer;

/**
 * What a public superpeer offers nodes that set up ICE links, in one process: a TURN server (which also answers
 * STUN Binding requests, for server-reflexive candidates) on UDP {@code IP:3478}, and a {@link SignalingRelay} on
 * TCP {@code IP:3478} for Attach messages. Runs until standard input closes.
 *
 * <pre>
 *   java -cp ... org.p2psip.nat.ice.IceRendezvousMain IP [--port P] [--user NAME:PASSWORD]
 * </pre>
 *
 * Prints {@code ready turn=IP:P signaling=IP:P} once both listen.
 */
public final class IceRendezvousMain {
    private IceRendezvousMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: IceRendezvousMain IP [--port P] [--user NAME:PASSWORD]");
            System.exit(2);
        }
        InetAddress ip = InetAddress.getByName(args[0]);
        int port = 3478;
        String user = IceNodeMain.DEFAULT_TURN_USER;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--user" -> user = args[++i];
                default -> {
                    System.err.println("unknown option " + args[i]);
                    System.exit(2);
                }
            }
        }
        int colon = user.indexOf(':');
        TurnServer.Config config = TurnServer.Config.builder(new InetSocketAddress(ip, port), ip, "p2psip",
                CredentialStore.passwords(Map.of(user.substring(0, colon), user.substring(colon + 1))))
                // every lab node uses the one lab user; the default quota (10) would refuse the matrix's later pairs
                .maxAllocationsPerUser(1000).build();
        try (TurnServer turn = TurnServer.start(config);
                SignalingRelay relay = SignalingRelay.start(new InetSocketAddress(ip, port))) {
            System.out.println("ready turn=" + ip.getHostAddress() + ":" + turn.listenAddress().getPort() + " signaling="
                    + ip.getHostAddress() + ":" + relay.address().getPort());
            System.out.flush();
            try {
                while (System.in.read() >= 0) {
                    // run until stdin closes
                }
            } catch (IOException e) {
                // stdin gone: stop
            }
            System.out.println("stats turn=" + turn.stats() + " signaling_forwarded=" + relay.forwarded() + " dropped="
                    + relay.dropped());
        }
    }
}
