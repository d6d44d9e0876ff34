package org.p2psip.nat.links;

import io.netty.channel.EventLoopGroup;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.p2psip.nat.dtls.DtlsConfig;
import org.p2psip.nat.dtls.DtlsIdentity;
import org.p2psip.nat.dtls.DtlsStats;
import org.p2psip.nat.ice.IceConfig;
import org.p2psip.nat.ice.IceLink;
import org.p2psip.nat.turn.CredentialStore;
import org.p2psip.nat.turn.TurnServer;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.OverlayStats;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.link.UdpLinkLayer;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.WireCodec;

/**
 * One superpeer with {@link SecureOverlayLinks}, driven line by line from standard input, for the NAT lab:
 *
 * <pre>
 *   SecureLinksNodeMain --bind IP [--port P] --ice IP:PORT [--turn-server]
 * </pre>
 *
 * {@code --ice} names the STUN/TURN server (a public superpeer's); with {@code --turn-server} this node runs it, on
 * UDP 3478 of {@code --bind} (user {@value #TURN_USER}). Prints {@code ready id=HEX address=IP:PORT}, then answers
 * each command with key=value lines and a last line {@code ok} or {@code error=...}:
 * <pre>
 *   join IP:PORT         join the overlay through that node
 *   neighbours           neighbour=HEX@IP:PORT lines
 *   attach HEX           a link to that node: Attach routed through the overlay, ICE, DTLS, a ping over it
 *   put NAME TEXT        stores TEXT at the key of NAME (put_stored=replicas that acknowledged)
 *   get NAME             get_values=the texts found
 *   local NAME           local_values=the texts this node stores itself
 *   link HEX             the ICE link with that node: how many there are, role, remote, path datagrams, sessions
 *                        authenticated as it
 *   counters             overlay, signaling and glare counters
 *   bench HEX N          N more links to that node one after the other, each closed after its ping was answered:
 *                        bench_setup_ms (Attach to ICE completion) and bench_ready_ms (to the answered ping)
 *   quit
 * </pre>
 */
public final class SecureLinksNodeMain {
    static final String TURN_USER = "lab";
    static final String TURN_PASSWORD = "lab-secret";

