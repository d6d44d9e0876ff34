package org.p2psip.node.links;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.p2psip.nat.ice.IceLink;
import org.p2psip.node.HostPort;
import org.p2psip.node.Peer;
import org.p2psip.node.accounts.DigestAccounts;
import org.p2psip.node.identity.NodeKeys;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.store.SecretHashPolicy;

/**
 * A plain superpeer {@link Peer} (default DTLS links) in a child JVM inside a NAT lab namespace, driven line by line
 * from standard input:
 *
 * <pre>
 *   LabPeerMain --bind IP [--port P] [--bootstrap IP:PORT] [--turn-account USER:PASS] [--link-turn USER:PASS]
 *               [--turn-on] [--k K] [--id-prefix BITS] [--role auto|leaf --site-port P --site-peer IP:PORT]
 * </pre>
 *
 * {@code --role auto} or {@code leaf} makes it a site peer (site mode, no multicast) with LAN discovery on
 * {@code --site-port} and the static site list {@code --site-peer} (repeatable); {@code site} prints its role, its site's
 * superpeers and its primary superpeer.
 * {@code --turn-account} runs the peer's TURN relay ({@code --turn on}) with that SIP account as its login
 * ({@code --turn-on}: with no account, so only the relay's grants to other superpeers log in);
 * {@code --link-turn} gives the peer's ICE links that account on the bootstrap's relay; {@code --k} sets the overlay's
 * bucket size and replicas (a small k makes routing tables incomplete, as in a large overlay); {@code --id-prefix}
 * makes node keys until the node id starts with those bits ({@code 0} and {@code 1} characters). Prints
 * {@code ready id=HEX address=IP:PORT}; each command answers key=value lines, then {@code ok} or {@code error=...}:
 * {@code neighbours}, {@code links} (counts by kind, attach counters, one {@code ice_link=} line per ICE link),
 * {@code metrics} (the {@code p2psip_links} samples), {@code put NAME TEXT}, {@code get NAME}, {@code local NAME},
 * {@code lookup HEX} (the k closest nodes to that id found by a lookup, and its time), {@code counters} (the
 * overlay's RPC timeouts and datagrams sent), {@code quit}.
 */
public final class LabPeerMain {
    private LabPeerMain() {
    }

