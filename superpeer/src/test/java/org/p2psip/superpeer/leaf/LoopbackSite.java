package org.p2psip.superpeer.leaf;

import static org.p2psip.testing.Waits.await;
import static org.p2psip.testing.Waits.until;

import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.link.UdpLinkLayer;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.WireCodec;
import org.p2psip.superpeer.discovery.Ed25519Keys;

/** Real nodes on 127.0.0.1 in this JVM: a bootstrap overlay node, superpeers with leaf services, and leaves. */
final class LoopbackSite implements AutoCloseable {
    static final OverlayConfig LOOPBACK = OverlayConfig.defaults()
            .withRateLimit(0, OverlayConfig.SourceKey.ENDPOINT)
            .withTimeouts(200, 2);

    final EventLoopGroup group = UdpLinkLayer.newEventLoopGroup(2);
    final WireCodec codec = new WireCodec();
    final Random rnd = new Random(7);
    final List<AutoCloseable> closing = new ArrayList<>();
    OverlayNode bootstrap;

    /** A superpeer: its socket, overlay node and leaf service. */
    static final class Superpeer {
        final Ed25519Keys keys;
        final LinkMux mux;
        final OverlayNode overlay;
        LeafService service;

        Superpeer(Ed25519Keys keys, LinkMux mux, OverlayNode overlay) {
            this.keys = keys;
            this.mux = mux;
            this.overlay = overlay;
        }

        LeafDht.SuperpeerRef ref() {
            return new LeafDht.SuperpeerRef(keys.id(), mux.link().localAddress());
        }

        /** A crash: the socket closes first, so not a byte of goodbye leaves. */
        void crash() {
            mux.close();
            service.close();
            overlay.close();
        }
    }

    UdpLinkLayer bind() {
        UdpLinkLayer l = await(UdpLinkLayer.bind(group, new InetSocketAddress("127.0.0.1", 0), LOOPBACK.maxDatagramBytes()));
        closing.add(l);
        return l;
    }

    OverlayNode startBootstrap() {
        bootstrap = new OverlayNode(NodeId.random(rnd), bind(), LOOPBACK, new SecretHashPolicy(), codec,
                new Random(rnd.nextLong())).start();
        await(bootstrap.join(List.of()));
        closing.add(bootstrap);
        return bootstrap;
    }

    Superpeer startSuperpeer(LeafService.Config cfg, Supplier<InetSocketAddress> backup) {
        return startSuperpeer(cfg, backup, java.util.function.UnaryOperator.identity());
    }

    /** A superpeer whose leaf service talks through {@code wrap} of its link (to drop datagrams, say). */
    Superpeer startSuperpeer(LeafService.Config cfg, Supplier<InetSocketAddress> backup,
                             java.util.function.UnaryOperator<org.p2psip.overlay.link.LinkLayer> wrap) {
        Ed25519Keys keys = Ed25519Keys.generate();
        LinkMux mux = new LinkMux(bind());
        OverlayNode n = new OverlayNode(keys.id(), mux.overlay(), LOOPBACK, new SecretHashPolicy(), codec,
                new Random(rnd.nextLong())).start();
        await(n.join(List.of(bootstrap.contact().address())));
        closing.add(n);
        Superpeer sp = new Superpeer(keys, mux, n);
        sp.service = new LeafService(keys, wrap.apply(mux.superpeerSide()), n, cfg, backup).start();
        closing.add(sp.service);
        return sp;
    }

    LeafDht startLeaf(Ed25519Keys keys, Supplier<List<LeafDht.SuperpeerRef>> superpeers) {
        LeafDht leaf = new LeafDht(keys, bind(), superpeers, LeafDht.Config.defaults()).start();
        closing.add(0, leaf);
        return leaf;
    }

    /** A leaf key whose preferred superpeer (rendezvous order) is {@code first}. */
    static Ed25519Keys keysPreferring(LeafDht.SuperpeerRef first, List<LeafDht.SuperpeerRef> all) {
        while (true) {
            Ed25519Keys k = Ed25519Keys.generate();
            if (LeafDht.preferenceOrder(k.id(), all).get(0).id().equals(first.id())) {
                return k;
            }
        }
    }

    @Override
    public void close() {
        for (AutoCloseable c : closing) {
            try {
                c.close();
            } catch (Exception ignored) {
                // already closed by the test (a crashed superpeer)
            }
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
