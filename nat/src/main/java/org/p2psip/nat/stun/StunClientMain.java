package org.p2psip.nat.stun;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Sends one Binding request and prints {@code mapped=IP:PORT rtt_ms=N transmissions=N}, or {@code timeout}.
 *
 * <pre>
 *   java -cp ... org.p2psip.nat.stun.StunClientMain SERVER_IP:PORT [RTO_MS [RC [RM]]]
 * </pre>
 */
public final class StunClientMain {
    private StunClientMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: StunClientMain SERVER_IP:PORT [RTO_MS [RC [RM]]]");
            System.exit(2);
        }
        InetSocketAddress server = StunServerMain.parse(args[0]);
        long rto = args.length > 1 ? Long.parseLong(args[1]) : 500;
        int rc = args.length > 2 ? Integer.parseInt(args[2]) : 7;
        int rm = args.length > 3 ? Integer.parseInt(args[3]) : 16;
        try (StunClient client = StunClient.create(new StunClient.Config(Duration.ofMillis(rto), rc, rm, true, null))) {
            StunClient.Socket s = client.open(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 0)).get();
            try {
                StunResponse r = s.binding(server).get(10, TimeUnit.MINUTES);
                System.out.println("mapped=" + r.message().mappedAddress().map(StunServerMain::hostPort).orElse("none")
                        + " rtt_ms=" + r.elapsed().toMillis() + " transmissions=" + r.transmissions());
            } catch (ExecutionException e) {
                System.out.println(e.getCause() instanceof StunTimeoutException ? "timeout" : "error " + e.getCause());
            }
            s.close();
        }
    }
}
