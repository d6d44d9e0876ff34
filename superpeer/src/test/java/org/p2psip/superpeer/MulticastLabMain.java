package org.p2psip.superpeer;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.time.Duration;
import java.util.List;
import org.p2psip.overlay.NodeId;
import org.p2psip.superpeer.discovery.Ed25519Keys;
import org.p2psip.superpeer.discovery.LanDiscovery;
import org.p2psip.superpeer.discovery.NatInfo;
import org.p2psip.superpeer.discovery.Preference;
import org.p2psip.superpeer.election.ElectionConfig;

/**
 * A site node that discovers by multicast only, run by {@link MulticastNamespaceTest} inside a network namespace.
 * Args: overlay IP, interface name, ipv6 (true/false), seconds to run. Prints one status line per 100 ms:
 * {@code STATUS <own id> <site size> <superpeer ids comma-separated>}.
 */
public final class MulticastLabMain {
    public static void main(String[] args) throws Exception {
        InetAddress ip = InetAddress.getByName(args[0]);
        NetworkInterface iface = NetworkInterface.getByName(args[1]);
        boolean ipv6 = Boolean.parseBoolean(args[2]);
        long seconds = Long.parseLong(args[3]);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        SiteNode.SelfInfo self = new SiteNode.SelfInfo(List.of(new InetSocketAddress(ip, 6000)), 24, null,
                NatInfo.publicHost(), Preference.AUTO, 500, 100, 100);
        LanDiscovery.Config dc = new LanDiscovery.Config(
                new InetSocketAddress(InetAddress.getByName("0.0.0.0"), LanDiscovery.PORT), List.of(), iface, ipv6,
                Duration.ofSeconds(1), 64);
        SiteNode node = SiteNode.start(group, Ed25519Keys.generate(),
                new SiteNode.Config(Duration.ofMillis(200), 3, 3, ElectionConfig.DEFAULT), () -> self, dc, null, null);
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            System.out.println("STATUS " + node.id().toHex() + " " + node.site().size() + " "
                    + String.join(",", node.superpeers().stream().map(NodeId::toHex).toList()) + " role="
                    + node.role() + " v4=" + node.discovery().acceptedV4() + " v6=" + node.discovery().acceptedV6()
                    + " dup=" + node.discovery().duplicates() + " replayed=" + node.discovery().verifier().replayed());
            System.out.flush();
            Thread.sleep(100);
        }
        node.close();
        group.shutdownGracefully().syncUninterruptibly();
    }
}
