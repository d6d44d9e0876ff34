package org.p2psip.nat.stun;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.p2psip.nat.udp.UdpSockets;

/**
 * An asynchronous STUN client over UDP with RFC 8489 retransmissions: the request is sent at 0, RTO, 3 RTO, 7 RTO,
 * ... ({@code Rc} transmissions in all), and the transaction fails {@code Rm} x RTO after the last one. With the
 * defaults (RTO 500 ms, Rc 7, Rm 16) that is 39.5 s.
 *
 * <p>All sockets of one client share a transaction table, so a response that arrives on another of its sockets
 * than the one that sent the request (RESPONSE-PORT, as the binding-lifetime probe uses) still completes it.
 * Responses that fail to decode, match no transaction, or fail integrity are dropped and counted.
 */
public final class StunClient implements AutoCloseable {

    /**
     * Retransmission settings.
     *
     * @param rto initial retransmission timeout
     * @param maxTransmissions Rc, the number of transmissions
     * @param finalWaitFactor Rm, how many RTOs to wait after the last transmission
     * @param fingerprint whether requests carry FINGERPRINT
     * @param software SOFTWARE for requests, or null
     */
    public record Config(Duration rto, int maxTransmissions, int finalWaitFactor, boolean fingerprint,
            String software) {
        public Config {
            Objects.requireNonNull(rto, "rto");
            if (rto.isNegative() || rto.isZero() || maxTransmissions < 1 || finalWaitFactor < 1) {
                throw new IllegalArgumentException("RTO, Rc and Rm must be positive");
            }
        }

        /** RFC 8489's defaults: RTO 500 ms, Rc 7, Rm 16, FINGERPRINT on. */
        public static Config defaults() {
            return new Config(Duration.ofMillis(500), 7, 16, true, null);
        }

        /** Short timers for tests and labs where loss is rare: the transaction gives up after about 8.5 RTO. */
        public static Config quick(Duration rto) {
            return new Config(rto, 3, 4, true, null);
        }

        /** Total time before a transaction that gets no answer fails. */
        public Duration timeout() {
            long last = (1L << (maxTransmissions - 1)) - 1; // in RTOs
            return rto.multipliedBy(last + finalWaitFactor);
        }
    }

    private final Config config;
    private final EventLoopGroup group;
    private final boolean ownGroup;
    private final Map<TransactionId, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong dropped = new AtomicLong();

    private StunClient(Config config, EventLoopGroup group, boolean ownGroup) {
        this.config = config;
        this.group = group;
        this.ownGroup = ownGroup;
    }

    /** A client with its own one-thread event loop group. */
    public static StunClient create(Config config) {
        return new StunClient(config, UdpSockets.newGroup(1, "stun-client"), true);
    }

    /** A client on a shared event loop group, which it does not shut down. */
    public static StunClient create(Config config, EventLoopGroup group) {
        return new StunClient(config, group, false);
    }

    public Config config() {
        return config;
    }

    /** Datagrams received and dropped: not STUN, no matching transaction, or failed integrity. */
    public long dropped() {
        return dropped.get();
    }

    /** Binds a socket ({@code port 0} picks one). */
    public CompletableFuture<Socket> open(InetSocketAddress local) {
        return UdpSockets.bind(group, local, 1 << 18, (ch, sender, bytes) -> onDatagram(ch, sender, bytes)).thenApply(Socket::new);
    }

    /** One bound UDP socket of this client. */
    public final class Socket implements AutoCloseable {
        private final Channel channel;

        private Socket(Channel channel) {
            this.channel = channel;
        }

        public InetSocketAddress localAddress() {
            return (InetSocketAddress) channel.localAddress();
        }

        /** Sends {@code request} (FINGERPRINT per config, no integrity) and retransmits until answered. */
        public CompletableFuture<StunResponse> send(StunMessage request, InetSocketAddress server) {
            return send(request, server, null);
        }

