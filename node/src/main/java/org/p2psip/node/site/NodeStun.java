package org.p2psip.node.site;

import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.p2psip.nat.discovery.FilteringBehavior;
import org.p2psip.nat.discovery.MappingBehavior;
import org.p2psip.nat.discovery.NatDiscovery;
import org.p2psip.nat.discovery.StunBindingProbe;
import org.p2psip.nat.stun.StunClient;
import org.p2psip.nat.stun.StunServer;
import org.p2psip.node.HostPort;
import org.p2psip.superpeer.discovery.NatInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A superpeer's STUN server (so peers behind NATs can learn their reflexive address and NAT behaviour from it) and
 * NAT discovery against another node's (RFC 5780 tests through nat's {@link NatDiscovery}; against a server with one
 * address only the reflexive address and whether there is a NAT are learnt, the behaviours stay unknown).
 *
 * @param port     the STUN server's UDP port: 0 a free one, -1 none
 * @param explicit whether the port was configured (a taken port then fails the start; a default one is skipped
 *                 with a warning)
 * @param server   the STUN server to discover this peer's NAT against, or null for none
 */
public record NodeStun(int port, boolean explicit, InetSocketAddress server) {
    private static final Logger LOG = LoggerFactory.getLogger(NodeStun.class);

    /** No STUN server, no discovery. */
    public static NodeStun off() {
        return new NodeStun(-1, false, null);
    }

    /**
     * Starts the STUN server on {@code address}:{@link #port()} on {@code group} (blocks while binding: never call it
     * on one of {@code group}'s threads). Null when off, or when a default port is taken (logged).
     */
    public StunServer startServer(InetAddress address, EventLoopGroup group, String node) {
        if (port < 0) {
            return null;
        }
        try {
            StunServer s = StunServer.start(StunServer.Config.basic(new InetSocketAddress(address, port)), group);
            LOG.info("node {}: STUN server on UDP {}", node, HostPort.format(s.primaryAddress()));
            return s;
        } catch (Exception e) {
            String why = "the STUN server cannot bind UDP " + HostPort.format(new InetSocketAddress(address, port)) + ": "
                    + (e.getMessage() == null ? e.toString() : e.getMessage());
            if (explicit) {
                throw new IllegalStateException(why + "; choose another --stun-port, or -1 for none", e);
            }
            LOG.warn("node {}: {}; this node serves no STUN (set --stun-port to choose a port)", node, why);
            return null;
        }
    }

    /** What NAT discovery found: the announced behaviour and the reflexive address (null when unknown). */
    public record Found(NatInfo nat, InetSocketAddress reflexive, String note) { }

    /**
     * Runs RFC 5780 discovery against {@link #server()} from sockets on {@code localIp}; completes with UNKNOWN when
     * the server does not answer. With no NAT the reflexive address is null: the peer's own address is.
     */
    public CompletableFuture<Found> discover(InetAddress localIp) {
        if (server == null) {
            return CompletableFuture.completedFuture(new Found(NatInfo.UNKNOWN, null, "no STUN server to ask"));
        }
        // its own thread, closed off it (closing waits for the thread to stop)
        StunClient client = StunClient.create(StunClient.Config.quick(Duration.ofMillis(300)));
        NatDiscovery d = new NatDiscovery(new StunBindingProbe(client, new InetSocketAddress(localIp, 0)), server);
        return d.discover().handleAsync((b, e) -> {
            client.close();
            if (e != null) {
                return new Found(NatInfo.UNKNOWN, null, "discovery failed: " + e.getMessage());
            }
            NatDiscovery.MappingResult m = b.mapping();
            Boolean detected = m.natDetected();
            if (detected == null) {
                return new Found(NatInfo.UNKNOWN, null, m.note());
            }
            if (!detected) {
                return new Found(NatInfo.publicHost(), null, m.note());
            }
            MappingBehavior mb = m.behavior();
            FilteringBehavior fb = b.filtering().behavior();
            return new Found(new NatInfo(mb, fb, true, false), m.mapped().isEmpty() ? null : m.mapped().get(0),
                    (m.note() + " " + b.filtering().note()).strip());
        });
    }
}
