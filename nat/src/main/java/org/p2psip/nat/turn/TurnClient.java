package org.p2psip.nat.turn;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.p2psip.nat.udp.UdpSockets;
import org.p2psip.nat.stun.StunAttribute;
import org.p2psip.nat.stun.StunClass;
import org.p2psip.nat.stun.StunCodec;
import org.p2psip.nat.stun.StunDecodeException;
import org.p2psip.nat.stun.StunMessage;
import org.p2psip.nat.stun.StunTimeoutException;
import org.p2psip.nat.stun.TransactionId;

/**
 * A small TURN client (RFC 8656) for one UDP allocation: Allocate with the long-term credential dance (401, then
 * a signed retry; 438 refreshes the nonce), CreatePermission, ChannelBind, Refresh, and data both ways through Send
 * and Data indications or ChannelData. Requests are retransmitted as RFC 8489 says (RTO, doubling, Rc
 * transmissions). With {@link Config#autoRefresh()} the allocation, its permissions and its channels are refreshed
 * before they expire. Meant for ICE's relayed candidates.
 *
 * <pre>
 *   TurnClient t = TurnClient.allocate(TurnClient.Config.of(server, "user", "pass"), local).get();
 *   t.onData((peer, data, viaChannel) -> ...);
 *   t.createPermission(peer.getAddress()).get();
 *   t.send(peer, bytes);                 // Send indication
 *   t.bindChannel(peer).get();
 *   t.send(peer, bytes);                 // now ChannelData
 *   t.close();                           // Refresh with LIFETIME 0
 * </pre>
 */
public final class TurnClient implements AutoCloseable {

    /**
     * Client settings.
     *
     * @param server the TURN server
     * @param username long-term username
     * @param password long-term password
     * @param rto initial retransmission timeout
     * @param maxTransmissions Rc
     * @param finalWaitFactor Rm
     * @param lifetime the allocation lifetime to ask for, or null for the server's default
     * @param autoRefresh refresh allocation, permissions and channels before they expire
     * @param permissionRefresh how often permissions (and channels due) are refreshed (RFC 8656: they last 300 s)
     * @param channelRefresh how often channel bindings are refreshed (they last 600 s)
     * @param software SOFTWARE for requests, or null
     */
    public record Config(InetSocketAddress server, String username, String password, Duration rto,
            int maxTransmissions, int finalWaitFactor, Duration lifetime, boolean autoRefresh,
            Duration permissionRefresh, Duration channelRefresh, String software) {
        public Config {
            Objects.requireNonNull(server, "server");
            Objects.requireNonNull(username, "username");
            Objects.requireNonNull(password, "password");
            if (rto.isNegative() || rto.isZero() || maxTransmissions < 1 || finalWaitFactor < 1) {
                throw new IllegalArgumentException("RTO, Rc and Rm must be positive");
            }
        }

        /** RFC 8489 timers (RTO 500 ms, Rc 7, Rm 16), server's default lifetime, refreshing at 240 s and 540 s. */
        public static Config of(InetSocketAddress server, String username, String password) {
            return new Config(server, username, password, Duration.ofMillis(500), 7, 16, null, true,
                    Duration.ofSeconds(240), Duration.ofSeconds(540), "p2psip TURN client");
        }

        /** Short timers for tests on loopback: gives up after about 8.5 RTO. */
        public Config quick(Duration rto) {
            return new Config(server, username, password, rto, 3, 4, lifetime, autoRefresh, permissionRefresh,
                    channelRefresh, software);
        }

        public Config withLifetime(Duration d) {
            return new Config(server, username, password, rto, maxTransmissions, finalWaitFactor, d, autoRefresh,
                    permissionRefresh, channelRefresh, software);
        }

        public Config withPassword(String p) {
            return new Config(server, username, p, rto, maxTransmissions, finalWaitFactor, lifetime, autoRefresh,
                    permissionRefresh, channelRefresh, software);
        }

        public Config withAutoRefresh(boolean on) {
            return new Config(server, username, password, rto, maxTransmissions, finalWaitFactor, lifetime, on,
                    permissionRefresh, channelRefresh, software);
        }
    }

