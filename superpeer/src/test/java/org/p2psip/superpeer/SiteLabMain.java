package org.p2psip.superpeer;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.p2psip.nat.discovery.FilteringBehavior;
import org.p2psip.nat.discovery.MappingBehavior;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.link.UdpLinkLayer;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.WireCodec;
import org.p2psip.superpeer.discovery.Ed25519Keys;
import org.p2psip.superpeer.discovery.LanDiscovery;
import org.p2psip.superpeer.discovery.NatInfo;
import org.p2psip.superpeer.discovery.Preference;
import org.p2psip.superpeer.discovery.Role;
import org.p2psip.superpeer.election.ElectionConfig;
import org.p2psip.superpeer.leaf.LeafDht;
import org.p2psip.superpeer.leaf.LeafService;

/**
 * A child JVM of {@link SiteNatLabTest}, run inside a lab namespace.
 * <ul>
 *   <li>{@code bootstrap <ip> <port>}: a public overlay node; prints {@code READY}.</li>
 *   <li>{@code site <host ip> <peers> <bootstrap ip:port> <reflexive ip> <nat: pr|sym> [<first index> <site size>]}:
 *   that many site peers on the host address (static peer list of the whole site; peer i announces on port 5400 + i,
 *   its overlay socket is 5500 + i, its spare CPU grows with i so the highest indexes win the election), printing {@code STATUS} every 200 ms and answering commands on stdin:
 *   {@code put <name> <data>} (from a leaf), {@code get <name>} (from every leaf: {@code GOT <name> <leaves that
 *   read it> <leaves>}), {@code crash} (the superpeer with the most leaves: {@code CRASHED <id>}), {@code mark} (restart the record of
 *   ports that acted as superpeer, {@code spEver}).</li>
 * </ul>
 * STATUS (of this JVM's peers): {@code STATUS sp=<superpeers joined> attached=<leaves with primary and standby>
 * served=<leaves with a primary> leaves=<n> spEver=<ports that were superpeer since the last mark> spPorts=<..>
 * leafPorts=<..> primaries=<the port of each attached leaf's primary superpeer>
 * spPorts=<p,p> leafPorts=<p,...>}.
 */
public final class SiteLabMain {
    static final OverlayConfig OVERLAY = OverlayConfig.defaults().withTimeouts(400, 2);

