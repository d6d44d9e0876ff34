package org.p2psip.nat.ice;

import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.p2psip.nat.dtls.DtlsConfig;
import org.p2psip.nat.dtls.DtlsIdentity;
import org.p2psip.nat.dtls.DtlsLinkLayer;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.link.UdpLinkLayer;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.WireCodec;

/**
 * One overlay node with DTLS links and ICE link setup, for the NAT lab and the nat-matrix benchmark. Two roles:
 *
 * <pre>
 *   IceNodeMain target    --rendezvous IP:PORT [--bind IP]
 *   IceNodeMain requester --rendezvous IP:PORT --peer NODE_ID_HEX [--bind IP] [--links N] [--idle-seconds S]
 *   (both) [--binding-lifetime-ms L]: DTLS keepalives for a NAT binding lifetime of L (every L/2)
 *          [--no-consent-freshness]: no ICE consent checks (RFC 7675) on the link, only the DTLS keepalives
 *          [--port-map]: map each ICE agent's host port at the router (PCP, NAT-PMP, UPnP-IGD) and advertise it
 *          [--no-trickle]: gather every candidate before the Attach message and its answer (as before trickle)
 *          [--regular-nomination]: no aggressive nomination of direct pairs (a second check nominates)
 *          [--relay-grace-ms G]: how long a valid relayed pair waits for a direct one (default 2000)
 *          [--prepared-max-age-ms A]: age of the agent gathered ahead (default 20000; 0 gathers per setup)
 *          [--first-sender-opens]: whichever side sends first opens DTLS after ICE (not the controlled side early)
 * </pre>
 *
 * The rendezvous address is an {@link IceRendezvousMain}'s: its TURN server gives server-reflexive and relayed
 * candidates, its signaling relay carries the Attach. The target prints {@code ready id=HEX}, serves Attach requests
 * and prints a {@code link ...} line per link, until standard input closes. The requester sets up an ICE link to
 * the target, joins the overlay through it, stores and reads a value (overlay RPCs over the DTLS link), checks that
 * the link authenticated the target's node key, prints key=value lines and exits (status 1 on failure, with
 * {@code error=...}). With {@code --links N} it then sets up N-1 more links to the target in the warm JVM and
 * prints their setup times ({@code warm_setup_ms}, {@code warm_ready_ms}).
 */
public final class IceNodeMain {
    static final String DEFAULT_TURN_USER = "lab:lab-secret";