    public static void main(String[] args) throws Exception {
        String bind = null;
        int port = 4222;
        String bootstrap = null;
        String turnAccount = null;
        String linkTurn = null;
        int k = 0;
        boolean turnOn = false;
        String idPrefix = "";
        String role = null;
        int sitePort = org.p2psip.node.site.SiteOptions.DEFAULT_PORT;
        List<java.net.InetSocketAddress> sitePeers = new java.util.ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--bind" -> bind = args[++i];
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--bootstrap" -> bootstrap = args[++i];
                case "--turn-account" -> turnAccount = args[++i];
                case "--link-turn" -> linkTurn = args[++i];
                case "--turn-on" -> turnOn = true;
                case "--k" -> k = Integer.parseInt(args[++i]);
                case "--id-prefix" -> idPrefix = args[++i];
                case "--role" -> role = args[++i];
                case "--site-port" -> sitePort = Integer.parseInt(args[++i]);
                case "--site-peer" -> sitePeers.add(HostPort.parse(args[++i], sitePort));
                default -> {
                    System.out.println("error=unknown option " + args[i]);
                    System.exit(2);
                }
            }
        }
        Path dir = Files.createTempDirectory("lab-peer");
        withIdPrefix(dir, idPrefix);
        OverlayConfig config = k > 0 ? OverlayConfig.defaults().withReplicas(k).withK(k)
                : OverlayConfig.defaults();
        Peer.Builder b = Peer.builder().dataDir(dir).bindAddress(InetAddress.getByName(bind)).port(port)
                .controlPort(-1).xmlrpcPort(-1).metricsPort(-1).persistent(false)
                .config(config);
        if (bootstrap != null) {
            b.bootstrap(HostPort.parse(bootstrap, Peer.DEFAULT_PORT));
        }
        if (turnAccount != null) {
            String[] up = turnAccount.split(":", 2);
            DigestAccounts.put(dir.resolve(DigestAccounts.FILE_NAME),
                    DigestAccounts.account(up[0], "lab.example", up[1].toCharArray()));
            b.turn(org.p2psip.node.site.TurnMode.ON);
        }
        if ("auto".equals(role)) {
            b.site(org.p2psip.node.site.SiteOptions.auto(sitePeers, sitePort, false));
        } else if ("leaf".equals(role)) {
            b.site(org.p2psip.node.site.SiteOptions.leaf(sitePeers, sitePort, false));
        }
        if (turnOn) {
            b.turn(org.p2psip.node.site.TurnMode.ON);
        }
        if (linkTurn != null) {
            String[] up = linkTurn.split(":", 2);
            b.linkTurn(new LinkTurn(null, up[0], up[1]));
        }
        Peer peer = b.build();
        peer.start().get(90, TimeUnit.SECONDS);
        System.out.println("ready id=" + peer.id().toHex() + " address=" + bind + ":" + peer.overlayAddress().getPort());
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            String[] t = line.strip().split(" ", 3);
            try {
                if (t[0].equals("quit")) {
                    break;
                }
                command(peer, t);
                System.out.println("ok");
            } catch (Exception e) {
                System.out.println("error=" + e.toString().replace('\n', ' '));
            }
            System.out.flush();
        }
        peer.close();
        System.exit(0);
    }

    /** Makes node keys in {@code dir} until the node id starts with {@code bits}. */
    private static void withIdPrefix(Path dir, String bits) throws java.io.IOException {
        for (int attempt = 0; ; attempt++) {
            NodeId id = NodeKeys.loadOrCreate(dir).id();
            boolean match = true;
            for (int i = 0; i < bits.length(); i++) {
                match &= id.bit(i) == (bits.charAt(i) == '1');
            }
            if (match) {
                return;
            }
            if (attempt > 10_000) {
                throw new IllegalStateException("no node id with prefix " + bits);
            }
            Files.delete(dir.resolve(NodeKeys.PRIVATE_FILE));
            Files.deleteIfExists(dir.resolve(NodeKeys.PUBLIC_FILE));
        }
    }

    private static void command(Peer peer, String[] t) throws Exception {
        switch (t[0]) {
            case "neighbours" -> {
                for (Contact c : peer.overlay().neighbours().get(10, TimeUnit.SECONDS)) {
                    System.out.println("neighbour=" + c.id().toHex() + "@" + HostPort.format(c.address()));
                }
            }
            case "links" -> {
                LinkCounts c = peer.linkCounts().get(10, TimeUnit.SECONDS);
                System.out.println("links_direct=" + c.direct());
                System.out.println("links_ice=" + c.ice());
                System.out.println("links_relayed=" + c.relayed());
                Attacher.Stats a = peer.links().attachStats();
                System.out.println("attach_linked=" + a.linked());
                System.out.println("attach_failed=" + a.failed());
                System.out.println("attach_unanswered_linked=" + a.unansweredLinked());
                DirectoryRelay relay = peer.links().directoryRelay();
                System.out.println("directory_relay=" + (relay == null ? "none" : relay.relay()));
                System.out.println("ice_turn=" + peer.links().secure().ice().config().turnServer());
                System.out.println("glare_refused=" + peer.links().secure().ice().glareRefused());
                System.out.println("glare_yielded=" + peer.links().secure().ice().glareYielded());
                System.out.println("setups_shared=" + peer.links().secure().ice().setupsShared());
                List<IceLink> ice = peer.links().secure().ice().links();
                System.out.println("ice_links=" + ice.size());
                for (IceLink l : ice) {
                    System.out.println("ice_link=" + l.peer().toHex() + " relayed=" + l.relayed() + " authenticated="
                            + l.authenticated() + " controlling=" + l.controlling() + " received="
                            + l.datagramsReceived() + " " + l);
                }
            }
            case "metrics" -> {
                peer.metrics().refresh().get(10, TimeUnit.SECONDS);
                String text = new String(peer.metrics().scrape(), StandardCharsets.UTF_8);
                text.lines().filter(l -> l.startsWith("p2psip_links{")).forEach(l -> System.out.println(
                        "metric_" + l.substring(l.indexOf('"') + 1, l.lastIndexOf('"')) + "=" + l.substring(l.lastIndexOf(' ') + 1)));
            }
            case "site" -> {
                org.p2psip.superpeer.SiteStatus st = peer.siteStatus();
                System.out.println("site_role=" + st.role());
                System.out.println("site_superpeers=" + String.join(",", st.superpeers().stream().map(NodeId::toHex).toList()));
                System.out.println("site_primary=" + (st.primary() == null ? "none" : st.primary().toHex()));
            }
            case "lookup" -> {
                long t0 = System.nanoTime();
                List<Contact> found = peer.overlay().findClosest(NodeId.fromHex(t[1]), peer.overlay().config().k())
                        .get(60, TimeUnit.SECONDS);
                System.out.println("lookup_ms=" + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
                System.out.println("lookup_ids=" + String.join(",", found.stream().map(c -> c.id().toHex()).toList()));
            }
            case "services" -> {
                for (org.p2psip.storage.api.ServiceDirectory.Registration r : peer.services()
                        .hosts(org.p2psip.storage.Namespaces.P2P_SIP).get(30, TimeUnit.SECONDS)) {
                    for (org.p2psip.storage.DhtService.ServiceHost h : r.hosts()) {
                        System.out.println("service=" + r.id().shortHex() + " " + h.service() + " " + h.uri() + " id="
                                + h.id());
                    }
                }
            }
            case "counters" -> {
                System.out.println("rpc_timeouts=" + peer.overlay().counters().rpcTimeouts());
                System.out.println("datagrams_out=" + peer.overlay().counters().datagramsOut());
            }
            case "put" -> {
                DhtValue v = SecretHashPolicy.value(Bytes.utf8(t[2]), Bytes.EMPTY, System.currentTimeMillis() + 600_000);
                System.out.println("put_stored=" + peer.dht().put(NodeId.ofName(t[1]), v).get(30, TimeUnit.SECONDS).stored());
            }
            case "get" -> {
                List<DhtValue> vs = peer.dht().get(NodeId.ofName(t[1])).get(30, TimeUnit.SECONDS);
                System.out.println("get_values=" + String.join(",", vs.stream().map(v -> v.data().utf8String()).toList()));
            }
            case "local" -> {
                List<DhtValue> vs = peer.overlay().localValues(NodeId.ofName(t[1])).get(10, TimeUnit.SECONDS);
                System.out.println("local_values=" + String.join(",", vs.stream().map(v -> v.data().utf8String()).toList()));
            }
            default -> throw new IllegalArgumentException("unknown command " + t[0]);
        }
    }
}
