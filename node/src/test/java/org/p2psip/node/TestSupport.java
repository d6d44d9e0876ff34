package org.p2psip.node;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.xmlrpc.client.XmlRpcClient;
import org.apache.xmlrpc.client.XmlRpcClientConfigImpl;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.testing.Ports;

/** Helpers for tests that run real peers on 127.0.0.1. */
public final class TestSupport {
    /** All test peers share 127.0.0.1, so rate limits and quotas count per address and port, and are off. */
    public static final OverlayConfig CONFIG = OverlayConfig.defaults()
            .withRateLimit(0, OverlayConfig.SourceKey.ENDPOINT);

    private TestSupport() { }

    public static InetAddress localhost() {
        return InetAddress.getLoopbackAddress();
    }

    /** A peer on 127.0.0.1 with ephemeral UDP, control, XML-RPC and metrics ports. */
    public static Peer.Builder peer(Path dataDir, InetSocketAddress... bootstrap) {
        return Peer.builder()
                .dataDir(dataDir)
                .bindAddress(localhost())
                .port(0)
                .controlPort(0)
                .xmlrpcPort(0)
                .metricsPort(0)
                .config(CONFIG)
                .bootstrap(bootstrap);
    }

    /**
     * Starts {@code n} peers on 127.0.0.1 with data directories {@code dir/p0}, {@code dir/p1}..., each bootstrapping
     * through the first, and adds each to {@code into} before starting it, so the caller's clean-up closes whatever
     * started. {@code customize} adjusts every builder (identity for none).
     */
    public static void startCluster(List<Peer> into, Path dir, int n, UnaryOperator<Peer.Builder> customize)
            throws Exception {
        Peer first = customize.apply(peer(dir.resolve("p0"))).build();
        into.add(first);
        first.start().get(20, TimeUnit.SECONDS);
        for (int i = 1; i < n; i++) {
            Peer p = customize.apply(peer(dir.resolve("p" + i), first.overlayAddress())).build();
            into.add(p);
            p.start().get(20, TimeUnit.SECONDS);
        }
    }

    /** Apache XML-RPC's client (not our code) for the gateway at {@code port} on 127.0.0.1. */
    public static XmlRpcClient xmlRpcClient(int port) throws Exception {
        XmlRpcClientConfigImpl config = new XmlRpcClientConfigImpl();
        config.setServerURL(new URL("http://127.0.0.1:" + port + "/RPC2"));
        config.setConnectionTimeout(10_000);
        config.setReplyTimeout(40_000);
        XmlRpcClient c = new XmlRpcClient();
        c.setConfig(config);
        return c;
    }

    /** A TCP port on 127.0.0.1 that was free a moment ago, outside the ephemeral range ({@link Ports}). */
    public static int freeTcpPort() throws IOException {
        return Ports.freeTcpPort();
    }

    /** A UDP port on 127.0.0.1 that was free a moment ago, outside the ephemeral range ({@link Ports}). */
    public static int freeUdpPort() throws IOException {
        return Ports.freeUdpPort();
    }
}