    private SecureLinksNodeMain() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress bind = null;
        int port = 0;
        InetSocketAddress iceServer = null;
        boolean turnServer = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--bind" -> bind = InetAddress.getByName(args[++i]);
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--ice" -> iceServer = address(args[++i]);
                case "--turn-server" -> turnServer = true;
                default -> {
                    System.err.println("unknown option " + args[i]
                            + "; usage: SecureLinksNodeMain --bind IP [--port P] --ice IP:PORT [--turn-server]");
                    System.exit(2);
                }
            }
        }
        if (bind == null || iceServer == null) {
            System.err.println("usage: SecureLinksNodeMain --bind IP [--port P] --ice IP:PORT [--turn-server]");
            System.exit(2);
        }
        TurnServer turn = null;
        if (turnServer) {
            turn = TurnServer.start(TurnServer.Config.builder(new InetSocketAddress(bind, 3478), bind, "p2psip",
                    CredentialStore.passwords(Map.of(TURN_USER, TURN_PASSWORD))).maxAllocationsPerUser(1000).build());
        }
        IceConfig ice = IceConfig.hostOnly().withStun(iceServer).withTurn(iceServer, TURN_USER, TURN_PASSWORD)
                .withTimeouts(Duration.ofSeconds(20), Duration.ofSeconds(20));
        EventLoopGroup group = UdpLinkLayer.newEventLoopGroup(1);
        DtlsIdentity identity = DtlsIdentity.generate();
        SecureOverlayLinks links = SecureOverlayLinks.start(group, new InetSocketAddress(bind, port), identity,
                DtlsConfig.defaults(), ice, layer -> new OverlayNode(identity.id(), layer, OverlayConfig.defaults(),
                        new SecretHashPolicy(), new WireCodec(), new Random()).start()).get(20, TimeUnit.SECONDS);
        OverlayNode node = links.node();
        System.out.println("ready id=" + identity.id().toHex() + " address=" + hostPort(links.layer().localAddress()));
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try {
            for (String line; (line = in.readLine()) != null; ) {
                String[] w = line.trim().split(" ", 3);
                if (w[0].equals("quit")) {
                    break;
                }
                try {
                    command(links, node, w);
                    System.out.println("ok");
                } catch (Exception e) {
                    Throwable c = e.getCause() != null ? e.getCause() : e;
                    System.out.println("error=" + c.toString().replace('\n', ' '));
                }
                System.out.flush();
            }
        } finally {
            links.close();
            if (turn != null) {
                turn.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        System.exit(0);
    }

    /**
     * Joins through {@code bootstrap}, up to 4 attempts 2 s apart, as the runnable peer retries its join: the first
     * DTLS handshake between two cold JVMs on a loaded machine can outlast one join's request retries.
     */
    private static int join(OverlayNode node, InetSocketAddress bootstrap) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return node.join(List.of(bootstrap)).get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                if (attempt == 4) {
                    throw e;
                }
                System.err.println("join attempt " + attempt + " through " + bootstrap + " failed ("
                        + e.getCause().getMessage() + "); retrying in 2 s");
                Thread.sleep(2_000);
            }
        }
    }

    private static void command(SecureOverlayLinks links, OverlayNode node, String[] w) throws Exception {
        switch (w[0]) {
            case "join" -> System.out.println("neighbours=" + join(node, address(w[1])));
            case "neighbours" -> {
                for (Contact c : node.neighbours().get(10, TimeUnit.SECONDS)) {
                    System.out.println("neighbour=" + c.id().toHex() + "@" + hostPort(c.address()));
                }
            }
            case "attach" -> {
                IceLink link = links.connect(NodeId.fromHex(w[1])).get(90, TimeUnit.SECONDS);
                System.out.println("link=" + link);
                System.out.println("relayed=" + link.relayed());
                System.out.println("setup_ms=" + link.setupMillis());
                System.out.println("route_hops=" + links.signaling().lastHops());
                System.out.println("authenticated=" + link.authenticated());
            }
            case "put" -> {
                DhtValue v = SecretHashPolicy.value(Bytes.utf8(w[2]), Bytes.EMPTY, System.currentTimeMillis() + 600_000);
                PutResult r = node.put(NodeId.ofName(w[1]), v).get(60, TimeUnit.SECONDS);
                System.out.println("put_stored=" + r.stored());
            }
            case "get" -> System.out.println("get_values=" + texts(node.get(NodeId.ofName(w[1])).get(60, TimeUnit.SECONDS)));
            case "local" -> System.out.println("local_values="
                    + texts(node.localValues(NodeId.ofName(w[1])).get(10, TimeUnit.SECONDS)));
            case "link" -> {
                NodeId peer = NodeId.fromHex(w[1]);
                IceLink link = links.ice().links().stream().filter(l -> l.peer().equals(peer)).findFirst()
                        .orElseThrow(() -> new IllegalStateException("no ICE link with " + peer.shortHex()));
                System.out.println("links_with_peer=" + links.ice().links().stream().filter(l -> l.peer().equals(peer)).count());
                System.out.println("link_controlling=" + link.controlling());
                System.out.println("link_remote=" + hostPort(link.remote()));
                System.out.println("link_relayed=" + link.relayed());
                System.out.println("path_datagrams=" + link.datagramsReceived());
                StringBuilder sessions = new StringBuilder();
                for (InetSocketAddress a : links.layer().establishedPeers()) {
                    if (links.layer().authenticatedId(a).map(peer::equals).orElse(false)) {
                        sessions.append(sessions.length() == 0 ? "" : ",").append(hostPort(a));
                    }
                }
                System.out.println("sessions_with_peer=" + sessions);
            }
            case "counters" -> {
                OverlayStats.Snapshot c = node.counters();
                System.out.println("routed_forwarded=" + c.routedForwarded());
                System.out.println("routed_delivered=" + c.routedDelivered());
                System.out.println("routed_dropped=" + c.routedDropped());
                System.out.println("attach_sent=" + links.signaling().sent());
                System.out.println("attach_served=" + links.signaling().served());
                System.out.println("glare_refused=" + links.ice().glareRefused());
                System.out.println("glare_yielded=" + links.ice().glareYielded());
                System.out.println("setups_shared=" + links.ice().setupsShared());
                System.out.println("dtls_datagrams_in=" + links.layer().stats().get(DtlsStats.Counter.DATAGRAMS_IN));
            }
            case "bench" -> {
                NodeId peer = NodeId.fromHex(w[1]);
                StringBuilder setup = new StringBuilder();
                StringBuilder ready = new StringBuilder();
                for (int i = 0; i < Integer.parseInt(w[2]); i++) {
                    long t0 = System.nanoTime();
                    try (IceLink link = links.connect(peer).get(90, TimeUnit.SECONDS)) {
                        setup.append(setup.length() == 0 ? "" : ",").append(link.setupMillis());
                        ready.append(ready.length() == 0 ? "" : ",")
                                .append(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
                    }
                }
                System.out.println("bench_setup_ms=" + setup);
                System.out.println("bench_ready_ms=" + ready);
            }
            default -> throw new IllegalArgumentException("unknown command '" + w[0]
                    + "': join, neighbours, attach, put, get, local, link, counters, bench, quit");
        }
    }

    private static String texts(List<DhtValue> values) {
        StringBuilder sb = new StringBuilder();
        for (DhtValue v : values) {
            sb.append(sb.length() == 0 ? "" : ",").append(v.data().utf8String());
        }
        return sb.toString();
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    private static InetSocketAddress address(String s) throws Exception {
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("expected IP:PORT, got " + s);
        }
        return new InetSocketAddress(InetAddress.getByName(s.substring(0, colon)), Integer.parseInt(s.substring(colon + 1)));
    }
}