    /** Receives the data relayed from a peer. */
    @FunctionalInterface
    public interface DataHandler {
        void onData(InetSocketAddress peer, byte[] data, boolean viaChannel);
    }

    private final Config config;
    private final EventLoopGroup group;
    private final boolean ownGroup;
    private final Channel channel;
    private final Map<TransactionId, Pending> pending = new ConcurrentHashMap<>();
    private final Map<InetSocketAddress, Integer> channelByPeer = new ConcurrentHashMap<>();
    private final Map<Integer, InetSocketAddress> peerByChannel = new ConcurrentHashMap<>();
    private final Map<Integer, Long> channelBoundAt = new ConcurrentHashMap<>();
    private final Set<InetAddress> permitted = ConcurrentHashMap.newKeySet();
    private final AtomicInteger nextChannel = new AtomicInteger(TurnAttributes.MIN_CHANNEL);
    private final AtomicLong dropped = new AtomicLong();
    private volatile DataHandler handler = (p, d, c) -> { };
    private volatile String realm;
    private volatile String nonce;
    private volatile byte[] key;
    private volatile InetSocketAddress relayed;
    private volatile InetSocketAddress mapped;
    private volatile Duration lifetime;
    private volatile ScheduledFuture<?> refreshTimer;
    private volatile ScheduledFuture<?> permissionTimer;
    private volatile boolean closed;

    private TurnClient(Config config, EventLoopGroup group, boolean ownGroup, Channel channel) {
        this.config = config;
        this.group = group;
        this.ownGroup = ownGroup;
        this.channel = channel;
    }

    /** Binds {@code local} on its own event loop thread and allocates. */
    public static CompletableFuture<TurnClient> allocate(Config config, InetSocketAddress local) {
        return allocate(config, local, null);
    }

    /**
     * Binds {@code local} (on {@code group}, or its own when null) and allocates a relayed address. Fails with a
     * {@link TurnException} when the server refuses (401 for wrong credentials, 486, 508, ...) and with a
     * {@link StunTimeoutException} when it does not answer; the socket is closed then.
     */
    public static CompletableFuture<TurnClient> allocate(Config config, InetSocketAddress local, EventLoopGroup group) {
        boolean own = group == null;
        EventLoopGroup g = own ? UdpSockets.newGroup(1, "turn-client") : group;
        TurnClient[] self = new TurnClient[1];
        return UdpSockets.bind(g.next(), local, 1 << 18, (ch, sender, bytes) -> {
                    TurnClient c = self[0];
                    if (c != null) {
                        c.onDatagram(sender, bytes);
                    }
                })
                .thenCompose(ch -> {
                    self[0] = new TurnClient(config, g, own, ch);
                    return self[0].doAllocate().thenApply(v -> self[0]);
                })
                .whenComplete((c, e) -> {
                    if (e != null) {
                        if (self[0] != null) {
                            self[0].closeQuietly();
                        } else if (own) {
                            g.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS);
                        }
                    }
                });
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** XOR-RELAYED-ADDRESS: where peers send to reach this client. */
    public InetSocketAddress relayedAddress() {
        return relayed;
    }

    /** XOR-MAPPED-ADDRESS: this client's server-reflexive address. */
    public InetSocketAddress mappedAddress() {
        return mapped;
    }

    /** The lifetime the server granted last. */
    public Duration lifetime() {
        return lifetime;
    }

    /** Datagrams received and dropped: from elsewhere than the server, undecodable, unexpected, or failed integrity. */
    public long dropped() {
        return dropped.get();
    }

    public void onData(DataHandler h) {
        handler = Objects.requireNonNull(h, "handler");
    }

    /** The channel bound to {@code peer}, or 0. */
    public int channelOf(InetSocketAddress peer) {
        return channelByPeer.getOrDefault(peer, 0);
    }

    // ------------------------------------------------------------------------------------------ operations