    private IceNodeMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            usage();
        }
        String role = args[0];
        InetSocketAddress rendezvous = null;
        NodeId peer = null;
        InetAddress bind = null;
        String user = DEFAULT_TURN_USER;
        int extraLinks = 0;
        long bindingLifetimeMillis = 0;
        int idleSeconds = 0;
        boolean consent = true;
        boolean portMap = false;
        Duration relayGrace = null;
        Duration preparedMaxAge = null;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--rendezvous" -> rendezvous = parse(args[++i]);
                case "--peer" -> peer = NodeId.fromHex(args[++i]);
                case "--bind" -> bind = InetAddress.getByName(args[++i]);
                case "--user" -> user = args[++i];
                case "--links" -> extraLinks = Integer.parseInt(args[++i]) - 1;
                case "--binding-lifetime-ms" -> bindingLifetimeMillis = Long.parseLong(args[++i]);
                case "--idle-seconds" -> idleSeconds = Integer.parseInt(args[++i]);
                case "--no-consent-freshness" -> consent = false;
                case "--port-map" -> portMap = true;
                case "--relay-grace-ms" -> relayGrace = Duration.ofMillis(Long.parseLong(args[++i]));
                case "--no-trickle" -> System.setProperty(IceLinks.TRICKLE_PROPERTY, "false");
                case "--prepared-max-age-ms" -> preparedMaxAge = Duration.ofMillis(Long.parseLong(args[++i]));
                case "--first-sender-opens" -> System.setProperty(IceLinks.CONTROLLED_OPENS_PROPERTY, "false");
                case "--regular-nomination" -> System.setProperty(IceLinks.AGGRESSIVE_PROPERTY, "false");
                default -> usage();
            }
        }
        if (rendezvous == null || (!role.equals("target") && !role.equals("requester"))
                || (role.equals("requester") && peer == null)) {
            usage();
        }
        int colon = user.indexOf(':');
        IceConfig ice = IceConfig.hostOnly().withStun(rendezvous)
                .withTurn(rendezvous, user.substring(0, colon), user.substring(colon + 1))
                .withTimeouts(Duration.ofSeconds(20), Duration.ofSeconds(20)).withConsentFreshness(consent);
        if (relayGrace != null) {
            ice = ice.withRelayGrace(relayGrace);
        }
        if (preparedMaxAge != null) {
            ice = ice.withPreparedMaxAge(preparedMaxAge);
        }
        EventLoopGroup group = UdpLinkLayer.newEventLoopGroup(1);
        DtlsIdentity identity = DtlsIdentity.generate();
        DtlsConfig dtls = bindingLifetimeMillis > 0 ? DtlsConfig.defaults().withBindingLifetime(bindingLifetimeMillis)
                : DtlsConfig.defaults();
        DtlsLinkLayer layer = DtlsLinkLayer.bind(group, new InetSocketAddress(bind, 0), identity, dtls)
                .get(10, TimeUnit.SECONDS);
        OverlayNode node = new OverlayNode(identity.id(), layer, OverlayConfig.defaults(), new SecretHashPolicy(),
                new WireCodec(), new Random()).start();
        int status = 0;
        org.p2psip.nat.portmap.PortMapper mapper = null;
        if (portMap) {
            mapper = org.p2psip.nat.portmap.PortMapper.create(org.p2psip.nat.portmap.PortMapConfig.defaults());
            System.out.println("port_mapper router=" + mapper.router().getHostAddress());
        }
        try (RelaySignaling signaling = RelaySignaling.connect(identity.id(), rendezvous, 10_000);
                IceLinks links = new IceLinks(identity.id(), layer, signaling, ice,
                        mapper == null ? null : PortMappedCandidates.of(mapper, Duration.ofMinutes(10)))) {
            if (role.equals("target")) {
                node.join(List.of()).get(10, TimeUnit.SECONDS);
                System.out.println("ready id=" + identity.id().toHex());
                System.out.flush();
                Thread watcher = new Thread(() -> reportAccepted(links), "report");
                watcher.setDaemon(true);
                watcher.start();
                try {
                    while (System.in.read() >= 0) {
                        // serve until stdin closes
                    }
                } catch (IOException e) {
                    // stdin gone
                }
                System.out.println("dtls " + layer.stats());
            } else {
                status = request(node, layer, links, peer, idleSeconds);
                if (status == 0 && extraLinks > 0) {
                    status = warmLinks(node, layer, links, peer, extraLinks);
                }
            }
        } finally {
            if (mapper != null) {
                mapper.close();
            }
            node.close();
            layer.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        System.out.flush();
        System.exit(status);
    }

    private static int request(OverlayNode node, DtlsLinkLayer layer, IceLinks links, NodeId peer, int idleSeconds) {
        try {
            long t0 = System.nanoTime();
            IceLink link = links.connect(peer).get(60, TimeUnit.SECONDS);
            System.out.println("link=" + describe(link));
            System.out.println("setup_ms=" + link.setupMillis());
            System.out.println("phases=" + link.phases());
            System.out.println("relayed=" + link.relayed());
            long t1 = System.nanoTime();
            joinThrough(node, link);
            long joinMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1);
            boolean authenticated = link.authenticated();
            System.out.println("authenticated=" + authenticated);
            System.out.println("join_ms=" + joinMs);
            System.out.println("link_ready_ms=" + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            NodeId key = NodeId.ofName("ice lab key " + peer.toHex());
            DhtValue v = SecretHashPolicy.value(Bytes.utf8("over ICE"), Bytes.EMPTY, System.currentTimeMillis() + 600_000);
            var put = node.put(key, v).get(30, TimeUnit.SECONDS);
            List<DhtValue> got = node.get(key).get(30, TimeUnit.SECONDS);
            boolean stored = node.neighbours().get(5, TimeUnit.SECONDS).stream().anyMatch(c -> c.id().equals(peer));
            System.out.println("put=" + put);
            System.out.println("put_stored=" + put.stored());
            System.out.println("get_ok=" + got.contains(v));
            System.out.println("peer_in_routing_table=" + stored);
            // the layer's count first: a datagram is counted by the path before the layer sees it, so read in this
            // order every datagram the layer counted is in the path's count, even while a keepalive arrives
            long layerDatagrams = layer.stats().get(org.p2psip.nat.dtls.DtlsStats.Counter.DATAGRAMS_IN);
            System.out.println("path_datagrams=" + link.datagramsReceived());
            System.out.println("layer_datagrams=" + layerDatagrams);
            System.out.println("dtls " + layer.stats());
            if (idleSeconds > 0) {
                // The link stays idle (only keepalives), then carries an RPC again: through NATs whose UDP bindings
                // time out sooner, the keepalives must have kept the mappings and the DTLS session alive.
                long handshakes = handshakes(layer);
                Thread.sleep(idleSeconds * 1000L);
                // a put needs the peer's acknowledgement over the link (a get could be served from the local replica)
                DhtValue v2 = SecretHashPolicy.value(Bytes.utf8("after idle"), Bytes.EMPTY,
                        System.currentTimeMillis() + 600_000);
                var again = node.put(NodeId.ofName("ice lab idle key " + peer.toHex()), v2).get(60, TimeUnit.SECONDS);
                System.out.println("after_idle_stored=" + again.stored());
                System.out.println("new_handshakes_after_idle=" + (handshakes(layer) - handshakes));
                System.out.println("keepalives_sent=" + layer.stats().get(org.p2psip.nat.dtls.DtlsStats.Counter.KEEPALIVES_SENT));
                System.out.println("keepalive_interval_ms=" + layer.config().keepaliveIntervalMillis());
            }
            System.out.println("done");
            return authenticated && got.contains(v) && stored ? 0 : 1;
        } catch (Exception e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            System.out.println("error=" + c.toString().replace('\n', ' '));
            System.out.println("dtls " + layer.stats());
            return 1;
        }
    }

    private static long handshakes(DtlsLinkLayer layer) {
        return layer.stats().get(org.p2psip.nat.dtls.DtlsStats.Counter.HANDSHAKES_STARTED_CLIENT)
                + layer.stats().get(org.p2psip.nat.dtls.DtlsStats.Counter.HANDSHAKES_STARTED_SERVER);
    }

    /**
     * Joins the overlay through the peer at the link's address. The first RPC also opens the DTLS session, whose
     * handshake can outlast the RPC's retries in a cold JVM on a loaded machine; so a join that heard no answer is
     * tried again (up to 4 times), while the session keeps handshaking.
     */
    private static void joinThrough(OverlayNode node, IceLink link) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                node.join(List.of(link.remote())).get(30, TimeUnit.SECONDS);
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                if (attempt == 4) {
                    throw e;
                }
                System.out.println("join_retry=" + attempt + " " + e.getCause());
            }
        }
    }

    /**
     * Sets up {@code n} more links to the same peer one after the other, in this now warm JVM, and prints their ICE
     * setup times, the times until their DTLS session authenticated the peer, and per link the phases
     * ({@code warm_phases}: Attach sent, answer, gathering done, first valid pair, ICE completed, DTLS authenticated,
     * first overlay ping answered over the link; milliseconds from the start). A one-byte probe datagram makes the
     * link layer open the session (the peer's overlay drops it as a malformed frame); the ping is an overlay RPC.
     */
    private static int warmLinks(OverlayNode node, DtlsLinkLayer layer, IceLinks links, NodeId peer, int n) {
        StringBuilder setup = new StringBuilder();
        StringBuilder ready = new StringBuilder();
        StringBuilder phases = new StringBuilder();
        int failures = 0;
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            try (IceLink link = links.connect(peer).get(60, TimeUnit.SECONDS)) {
                layer.send(link.remote(), new byte[] {0});
                long end = System.currentTimeMillis() + 20_000;
                while (!link.authenticated() && System.currentTimeMillis() < end) {
                    Thread.sleep(1);
                }
                if (!link.authenticated()) {
                    throw new IOException("the DTLS session over " + link + " did not authenticate the peer");
                }
                long readyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                node.ping(link.remote()).get(20, TimeUnit.SECONDS);
                long pingMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                setup.append(setup.length() == 0 ? "" : ",").append(link.setupMillis());
                ready.append(ready.length() == 0 ? "" : ",").append(readyMs);
                IcePhases p = link.phases();
                phases.append(phases.length() == 0 ? "" : ";").append(p.attachSentMillis()).append('/')
                        .append(p.answerMillis()).append('/').append(p.gatheredMillis()).append('/')
                        .append(p.firstValidMillis()).append('/').append(p.completedMillis()).append('/').append(readyMs)
                        .append('/').append(pingMs);
                System.out.println("warm_link=" + describe(link) + " " + p);
            } catch (Exception e) {
                failures++;
                System.out.println("warm_error=" + (e.getCause() != null ? e.getCause() : e));
            }
        }
        System.out.println("warm_setup_ms=" + setup);
        System.out.println("warm_ready_ms=" + ready);
        System.out.println("warm_phases=" + phases);
        System.out.println("warm_failures=" + failures);
        System.out.println("dtls_after_warm " + layer.stats());
        System.out.println("ice_retries=" + links.retries() + " trickle_dropped=" + links.trickleDropped());
        return failures == 0 ? 0 : 1;
    }

    private static void reportAccepted(IceLinks links) {
        int reported = 0;
        while (true) {
            List<CompletableFuture<IceLink>> all = links.accepted();
            for (int i = reported; i < all.size(); i++) {
                try {
                    System.out.println("link " + describe(all.get(i).get(120, TimeUnit.SECONDS)));
                } catch (Exception e) {
                    System.out.println("link_failed " + (e.getCause() != null ? e.getCause() : e));
                }
                System.out.flush();
                reported = i + 1;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    static String describe(IceLink l) {
        return l.localType().sdpName() + "->" + l.remoteType().sdpName() + " local=" + hostPort(l.localAddress())
                + " remote=" + hostPort(l.remote()) + (l.relayed() ? " relayed" : " direct");
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    private static InetSocketAddress parse(String s) throws IOException {
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            throw new IOException("expected IP:PORT, got " + s);
        }
        return new InetSocketAddress(InetAddress.getByName(s.substring(0, colon)), Integer.parseInt(s.substring(colon + 1)));
    }

    private static void usage() {
        System.err.println("usage: IceNodeMain target|requester --rendezvous IP:PORT [--peer NODE_ID_HEX] [--bind IP]");
        System.exit(2);
    }
}
