package org.p2psip.overlay.cluster;

import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.link.UdpLinkLayer;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.WireCodec;

/** Real overlay nodes on UDP sockets at 127.0.0.1, in this JVM, sharing one event loop group. */
final class Cluster implements AutoCloseable {
    /** Loopback-friendly tuning: no rate limit, short RPC timeouts. */
    static final OverlayConfig LOOPBACK = OverlayConfig.defaults()
            .withRateLimit(0, OverlayConfig.SourceKey.ENDPOINT)
            .withTimeouts(300, 3);

    final EventLoopGroup group;
    final WireCodec codec = new WireCodec();
    final Random rnd;
    final List<OverlayNode> nodes = new ArrayList<>();
    private final boolean ownGroup;

    Cluster(long seed) {
        this(UdpLinkLayer.newEventLoopGroup(2), true, seed);
    }

    Cluster(EventLoopGroup group, boolean ownGroup, long seed) {
        this.group = group;
        this.ownGroup = ownGroup;
        this.rnd = new Random(seed);
    }

    /** Starts a node on a fresh port (or {@code port}) without joining it. */
    OverlayNode newNode(NodeId id, OverlayConfig cfg, int port) {
        UdpLinkLayer link = await(UdpLinkLayer.bind(group, new InetSocketAddress("127.0.0.1", port), cfg.maxDatagramBytes()));
        return new OverlayNode(id, link, cfg, new SecretHashPolicy(), codec, new Random(rnd.nextLong())).start();
    }

    /** Starts and joins a node through the first node of the cluster (or makes it the first). */
    OverlayNode add(NodeId id, OverlayConfig cfg) {
        OverlayNode n = newNode(id, cfg, 0);
        joinThroughBootstrap(n);
        nodes.add(n);
        return n;
    }

    void joinThroughBootstrap(OverlayNode n) {
        List<InetSocketAddress> boot = nodes.isEmpty() ? List.of() : List.of(nodes.get(0).contact().address());
        await(n.join(boot));
    }

    /** Starts {@code count} nodes with random ids: the first few one by one, the rest in parallel batches. */
    Cluster grow(int count, OverlayConfig cfg) {
        int target = nodes.size() + count;
        while (nodes.size() < Math.min(target, 4)) {
            add(NodeId.random(rnd), cfg);
        }
        while (nodes.size() < target) {
            int batch = Math.min(10, target - nodes.size());
            List<OverlayNode> started = new ArrayList<>();
            List<CompletableFuture<Integer>> joins = new ArrayList<>();
            for (int i = 0; i < batch; i++) {
                OverlayNode n = newNode(NodeId.random(rnd), cfg, 0);
                started.add(n);
                joins.add(n.join(List.of(nodes.get(0).contact().address())));
            }
            for (CompletableFuture<Integer> j : joins) {
                await(j);
            }
            nodes.addAll(started);
        }
        return this;
    }

    OverlayNode random() {
        return nodes.get(rnd.nextInt(nodes.size()));
    }

    static <T> T await(CompletableFuture<T> f) {
        return await(f, 30);
    }

    static <T> T await(CompletableFuture<T> f, int seconds) {
        try {
            return f.get(seconds, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new IllegalStateException("no result within " + seconds + " s", e);
        }
    }

    /**
     * Runs the operations with at most {@code inFlight} pending at once and returns their futures, all
     * completed (successfully or not).
     */
    static <T> List<CompletableFuture<T>> bounded(List<Supplier<CompletableFuture<T>>> ops, int inFlight) {
        Semaphore permits = new Semaphore(inFlight);
        List<CompletableFuture<T>> out = new ArrayList<>();
        for (Supplier<CompletableFuture<T>> op : ops) {
            permits.acquireUninterruptibly();
            CompletableFuture<T> f;
            try {
                f = op.get();
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            f.whenComplete((v, e) -> permits.release());
            out.add(f);
        }
        permits.acquireUninterruptibly(inFlight);
        permits.release(inFlight);
        return out;
    }

    @Override
    public void close() {
        for (OverlayNode n : nodes) {
            n.close();
        }
        nodes.clear();
        if (ownGroup) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