    private CompletableFuture<Void> doAllocate() {
        List<StunAttribute> attrs = new ArrayList<>();
        attrs.add(TurnAttributes.requestedTransport(TurnAttributes.TRANSPORT_UDP));
        if (config.lifetime() != null) {
            attrs.add(TurnAttributes.lifetime(config.lifetime().toSeconds()));
        }
        return request(StunMessage.ALLOCATE, attrs, 2).thenAccept(r -> {
            try {
                relayed = TurnAttributes.xorRelayedAddress(r).orElseThrow(
                        () -> new IllegalStateException("Allocate success without XOR-RELAYED-ADDRESS"));
                lifetime = Duration.ofSeconds(TurnAttributes.lifetime(r).orElse(600L));
            } catch (TurnFormatException e) {
                throw new IllegalStateException("bad Allocate response: " + e.getMessage(), e);
            }
            mapped = r.get(StunAttribute.XorMappedAddress.class).map(StunAttribute.XorMappedAddress::address).orElse(null);
            if (config.autoRefresh()) {
                scheduleRefresh();
                long every = config.permissionRefresh().toNanos();
                permissionTimer = channel.eventLoop().scheduleAtFixedRate(this::refreshPermissionsAndChannels, every,
                        every, TimeUnit.NANOSECONDS);
            }
        });
    }

    /** Installs (or refreshes) permissions for the given peer IPs. */
    public CompletableFuture<Void> createPermission(InetAddress... peers) {
        if (peers.length == 0) {
            throw new IllegalArgumentException("no peers");
        }
        List<Object> attrs = new ArrayList<>();
        for (InetAddress p : peers) {
            attrs.add(new PeerAddress(new InetSocketAddress(p, 0)));
        }
        return request(StunMessage.CREATE_PERMISSION, attrs, 2).thenAccept(r -> permitted.addAll(List.of(peers)));
    }

    /** Binds a channel to {@code peer} (which also installs a permission), or refreshes its binding. */
    public CompletableFuture<Integer> bindChannel(InetSocketAddress peer) {
        Integer existing = channelByPeer.get(peer);
        int number = existing != null ? existing : nextChannel.getAndIncrement();
        if (number > TurnAttributes.MAX_CHANNEL) {
            return CompletableFuture.failedFuture(new IllegalStateException("channel numbers exhausted"));
        }
        List<Object> attrs = List.of(TurnAttributes.channelNumber(number), new PeerAddress(peer));
        return request(StunMessage.CHANNEL_BIND, attrs, 2).thenApply(r -> {
            channelByPeer.put(peer, number);
            peerByChannel.put(number, peer);
            channelBoundAt.put(number, System.nanoTime());
            permitted.add(peer.getAddress());
            return number;
        });
    }

    /** Refreshes the allocation; {@link Duration#ZERO} deletes it. Completes with the lifetime granted. */
    public CompletableFuture<Duration> refresh(Duration requested) {
        List<StunAttribute> attrs = new ArrayList<>();
        if (requested != null) {
            attrs.add(TurnAttributes.lifetime(requested.toSeconds()));
        }
        return request(StunMessage.REFRESH, attrs, 2).thenApply(r -> {
            Duration d;
            try {
                d = Duration.ofSeconds(TurnAttributes.lifetime(r).orElse(0L));
            } catch (TurnFormatException e) {
                throw new IllegalStateException(e);
            }
            lifetime = d;
            return d;
        });
    }

    /** Sends {@code data} to {@code peer}: as ChannelData when a channel is bound to it, else in a Send indication. */
    public void send(InetSocketAddress peer, byte[] data) {
        Integer ch = channelByPeer.get(peer);
        byte[] wire;
        if (ch != null) {
            wire = new ChannelData(ch, data).encode();
        } else {
            TransactionId tid = TransactionId.random();
            wire = StunCodec.encode(StunMessage.builder(StunMessage.SEND, StunClass.INDICATION, tid)
                    .add(TurnAttributes.xorPeerAddress(peer, tid))
                    .add(TurnAttributes.data(data))
                    .build(), StunCodec.EncodeOptions.fingerprinted());
        }
        UdpSockets.send(channel, config.server(), wire);
    }

