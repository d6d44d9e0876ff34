package org.p2psip.node;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.p2psip.overlay.OverlayConfig;

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

    /** A TCP port on 127.0.0.1 that was free a moment ago. */
    public static int freeTcpPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, localhost())) {
            return s.getLocalPort();
        }
    }

    /** A UDP port on 127.0.0.1 that was free a moment ago. */
    public static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(localhost(), 0))) {
            return s.getLocalPort();
        }
    }
}
