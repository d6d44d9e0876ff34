package org.p2psip.sip.peer;

import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.link.UdpLinkLayer;
import org.p2psip.overlay.store.StoragePolicy;
import org.p2psip.overlay.wire.WireCodec;
import org.p2psip.storage.NameOwners;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.api.DraftPolicy;

/**
 * A few real overlay nodes on UDP at 127.0.0.1 in this JVM, joined through the first. Every node runs the storage
 * module's verifying policy ({@link DraftPolicy} over {@link SignedRecordPolicy} in tofu mode, each node with its own
 * registry of name owners), as a deployment does: unsigned values, bad signatures and takeovers are refused.
 */
final class LoopbackOverlay implements AutoCloseable {
    static final OverlayConfig LOOPBACK = OverlayConfig.defaults()
            .withRateLimit(0, OverlayConfig.SourceKey.ENDPOINT)
            .withTimeouts(200, 2);

    final EventLoopGroup group = UdpLinkLayer.newEventLoopGroup(1);
    final List<OverlayNode> nodes = new ArrayList<>();

    LoopbackOverlay(int count, long seed) throws Exception {
        this(count, seed, () -> DraftPolicy.of(SignedRecordPolicy.tofu(NameOwners.inMemory())));
    }

    /** With each node's storage policy from {@code policies} (e.g. {@code ca} mode). */
    LoopbackOverlay(int count, long seed, java.util.function.Supplier<StoragePolicy> policies) throws Exception {
        Random rnd = new Random(seed);
        WireCodec codec = new WireCodec();
        for (int i = 0; i < count; i++) {
            UdpLinkLayer link = UdpLinkLayer.bind(group, new InetSocketAddress("127.0.0.1", 0),
                    LOOPBACK.maxDatagramBytes()).get(10, TimeUnit.SECONDS);
            OverlayNode n = new OverlayNode(NodeId.random(rnd), link, LOOPBACK, policies.get(), codec,
                    new Random(rnd.nextLong())).start();
            List<InetSocketAddress> boot = nodes.isEmpty() ? List.of() : List.of(nodes.get(0).contact().address());
            CompletableFuture<Integer> joined = n.join(boot);
            joined.get(30, TimeUnit.SECONDS);
            nodes.add(n);
        }
    }

    OverlayNode node(int i) {
        return nodes.get(i);
    }

    @Override
    public void close() {
        nodes.forEach(OverlayNode::close);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