    private void scheduleRefresh() {
        Duration l = lifetime;
        if (closed || l == null || l.isZero()) {
            return;
        }
        long nanos = Math.max(l.toNanos() / 2, l.minusSeconds(60).toNanos());
        refreshTimer = channel.eventLoop().schedule(() -> {
            refresh(config.lifetime()).whenComplete((d, e) -> scheduleRefresh());
        }, nanos, TimeUnit.NANOSECONDS);
    }

    private void refreshPermissionsAndChannels() {
        if (closed) {
            return;
        }
        Set<InetAddress> ips = new LinkedHashSet<>(permitted);
        if (!ips.isEmpty()) {
            createPermission(ips.toArray(InetAddress[]::new));
        }
        long now = System.nanoTime();
        for (Map.Entry<Integer, Long> e : channelBoundAt.entrySet()) {
            if (now - e.getValue() >= config.channelRefresh().toNanos()) {
                InetSocketAddress peer = peerByChannel.get(e.getKey());
                if (peer != null) {
                    bindChannel(peer);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------ transactions

    /**
     * XOR-PEER-ADDRESS depends on the transaction id, which {@link #request} picks per attempt: this placeholder is
     * replaced there.
     */
    private record PeerAddress(InetSocketAddress address) {
    }

    /**
     * Sends a request with credentials when a realm and nonce are known; on 401 (first time without credentials)
     * or 438 it retries with the new nonce, up to {@code retries} times. Completes with the success response or a
     * {@link TurnException}.
     */
    private CompletableFuture<StunMessage> request(int method, List<?> attrs, int retries) {
        if (closed) {
            return CompletableFuture.failedFuture(new IOException("client closed"));
        }
        TransactionId tid = TransactionId.random();
        StunMessage.Builder b = StunMessage.builder(method, StunClass.REQUEST, tid);
        for (Object a : attrs) {
            if (a instanceof PeerAddress p) {
                b.add(TurnAttributes.xorPeerAddress(p.address(), tid));
            } else {
                b.add((StunAttribute) a);
            }
        }
        byte[] k = key;
        boolean authenticated = k != null && realm != null && nonce != null;
        if (authenticated) {
            b.add(new StunAttribute.Username(config.username()))
                    .add(TurnAttributes.realm(realm))
                    .add(TurnAttributes.nonce(nonce));
        }
        if (config.software() != null) {
            b.add(new StunAttribute.Software(config.software()));
        }
        StunCodec.EncodeOptions opts = authenticated ? StunCodec.EncodeOptions.signed(k)
                : StunCodec.EncodeOptions.fingerprinted();
        byte[] wire = StunCodec.encode(b.build(), opts);
        return transact(tid, wire, authenticated ? k : null).thenCompose(r -> {
            if (r.messageClass() == StunClass.SUCCESS_RESPONSE) {
                return CompletableFuture.completedFuture(r);
            }
            StunAttribute.ErrorCode err = r.get(StunAttribute.ErrorCode.class)
                    .orElse(new StunAttribute.ErrorCode(500, "error response without ERROR-CODE"));
            boolean challenge = (err.code() == 401 && !authenticated) || err.code() == 438;
            if (challenge && retries > 0) {
                try {
                    String newRealm = TurnAttributes.realm(r).orElse(null);
                    String newNonce = TurnAttributes.nonce(r).orElse(null);
                    if (newRealm != null && newNonce != null) {
                        if (!newRealm.equals(realm) || key == null) {
                            key = StunCodec.longTermKey(config.username(), newRealm, config.password());
                        }
                        realm = newRealm;
                        nonce = newNonce;
                        return request(method, attrs, retries - 1);
                    }
                } catch (TurnFormatException e) {
                    // fall through to the error
                }
            }
            return CompletableFuture.failedFuture(new TurnException(err.code(), err.reason()));
        });
    }

    private final class Pending {
        final byte[] wire;
        final byte[] key;
        final CompletableFuture<StunMessage> future = new CompletableFuture<>();
        int transmissions;
        volatile ScheduledFuture<?> timer;

        Pending(byte[] wire, byte[] key) {
            this.wire = wire;
            this.key = key;
        }
    }

    private CompletableFuture<StunMessage> transact(TransactionId tid, byte[] wire, byte[] k) {
        Pending p = new Pending(wire, k);
        pending.put(tid, p);
        p.future.whenComplete((r, e) -> {
            pending.remove(tid, p);
            ScheduledFuture<?> t = p.timer;
            if (t != null) {
                t.cancel(false);
            }
        });
        channel.eventLoop().execute(() -> transmit(tid, p));
        return p.future;
    }

    private void transmit(TransactionId tid, Pending p) {
        if (p.future.isDone()) {
            return;
        }
        if (!channel.isActive()) {
            p.future.completeExceptionally(new IOException("socket closed"));
            return;
        }
        UdpSockets.send(channel, config.server(), p.wire);
        int n = ++p.transmissions;
        long rto = config.rto().toNanos();
        if (n < config.maxTransmissions()) {
            p.timer = channel.eventLoop().schedule(() -> transmit(tid, p), rto << (n - 1), TimeUnit.NANOSECONDS);
        } else {
            p.timer = channel.eventLoop().schedule(() -> p.future.completeExceptionally(new StunTimeoutException(
                    "no response from TURN server " + config.server() + " after " + n + " transmissions")),
                    rto * config.finalWaitFactor(), TimeUnit.NANOSECONDS);
        }
    }

    private void onDatagram(InetSocketAddress sender, byte[] bytes) {
        if (!sender.equals(config.server())) {
            dropped.incrementAndGet();
            return;
        }
        if (ChannelData.looksLikeChannelData(bytes)) {
            try {
                ChannelData cd = ChannelData.decode(bytes);
                InetSocketAddress peer = peerByChannel.get(cd.channel());
                if (peer == null) {
                    dropped.incrementAndGet();
                    return;
                }
                handler.onData(peer, cd.data(), true);
            } catch (TurnFormatException e) {
                dropped.incrementAndGet();
            }
            return;
        }
        StunMessage m;
        try {
            m = StunCodec.decode(bytes);
        } catch (StunDecodeException e) {
            dropped.incrementAndGet();
            return;
        }
        if (m.messageClass() == StunClass.INDICATION && m.method() == StunMessage.DATA) {
            try {
                InetSocketAddress peer = TurnAttributes.xorPeerAddress(m).orElse(null);
                byte[] data = TurnAttributes.data(m).orElse(null);
                if (peer == null || data == null) {
                    dropped.incrementAndGet();
                    return;
                }
                handler.onData(peer, data, false);
            } catch (TurnFormatException e) {
                dropped.incrementAndGet();
            }
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
        p.future.complete(m);
    }

    // ------------------------------------------------------------------------------------------ closing

    /**
     * Deletes the allocation (Refresh with LIFETIME 0, waiting at most a second; not waiting when called on the
     * client's event loop, say from a {@link DataHandler}) and closes the socket.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (relayed != null && channel.isActive() && !channel.eventLoop().inEventLoop()) {
            try {
                refresh(Duration.ZERO).get(1, TimeUnit.SECONDS);
            } catch (Exception e) {
                // the server will expire it
            }
        }
        closeQuietly();
    }

    private void closeQuietly() {
        closed = true;
        ScheduledFuture<?> t = refreshTimer;
        if (t != null) {
            t.cancel(false);
        }
        t = permissionTimer;
        if (t != null) {
            t.cancel(false);
        }
        pending.values().forEach(p -> p.future.completeExceptionally(new IOException("client closed")));
        boolean onLoop = channel.eventLoop().inEventLoop();
        if (onLoop) {
            channel.close();
        } else {
            channel.close().syncUninterruptibly();
        }
        if (ownGroup) {
            var f = group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS);
            if (!onLoop) {
                f.syncUninterruptibly();
            }
        }
    }
}