        /**
         * Sends {@code request}, signed with MESSAGE-INTEGRITY under {@code key} when not null; a success response
         * must then carry valid integrity or it is dropped. Fails with {@link StunTimeoutException} when no
         * response arrives in time.
         */
        public CompletableFuture<StunResponse> send(StunMessage request, InetSocketAddress server, byte[] key) {
            if (request.messageClass() != StunClass.REQUEST) {
                throw new IllegalArgumentException("not a request: " + request);
            }
            StunMessage toSend = request;
            if (config.software() != null && !request.has(StunAttribute.Software.class)) {
                StunMessage.Builder b = StunMessage.builder(request.method(), StunClass.REQUEST, request.transactionId());
                request.attributes().forEach(b::add);
                toSend = b.add(new StunAttribute.Software(config.software())).build();
            }
            StunCodec.EncodeOptions opts = StunCodec.EncodeOptions.plain().withFingerprint(config.fingerprint());
            if (key != null) {
                opts = opts.withIntegrity(key, true, false);
            }
            byte[] wire = StunCodec.encode(toSend, opts);
            Pending p = new Pending(channel, server, wire, key);
            if (pending.putIfAbsent(request.transactionId(), p) != null) {
                throw new IllegalStateException("transaction already in progress: " + request.transactionId());
            }
            p.future.whenComplete((r, e) -> {
                pending.remove(request.transactionId(), p);
                ScheduledFuture<?> t = p.timer;
                if (t != null) {
                    t.cancel(false);
                }
            });
            channel.eventLoop().execute(() -> transmit(request.transactionId(), p));
            return p.future;
        }

        /** A Binding request to {@code server} with the given attributes. */
        public CompletableFuture<StunResponse> binding(InetSocketAddress server, StunAttribute... attributes) {
            StunMessage.Builder b = StunMessage.bindingRequest();
            for (StunAttribute a : attributes) {
                b.add(a);
            }
            return send(b.build(), server);
        }

        @Override
        public void close() {
            channel.close().syncUninterruptibly();
        }
    }

    private final class Pending {
        final Channel channel;
        final InetSocketAddress server;
        final byte[] wire;
        final byte[] key;
        final CompletableFuture<StunResponse> future = new CompletableFuture<>();
        final long startNanos = System.nanoTime();
        volatile int transmissions;
        volatile ScheduledFuture<?> timer;

        Pending(Channel channel, InetSocketAddress server, byte[] wire, byte[] key) {
            this.channel = channel;
            this.server = server;
            this.wire = wire;
            this.key = key;
        }
    }

    /** Runs on the socket's event loop: one transmission, then schedules the next or the final timeout. */
    private void transmit(TransactionId tid, Pending p) {
        if (p.future.isDone()) {
            return;
        }
        if (!p.channel.isActive()) {
            p.future.completeExceptionally(new java.io.IOException("socket closed"));
            return;
        }
        p.channel.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(p.wire), p.server));
        int n = ++p.transmissions;
        long rto = config.rto().toNanos();
        if (n < config.maxTransmissions()) {
            long wait = rto << (n - 1); // RTO, 2 RTO, 4 RTO, ...
            p.timer = p.channel.eventLoop().schedule(() -> transmit(tid, p), wait, TimeUnit.NANOSECONDS);
        } else {
            p.timer = p.channel.eventLoop().schedule(() -> {
                p.future.completeExceptionally(new StunTimeoutException("no response from " + p.server + " after "
                        + n + " transmissions (" + config.timeout().toMillis() + " ms), transaction " + tid));
            }, rto * config.finalWaitFactor(), TimeUnit.NANOSECONDS);
        }
    }

    private void onDatagram(Channel ch, InetSocketAddress sender, byte[] bytes) {
        StunMessage m;
        try {
            m = StunCodec.decode(bytes, 0, bytes.length, StunCodec.DecodeOptions.strict());
        } catch (StunDecodeException e) {
            dropped.incrementAndGet();
            return;
        }
        Pending p = m.messageClass().isResponse() ? pending.get(m.transactionId()) : null;
        if (p == null) {
            dropped.incrementAndGet();
            return;
        }
        if (p.key != null && !StunCodec.responseAuthentic(m, p.key)) {
            dropped.incrementAndGet();
            return;
        }
        p.future.complete(new StunResponse(m, sender, (InetSocketAddress) ch.localAddress(), p.transmissions,
                Duration.ofNanos(System.nanoTime() - p.startNanos)));
    }

    @Override
    public void close() {
        pending.values().forEach(p -> p.future.completeExceptionally(new java.io.IOException("client closed")));
        if (ownGroup) {
            group.shutdownGracefully(0, 200, TimeUnit.MILLISECONDS).syncUninterruptibly();
        }
    }
}
