package org.p2psip.nat.dtls;

import static org.junit.jupiter.api.Assertions.fail;

import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.p2psip.overlay.link.UdpLinkLayer;

/** Layers on 127.0.0.1 and what they receive. */
final class DtlsTestSupport implements AutoCloseable {
    static final InetSocketAddress ANY_LOOPBACK = new InetSocketAddress("127.0.0.1", 0);

    record Received(InetSocketAddress from, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** A layer and its inbox. */
    static final class Node {
        final DtlsLinkLayer layer;
        final DtlsIdentity identity;
        final LinkedBlockingQueue<Received> inbox = new LinkedBlockingQueue<>();

        Node(DtlsLinkLayer layer, DtlsIdentity identity) {
            this.layer = layer;
            this.identity = identity;
            layer.setReceiver((from, d, len) -> inbox.add(new Received(from, java.util.Arrays.copyOf(d, len))));
        }

        InetSocketAddress address() {
            return layer.localAddress();
        }

        void send(Node to, String text) {
            layer.send(to.address(), text.getBytes(StandardCharsets.UTF_8));
        }

        void sendTo(InetSocketAddress to, String text) {
            layer.send(to, text.getBytes(StandardCharsets.UTF_8));
        }

        Received take(long millis) throws InterruptedException {
            Received r = inbox.poll(millis, TimeUnit.MILLISECONDS);
            if (r == null) {
                fail(layer + " received nothing within " + millis + " ms; stats " + layer.stats());
            }
            return r;
        }

        long stat(DtlsStats.Counter c) {
            return layer.stats().get(c);
        }
    }

    final EventLoopGroup group = UdpLinkLayer.newEventLoopGroup(2);
    private final List<AutoCloseable> closeables = new ArrayList<>();

    Node node(DtlsConfig config) throws Exception {
        return node(DtlsIdentity.generate(), config);
    }

    Node node(DtlsIdentity identity, DtlsConfig config) throws Exception {
        return node(identity, config, ANY_LOOPBACK);
    }

    Node node(DtlsIdentity identity, DtlsConfig config, InetSocketAddress address) throws Exception {
        DtlsLinkLayer layer = DtlsLinkLayer.bind(group, address, identity, config).get(10, TimeUnit.SECONDS);
        closeables.add(layer);
        return new Node(layer, identity);
    }

    <T extends AutoCloseable> T track(T c) {
        closeables.add(c);
        return c;
    }

    static DtlsConfig quick() {
        return DtlsConfig.defaults().withHandshake(5_000, 200, 4);
    }

    static void await(String what, long millis, BooleanSupplier condition) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > end) {
                fail("timed out after " + millis + " ms waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    @Override
    public void close() {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                // ignore
            }
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
