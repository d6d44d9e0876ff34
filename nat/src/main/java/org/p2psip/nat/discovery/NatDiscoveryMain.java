package org.p2psip.nat.discovery;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.p2psip.nat.stun.StunClient;

/**
 * Runs NAT behaviour discovery against an RFC 5780 server and prints the result as {@code key=value} lines (the
 * NAT lab runs it inside a network namespace).
 *
 * <pre>
 *   java -cp ... org.p2psip.nat.discovery.NatDiscoveryMain SERVER_IP:PORT [--rto-ms 500] [--rc 7] [--rm 16]
 *        [--bind IP] [--lifetime 1s,2s,5s]
 * </pre>
 *
 * Output: {@code mapping=}, {@code nat=}, {@code mapped=}, {@code mapping.note=}, {@code filtering=},
 * {@code filtering.note=}, and with --lifetime {@code lifetime.atLeastMs=}, {@code lifetime.lessThanMs=}
 * (-1 when unbounded) and {@code lifetime.probe=WAIT_MS:alive|expired} lines; last {@code done}.
 */
public final class NatDiscoveryMain {
    private NatDiscoveryMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: NatDiscoveryMain SERVER_IP:PORT [--rto-ms N] [--rc N] [--rm N] [--bind IP] "
                    + "[--lifetime 1s,2s,...]");
            System.exit(2);
        }
        String[] hp = args[0].split(":(?=[0-9]+$)");
        InetSocketAddress server = new InetSocketAddress(InetAddress.getByName(hp[0]), Integer.parseInt(hp[1]));
        long rtoMs = 500;
        int rc = 7;
        int rm = 16;
        String bind = "0.0.0.0";
        List<Duration> lifetime = List.of();
        for (int i = 1; i < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--rto-ms" -> rtoMs = Long.parseLong(v);
                case "--rc" -> rc = Integer.parseInt(v);
                case "--rm" -> rm = Integer.parseInt(v);
                case "--bind" -> bind = v;
                case "--lifetime" -> lifetime = NatDiscovery.parseSchedule(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        StunClient.Config cfg = new StunClient.Config(Duration.ofMillis(rtoMs), rc, rm, true, null);
        try (StunClient client = StunClient.create(cfg)) {
            NatDiscovery d = new NatDiscovery(new StunBindingProbe(client,
                    new InetSocketAddress(InetAddress.getByName(bind), 0)), server);
            NatDiscovery.NatBehavior b = d.discover().get(10, TimeUnit.MINUTES);
            System.out.println("mapping=" + b.mapping().behavior());
            System.out.println("nat=" + b.mapping().natDetected());
            System.out.println("local=" + b.mapping().local());
            System.out.println("mapped=" + b.mapping().mapped());
            System.out.println("mapping.note=" + b.mapping().note());
            System.out.println("filtering=" + b.filtering().behavior());
            System.out.println("filtering.note=" + b.filtering().note());
            if (!lifetime.isEmpty()) {
                NatDiscovery.BindingLifetime l = d.bindingLifetime(lifetime).get(10, TimeUnit.MINUTES);
                System.out.println("lifetime.atLeastMs=" + (l.atLeast() == null ? -1 : l.atLeast().toMillis()));
                System.out.println("lifetime.lessThanMs=" + (l.lessThan() == null ? -1 : l.lessThan().toMillis()));
                for (NatDiscovery.LifetimeProbe p : l.probes()) {
                    System.out.println("lifetime.probe=" + p.silence().toMillis() + ":" + (p.alive() ? "alive" : "expired"));
                }
            }
            System.out.println("done");
        }
    }
}