    public static void main(String[] args) throws Exception {
        EventLoopGroup links = UdpLinkLayer.newEventLoopGroup(2);
        if (args[0].equals("bootstrap")) {
            OverlayNode n = new OverlayNode(NodeId.random(new Random()), UdpLinkLayer.bind(links,
                    new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2])),
                    OVERLAY.maxDatagramBytes()).get(10, TimeUnit.SECONDS), OVERLAY, new SecretHashPolicy(),
                    new WireCodec(), new Random()).start();
            n.join(List.of()).get();
            System.out.println("READY");
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
        InetAddress host = InetAddress.getByName(args[1]);
        int count = Integer.parseInt(args[2]);
        String[] b = args[3].split(":");
        InetSocketAddress boot = new InetSocketAddress(InetAddress.getByName(b[0]), Integer.parseInt(b[1]));
        InetSocketAddress reflexive = new InetSocketAddress(InetAddress.getByName(args[4]), 1);
        NatInfo nat = args[5].equals("sym")
                ? NatInfo.behindNat(MappingBehavior.ADDRESS_AND_PORT_DEPENDENT, FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT)
                : NatInfo.behindNat(MappingBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT);
        int offset = args.length > 6 ? Integer.parseInt(args[6]) : 0;
        int total = args.length > 7 ? Integer.parseInt(args[7]) : count;
        EventLoopGroup lan = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        List<InetSocketAddress> disc = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            disc.add(new InetSocketAddress(host, 5400 + i));
        }
        // the default timings (500 ms, expiry after 3 missed), a longer warm-up: JVMs start slowly on a loaded machine
        SitePeer.Config cfg = new SitePeer.Config(new SiteNode.Config(Duration.ofMillis(500), 3, 4,
                ElectionConfig.DEFAULT), List.of(boot), OVERLAY, LeafService.Config.defaults(), LeafDht.Config.defaults());
        List<SitePeer> peers = new CopyOnWriteArrayList<>();
        for (int i = offset; i < offset + count; i++) {
            int cpu = 100 + 50 * i; // the highest index is the best candidate
            List<InetSocketAddress> others = new ArrayList<>(disc);
            others.remove(i);
            peers.add(SitePeer.start(links, lan, Ed25519Keys.generate(), new InetSocketAddress(host, 5500 + i),
                    a -> new SiteNode.SelfInfo(List.of(a), 26, reflexive, nat, Preference.AUTO, cpu, 512, 10_000),
                    LanDiscovery.Config.staticOnly(disc.get(i), others), cfg, SecretHashPolicy::new, new WireCodec()));
        }
        Map<NodeId, Role> roles = new java.util.HashMap<>();
        java.util.Set<Integer> everSp = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Thread status = new Thread(() -> {
            while (true) {
                for (SitePeer p : peers) {
                    Role r = p.role();
                    if (r == Role.SUPERPEER) {
                        everSp.add(p.address().getPort());
                    }
                    if (roles.put(p.id(), r) != r) {
                        System.out.println("ROLE port " + p.address().getPort() + " " + r + " superpeers "
                                + p.site().superpeers().stream().map(NodeId::shortHex).toList() + " site "
                                + p.site().site().size());
                    }
                }
                List<SitePeer> sps = peers.stream().filter(p -> p.role() == Role.SUPERPEER && p.overlayNode() != null
                        && p.overlayNode().isJoined()).toList();
                List<SitePeer> leaves = peers.stream().filter(p -> p.role() != Role.SUPERPEER).toList();
                // a leaf's superpeers may live in another JVM: attached = a primary and a standby link are up
                long attached = leaves.stream().filter(l -> l.leafDht() != null && l.leafDht().primary().isPresent()
                        && l.leafDht().standby().isPresent()).count();
                long served = leaves.stream().filter(l -> l.leafDht() != null && l.leafDht().primary().isPresent())
                        .count();
                System.out.println("STATUS sp=" + sps.size() + " attached=" + attached + " served=" + served
                        + " leaves=" + leaves.size() + " spEver=" + everSp.stream().sorted().map(String::valueOf)
                        .collect(Collectors.joining(","))
                        + " spPorts=" + ports(sps) + " leafPorts=" + ports(leaves) + " primaries="
                        + leaves.stream().filter(l -> l.leafDht() != null && l.leafDht().primary().isPresent())
                        .map(l -> String.valueOf(l.leafDht().primary().get().address().getPort()))
                        .collect(Collectors.joining(",")));
                System.out.flush();
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        status.setDaemon(true);
        status.start();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] c = line.trim().split(" ");
            try {
                switch (c[0]) {
                    case "put" -> {
                        List<SitePeer> leaves = leaves(peers);
                        SitePeer from = leaves.get(new Random().nextInt(leaves.size()));
                        DhtValue v = SecretHashPolicy.value(Bytes.utf8(c[2]), Bytes.EMPTY,
                                System.currentTimeMillis() + 3_600_000);
                        from.put(NodeId.ofName(c[1]), v).get(30, TimeUnit.SECONDS);
                        System.out.println("PUT " + c[1] + " ok");
                    }
                    case "get" -> {
                        List<SitePeer> leaves = leaves(peers);
                        List<java.util.concurrent.CompletableFuture<List<DhtValue>>> gets = new ArrayList<>();
                        for (SitePeer l : leaves) {
                            gets.add(l.get(NodeId.ofName(c[1])));
                        }
                        int ok = 0;
                        for (var g : gets) {
                            if (g.get(30, TimeUnit.SECONDS).stream().anyMatch(v -> v.data().utf8String().equals(c[2]))) {
                                ok++;
                            }
                        }
                        System.out.println("GOT " + c[1] + " " + ok + " " + leaves.size());
                    }
                    case "mark" -> {
                        everSp.clear();
                        peers.stream().filter(p -> p.role() == Role.SUPERPEER).forEach(p -> everSp.add(p.address().getPort()));
                        System.out.println("MARKED");
                    }
                    case "crash" -> {
                        Map<NodeId, Long> load = leaves(peers).stream().filter(l -> l.leafDht().primary().isPresent())
                                .collect(Collectors.groupingBy(l -> l.leafDht().primary().get().id(),
                                        Collectors.counting()));
                        NodeId busiest = Collections.max(load.entrySet(), Map.Entry.comparingByValue()).getKey();
                        SitePeer victim = peers.stream().filter(p -> p.id().equals(busiest)).findFirst().orElseThrow();
                        victim.crash();
                        peers.remove(victim);
                        System.out.println("CRASHED " + busiest.shortHex());
                    }
                    default -> System.out.println("ERROR unknown command " + line);
                }
            } catch (Exception e) {
                System.out.println("ERROR " + line + ": " + e);
            }
            System.out.flush();
        }
        System.exit(0);
    }

    private static List<SitePeer> leaves(List<SitePeer> peers) {
        return peers.stream().filter(p -> p.role() == Role.LEAF && p.leafDht() != null).toList();
    }

    private static String ports(List<SitePeer> ps) {
        return ps.stream().map(p -> String.valueOf(p.address().getPort())).collect(Collectors.joining(","));
    }
}
