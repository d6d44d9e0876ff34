package org.p2psip.nat.dtls;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.tls.DTLSClientProtocol;
import org.bouncycastle.tls.DTLSRequest;
import org.bouncycastle.tls.DTLSServerProtocol;
import org.bouncycastle.tls.DTLSTransport;
import org.bouncycastle.tls.DTLSVerifier;
import org.bouncycastle.tls.DatagramSender;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;
import org.p2psip.nat.dtls.DtlsStats.Counter;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.link.LinkLayer;
import org.p2psip.overlay.runtime.EventLoopScheduler;
import org.p2psip.overlay.runtime.Scheduler;
import org.p2psip.overlay.wire.Frame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Overlay links secured with DTLS 1.2 and authenticated with node keys, on one UDP socket.
 *
 * <p><b>Threads.</b> One Netty datagram channel; its event loop is the {@link #scheduler()} and owns every
 * session. Bouncy Castle's handshake blocks, so each runs on a thread of a small executor (one for handshakes this
 * node starts, with 4 x {@link DtlsConfig#maxConcurrentHandshakes()} threads and a queue; one for those it answers,
 * with {@code maxConcurrentHandshakes} threads and no queue), reading the
 * peer's datagrams from a bounded queue that the event loop fills ({@link PeerTransport}). Established sessions
 * are decrypted and encrypted on the event loop.
 *
 * <p><b>Sessions.</b> One per remote address. The first {@link #send} to an address without a session starts a
 * client handshake; datagrams sent meanwhile wait in a bounded queue and go out when it completes. A ClientHello
 * from an address is answered with a HelloVerifyRequest cookie (stateless, {@link DTLSVerifier}; rate limited);
 * only a ClientHello that returns the cookie starts a server handshake, and at most
 * {@code maxConcurrentHandshakes} of those run at once. A simultaneous open (both sides send first) is decided by
 * the ClientHello randoms: the higher stays the client, the other abandons its attempt and answers (see
 * {@link PeerTransport#yieldTo}).
 *
 * <p><b>Authentication.</b> Both sides present a self-signed certificate for their Ed25519 node key; the peer's
 * node id is SHA-1 of that key ({@link PeerCertificates}), available from {@link #authenticatedId}. A frame whose
 * overlay sender id differs from it is refused and the session closed: whole frames are checked here, reassembled
 * fragments by the overlay through {@link #acceptSender}.
 *
 * <p><b>Keepalives.</b> A session that sent nothing for the keepalive interval sends an empty application record,
 * which the receiver swallows; a session that received nothing for the dead-peer timeout is closed, and the next
 * send opens a new one. A ClientHello with a fresh random from the address of an established session (the peer
 * restarted) replaces the session once it returns the cookie.
 */
public final class DtlsLinkLayer implements LinkLayer {
    private static final Logger LOG = LoggerFactory.getLogger(DtlsLinkLayer.class);
    private static final int RECEIVE_BUFFER = 65_535;
    /** A server-side session with data to send waits this long for the client's first record before sending. */
    private static final long CONFIRM_WAIT_MILLIS = 500;
    private static final byte[] KEEPALIVE = new byte[1];
    private static final int CLIENT_THREADS_PER_SLOT = 4;
    private static final int RESYNC_PER_SECOND = 10;

    private enum State {
        /** Our client handshake runs (or waits for a thread). */
        CONNECTING,
        /** We gave up our client handshake in a simultaneous open and wait for the peer's. */
        WAITING,
        /** Our server handshake runs. */
        ACCEPTING,
        ESTABLISHED
    }

    /** One remote address. Touched only on the event loop. */
    private static final class Peer {
        final InetSocketAddress remote;
        State state;
        long since;
        PeerTransport transport;
        /** The ClientHello random of the server handshake that runs or made this session. */
        byte[] clientRandom;
        DTLSTransport dtls;
        NodeId peerId;
        byte[] peerIdBytes;
        /** Server side: false until the client's first record shows it finished its handshake. */
        boolean confirmed;
        long lastReceived;
        long lastSent;
        long lastData;
        final ArrayDeque<byte[]> pending = new ArrayDeque<>();

        Peer(InetSocketAddress remote, State state, long now) {
            this.remote = remote;
            this.state = state;
            this.since = now;
        }
    }

    private final Channel channel;
    private final EventLoop loop;
    private final Scheduler scheduler;
    private final DtlsIdentity identity;
    private final DtlsConfig config;
    private final BcTlsCrypto crypto;
    private final DTLSVerifier verifier;
    private final ThreadPoolExecutor clientHandshakes;
    private final ThreadPoolExecutor serverHandshakes;
    private final Map<InetSocketAddress, Peer> peers = new HashMap<>();
    private final ConcurrentHashMap<InetSocketAddress, NodeId> authenticated = new ConcurrentHashMap<>();
    /** Peers reached over another path than this layer's socket (ICE selected pairs). */
    private final ConcurrentHashMap<InetSocketAddress, LinkPath> paths = new ConcurrentHashMap<>();
    private final DtlsStats stats = new DtlsStats();
    private final byte[] plain = new byte[RECEIVE_BUFFER];
    private final int receiveLimit;
    private int serverHandshakesRunning;
    /** Addresses this side recently opened a session to because they sent records of an unknown session. */
    private final Map<InetSocketAddress, Long> resyncs = new LinkedHashMap<>(64, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<InetSocketAddress, Long> eldest) {
            return size() > 1024;
        }
    };
    private double resyncTokens = RESYNC_PER_SECOND;
    private long resyncRefill = System.currentTimeMillis();
    private double helloVerifyTokens;
    private long helloVerifyRefill;
    private ScheduledFuture<?> ticker;
    private volatile Receiver receiver = (from, d, len) -> { };
    private volatile boolean closed;

    private DtlsLinkLayer(Channel channel, DtlsIdentity identity, DtlsConfig config) {
        this.channel = channel;
        this.loop = channel.eventLoop();
        this.scheduler = new EventLoopScheduler(loop);
        this.identity = identity;
        this.config = config;
        this.crypto = new BcTlsCrypto(new SecureRandom());
        this.verifier = new DTLSVerifier(crypto);
        this.receiveLimit = Math.max(config.mtu(), 4096);
        int port = ((InetSocketAddress) channel.localAddress()).getPort();
        // Handshakes this node starts are not an attack surface but may wait on dead addresses until they time out,
        // so they get more threads; beyond those they queue.
        this.clientHandshakes = executor("dtls-connect-" + port, CLIENT_THREADS_PER_SLOT * config.maxConcurrentHandshakes());
        this.serverHandshakes = executor("dtls-accept-" + port, config.maxConcurrentHandshakes());
        this.helloVerifyTokens = 2.0 * config.helloVerifyPerSecond();
        this.helloVerifyRefill = System.nanoTime();
    }

    private static ThreadPoolExecutor executor(String name, int threads) {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor e = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                r -> {
                    Thread t = new Thread(r, name + "-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        e.allowCoreThreadTimeOut(true);
        return e;
    }

    /**
     * Binds a UDP socket on {@code address} (port 0 picks a free one) and serves DTLS sessions on it.
     *
     * @param group an event loop group, e.g. {@code UdpLinkLayer.newEventLoopGroup(n)}
     */
    public static CompletableFuture<DtlsLinkLayer> bind(EventLoopGroup group, InetSocketAddress address,
            DtlsIdentity identity, DtlsConfig config) {
        CompletableFuture<DtlsLinkLayer> result = new CompletableFuture<>();
        DtlsLinkLayer[] holder = new DtlsLinkLayer[1];
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(Epoll.isAvailable() ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, 1 << 20)
                .option(ChannelOption.SO_SNDBUF, 1 << 20)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(RECEIVE_BUFFER))
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
                        DtlsLinkLayer layer = holder[0];
                        if (layer == null) {
                            return;
                        }
                        ByteBuf buf = packet.content();
                        byte[] bytes = new byte[buf.readableBytes()];
                        buf.readBytes(bytes);
                        layer.onSocketDatagram(packet.sender(), bytes);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        // ICMP port unreachable and the like: the dead-peer timeout and RPC retries handle them.
                    }
                });
        b.bind(address).addListener(f -> {
            if (f.isSuccess()) {
                Channel ch = ((ChannelFuture) f).channel();
                DtlsLinkLayer layer = new DtlsLinkLayer(ch, identity, config);
                ch.eventLoop().execute(() -> {
                    holder[0] = layer;
                    layer.startTicker();
                    result.complete(layer);
                });
            } else {
                result.completeExceptionally(new IOException("cannot bind UDP " + address + ": " + f.cause().getMessage()
                        + " (is the port in use? choose another with --port)", f.cause()));
            }
        });
        return result;
    }

    private void startTicker() {
        long period = Math.max(20, Math.min(1_000, config.keepaliveIntervalMillis() / 4));
        ticker = loop.scheduleAtFixedRate(this::tick, period, period, TimeUnit.MILLISECONDS);
    }

    /** The node identity this layer presents to its peers. */
    public DtlsIdentity identity() {
        return identity;
    }

    // ------------------------------------------------------------------ LinkLayer

    @Override
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public Scheduler scheduler() {
        return scheduler;
    }

    @Override
    public void setReceiver(Receiver receiver) {
        this.receiver = receiver;
    }

    @Override
    public int maxDatagramBytes() {
        return config.maxPayloadBytes();
    }

    /** This node's id, as peers authenticate it. */
    public NodeId localId() {
        return identity.id();
    }

    public DtlsConfig config() {
        return config;
    }

    public DtlsStats stats() {
        return stats;
    }

    /** The node id authenticated for {@code remote}'s established session, if there is one. Any thread. */
    public Optional<NodeId> authenticatedId(InetSocketAddress remote) {
        return Optional.ofNullable(authenticated.get(remote));
    }

    /** Addresses with an established session. Any thread (a snapshot). */
    public List<InetSocketAddress> establishedPeers() {
        return new ArrayList<>(authenticated.keySet());
    }

    /**
     * Refuses a frame whose overlay sender id differs from the id authenticated for {@code from}, and closes that
     * session. Called by the overlay node for every decoded frame.
     */
    @Override
    public boolean acceptSender(InetSocketAddress from, NodeId sender) {
        NodeId id = authenticated.get(from);
        if (id != null && id.equals(sender)) {
            return true;
        }
        stats.inc(Counter.IMPOSTOR_FRAMES);
        LOG.debug("{}: a frame from {} claims id {} but the link authenticated {}; closing", this, from, sender, id);
        Runnable close = () -> {
            Peer p = peers.get(from);
            if (p != null && p.state == State.ESTABLISHED) {
                closeSession(p, true);
            }
        };
        if (loop.inEventLoop()) {
            close.run();
        } else {
            loop.execute(close);
        }
        return false;
    }

    @Override
    public void send(InetSocketAddress to, byte[] datagram) {
        if (closed) {
            return;
        }
        if (loop.inEventLoop()) {
            sendOnLoop(to, datagram);
        } else {
            loop.execute(() -> sendOnLoop(to, datagram));
        }
    }

    /**
     * Makes the session with {@code path.remote()} use {@code path} instead of this layer's socket, from its next
     * record on. The caller reads the path and hands each datagram to {@link #receiveFromPath}. An attached path
     * replaces an earlier one for the same address; a session already established with that address survives
     * (DTLS does not care how its records travel).
     */
    public void attachPath(LinkPath path) {
        paths.put(path.remote(), path);
        LOG.debug("{}: records for {} now travel over {}", this, path.remote(), path);
    }

    /**
     * Attaches {@code path} (as {@link #attachPath}) and opens the session over it at once as the DTLS client, without
     * waiting for data to send. An ICE link's controlled side (the node that answered the Attach) does this the moment
     * it knows the path, while the controlling side, which learns the path at about the moment this ClientHello
     * arrives, waits for it ({@link #attachPathForPeer}): the handshake then ends one round trip after the controlling
     * side's ICE checks, instead of two. Does nothing more when a session with that address exists or is opening.
     */
    public void openOverPath(LinkPath path) {
        attachPath(path);
        executeOnLoop(() -> {
            if (closed || paths.get(path.remote()) != path || peers.containsKey(path.remote()) || !makeRoom()) {
                return;
            }
            Peer p = new Peer(path.remote(), State.CONNECTING, now());
            peers.put(path.remote(), p);
            startClient(p);
        });
    }

    /**
     * Attaches {@code path} (as {@link #attachPath}) for a session the peer opens ({@link #openOverPath} on its side):
     * datagrams sent to the path's address meanwhile wait (as during a handshake) for the peer's ClientHello, which
     * makes this side the server. If none has come within {@code waitMillis}, this side opens the session itself
     * (counted as {@link Counter#PEER_OPEN_FALLBACKS}; a ClientHello that still comes then is a simultaneous open,
     * decided as usual). Without this wait, a send before the peer's ClientHello arrived would start a second client
     * handshake.
     */
    public void attachPathForPeer(LinkPath path, long waitMillis) {
        attachPath(path);
        executeOnLoop(() -> {
            if (closed || paths.get(path.remote()) != path || peers.containsKey(path.remote()) || !makeRoom()) {
                return;
            }
            Peer p = new Peer(path.remote(), State.WAITING, now());
            peers.put(path.remote(), p);
            loop.schedule(() -> {
                if (!closed && peers.get(p.remote) == p && p.state == State.WAITING) {
                    stats.inc(Counter.PEER_OPEN_FALLBACKS);
                    LOG.debug("{}: no ClientHello from {} within {} ms; opening the session from this side", this,
                            p.remote, waitMillis);
                    p.state = State.CONNECTING;
                    p.since = now();
                    startClient(p);
                }
            }, Math.max(1, waitMillis), TimeUnit.MILLISECONDS);
        });
    }

    /**
     * Stops using {@code path} and closes the session with its address (without close_notify, which could no longer
     * travel). Does nothing when another path has replaced it.
     */
    public void detachPath(LinkPath path) {
        if (!paths.remove(path.remote(), path)) {
            return;
        }
        Runnable r = () -> {
            Peer p = peers.get(path.remote());
            if (p == null) {
                return;
            }
            if (p.state == State.ESTABLISHED) {
                closeSession(p, false);
            } else {
                if (p.transport != null) {
                    p.transport.abandon();
                }
                dropPeer(p);
            }
        };
        executeOnLoop(r);
    }

    /**
     * A datagram that arrived on {@code path}, from its remote address. Any thread. Datagrams of a path that is not
     * (or no longer) attached are dropped and counted as {@link Counter#NO_SESSION}.
     */
    public void receiveFromPath(LinkPath path, byte[] datagram) {
        executeOnLoop(() -> {
            if (paths.get(path.remote()) != path) {
                stats.inc(Counter.NO_SESSION);
                return;
            }
            onDatagram(path.remote(), datagram);
        });
    }

    /** Peers whose records travel over an attached {@link LinkPath}. Any thread (a snapshot). */
    public List<InetSocketAddress> pathPeers() {
        return new ArrayList<>(paths.keySet());
    }

    private void executeOnLoop(Runnable r) {
        if (loop.inEventLoop()) {
            r.run();
        } else {
            try {
                loop.execute(r);
            } catch (RejectedExecutionException e) {
                // closing
            }
        }
    }

    /** Sends one datagram to {@code to}: over its attached path if there is one, else over this layer's socket. */
    private void out(InetSocketAddress to, byte[] buf, int off, int len) {
        LinkPath path = paths.get(to);
        if (path == null) {
            channel.writeAndFlush(new DatagramPacket(Unpooled.copiedBuffer(buf, off, len), to), channel.voidPromise());
            return;
        }
        try {
            path.send(buf, off, len);
        } catch (IOException | RuntimeException e) {
            stats.inc(Counter.PATH_SEND_FAILED);
            LOG.debug("{}: sending to {} over {} failed: {}", this, to, path, e.toString());
        }
    }

    private void sendOnLoop(InetSocketAddress to, byte[] d) {
        if (closed) {
            return;
        }
        if (d.length == 0 || d.length > config.maxPayloadBytes()) {
            stats.inc(Counter.OVERSIZE);
            return;
        }
        Peer p = peers.get(to);
        if (p == null) {
            if (!makeRoom()) {
                stats.inc(Counter.SESSIONS_REFUSED);
                return;
            }
            p = new Peer(to, State.CONNECTING, now());
            peers.put(to, p);
            p.pending.add(d);
            startClient(p);
            return;
        }
        if (p.state == State.ESTABLISHED && p.confirmed) {
            sendRecord(p, d);
        } else if (p.pending.size() >= config.maxPendingPerPeer()) {
            stats.inc(Counter.PENDING_OVERFLOW);
        } else {
            p.pending.add(d);
        }
    }

    // ------------------------------------------------------------------ inbound

    /** A datagram on this layer's own socket. One from an address reached over a {@link LinkPath} does not belong. */
    private void onSocketDatagram(InetSocketAddress from, byte[] d) {
        if (paths.containsKey(from)) {
            stats.inc(Counter.DATAGRAMS_IN);
            stats.inc(Counter.NO_SESSION);
            return;
        }
        onDatagram(from, d);
    }

    private void onDatagram(InetSocketAddress from, byte[] d) {
        if (closed) {
            return;
        }
        stats.inc(Counter.DATAGRAMS_IN);
        int len = d.length;
        if (!Records.looksLikeDtls(d, len)) {
            stats.inc(Counter.NOT_DTLS);
            return;
        }
        Peer p = peers.get(from);
        if (Records.isClientHello(d, len)) {
            onClientHello(from, p, d);
            return;
        }
        if (p == null || p.state == State.WAITING) {
            stats.inc(Counter.NO_SESSION);
            if (p == null && (d[3] != 0 || d[4] != 0)) {
                maybeResync(from);
            }
            return;
        }
        if (p.state == State.CONNECTING && !p.transport.serverSeen) {
            // Until the server answers, only its HelloVerifyRequest or ServerHello can belong to this attempt. Stray
            // records (the tail of an earlier attempt with this address) would do harm: Bouncy Castle remembers the
            // version of the first record and then drops the HelloVerifyRequest, whose version is DTLS 1.0.
            int type = Records.epoch0HandshakeType(d, len);
            if (type == Records.SERVER_HELLO) {
                p.transport.serverSeen = true;
            } else if (type != Records.HELLO_VERIFY_REQUEST) {
                stats.inc(Counter.NO_SESSION);
                return;
            }
        }
        if (!p.transport.offer(d)) {
            stats.inc(Counter.INBOUND_OVERFLOW);
            return;
        }
        if (p.state == State.ESTABLISHED) {
            p.lastReceived = now();
            if (!drain(p)) {
                stats.inc(Counter.RECORDS_DROPPED);
            }
        }
    }

    private void onClientHello(InetSocketAddress from, Peer p, byte[] d) {
        byte[] random = Records.clientHelloRandom(d, d.length);
        if (random == null) {
            stats.inc(Counter.CLIENT_HELLO_INVALID);
            return;
        }
        if (LOG.isTraceEnabled()) {
            LOG.trace("{}: ClientHello from {} in state {}", this, from, p == null ? "none" : p.state);
        }
        if (p != null) {
            switch (p.state) {
                case ACCEPTING -> {
                    if (Arrays.equals(random, p.clientRandom)) {
                        if (!p.transport.offer(d)) {
                            stats.inc(Counter.INBOUND_OVERFLOW);
                        }
                        return;
                    }
                    // a new attempt by the peer: verify it below; if it returns the cookie it replaces ours
                }
                case CONNECTING -> {
                    if (!p.transport.yieldTo(random)) {
                        stats.inc(Counter.SIMULTANEOUS_OPEN_KEPT);
                        return;
                    }
                    stats.inc(Counter.SIMULTANEOUS_OPEN_YIELDED);
                    p.transport.abandon();
                    p.transport = null;
                    p.state = State.WAITING;
                    p.since = now();
                }
                case ESTABLISHED -> {
                    if (Arrays.equals(random, p.clientRandom)) {
                        stats.inc(Counter.CLIENT_HELLO_DUPLICATE);
                        return;
                    }
                    // the peer lost its session (restart): a verified ClientHello replaces ours
                }
                case WAITING -> {
                    // the ClientHello we yielded to
                }
                default -> throw new IllegalStateException(p.state.toString());
            }
        }
        // Over an attached path (ICE) the peer's address answered connectivity checks with the ICE credentials, so
        // it cannot be a spoofed victim: no cookie exchange there (RFC 6347 4.2.1 allows it; WebRTC stacks do
        // likewise), which saves a round trip. Everywhere else a ClientHello must return the cookie first.
        boolean viaPath = paths.containsKey(from);
        HelloVerifySender sender = new HelloVerifySender(from);
        DTLSRequest request = viaPath ? null : verifier.verifyRequest(clientId(from), d, 0, d.length, sender);
        if (request == null && !viaPath) {
            LOG.trace("{}: ClientHello from {} without a valid cookie (HelloVerifyRequest: {})", this, from, sender.attempted);
            if (!sender.attempted) {
                stats.inc(Counter.CLIENT_HELLO_INVALID);
            }
            return;
        }
        if (serverHandshakesRunning >= config.maxConcurrentHandshakes()) {
            stats.inc(Counter.HANDSHAKES_REFUSED);
            return;
        }
        long now = now();
        if (p == null) {
            if (!makeRoom()) {
                stats.inc(Counter.SESSIONS_REFUSED);
                return;
            }
            p = new Peer(from, State.ACCEPTING, now);
            peers.put(from, p);
        } else if (p.state == State.ESTABLISHED) {
            LOG.debug("{}: {} opens a new session; replacing the old one", this, from);
            closeSession(p, false);
            p = new Peer(from, State.ACCEPTING, now);
            peers.put(from, p);
        } else {
            if (p.transport != null) {
                p.transport.abandon();
            }
            p.state = State.ACCEPTING;
            p.since = now;
        }
        p.clientRandom = random;
        if (viaPath) {
            stats.inc(Counter.COOKIELESS_OVER_PATH);
        }
        startServer(p, request, viaPath ? d : null);
    }

    /**
     * A record of a later epoch from an address without a session: the peer believes in a session that this side lost
     * (it restarted, or closed the session while the peer's close_notify-less view lives on). Without help the peer
     * would notice only after its dead-peer timeout; so this side opens a new session, which replaces the peer's old
     * one once its ClientHello returns the cookie. The address may be spoofed, so this is rate limited globally
     * ({@value #RESYNC_PER_SECOND}/s) and per address (once per handshake timeout); a ClientHello is about 4 times
     * the size of the smallest record that triggers it, so the reflection this allows is small and bounded.
     */
    private void maybeResync(InetSocketAddress from) {
        long now = now();
        Long last = resyncs.get(from);
        if (last != null && now - last < config.handshakeTimeoutMillis()) {
            return;
        }
        double cap = RESYNC_PER_SECOND;
        resyncTokens = Math.min(cap, resyncTokens + (now - resyncRefill) / 1000.0 * RESYNC_PER_SECOND);
        resyncRefill = now;
        if (resyncTokens < 1 || !makeRoom()) {
            return;
        }
        resyncTokens -= 1;
        resyncs.put(from, now);
        stats.inc(Counter.RESYNC_HANDSHAKES);
        LOG.debug("{}: {} sends records of a session this side does not have; opening a new one", this, from);
        Peer p = new Peer(from, State.CONNECTING, now);
        peers.put(from, p);
        startClient(p);
    }

    /** Sends HelloVerifyRequests for the verifier, within the rate limit. */
    private final class HelloVerifySender implements DatagramSender {
        private final InetSocketAddress to;
        boolean attempted;

        HelloVerifySender(InetSocketAddress to) {
            this.to = to;
        }

        @Override
        public int getSendLimit() {
            return config.mtu();
        }

        @Override
        public void send(byte[] buf, int off, int len) {
            attempted = true;
            if (!takeHelloVerifyToken()) {
                stats.inc(Counter.HELLO_VERIFY_RATE_LIMITED);
                return;
            }
            stats.inc(Counter.HELLO_VERIFY_SENT);
            out(to, buf, off, len);
        }
    }

    private boolean takeHelloVerifyToken() {
        long t = System.nanoTime();
        double cap = 2.0 * config.helloVerifyPerSecond();
        helloVerifyTokens = Math.min(cap, helloVerifyTokens + (t - helloVerifyRefill) / 1e9 * config.helloVerifyPerSecond());
        helloVerifyRefill = t;
        if (helloVerifyTokens < 1) {
            return false;
        }
        helloVerifyTokens -= 1;
        return true;
    }

    private static byte[] clientId(InetSocketAddress a) {
        byte[] ip = a.getAddress().getAddress();
        byte[] id = new byte[ip.length + 2];
        System.arraycopy(ip, 0, id, 0, ip.length);
        id[ip.length] = (byte) (a.getPort() >>> 8);
        id[ip.length + 1] = (byte) a.getPort();
        return id;
    }

    /**
     * Decrypts what an established session's queue holds, delivering data and swallowing keepalives. False when
     * nothing in it was a valid record (bad MAC, replay, truncation, a stray handshake record).
     */
    private boolean drain(Peer p) {
        boolean any = false;
        while (p.state == State.ESTABLISHED && peers.get(p.remote) == p) {
            int n;
            try {
                n = p.dtls.receive(plain, 0, plain.length, 60_000);
            } catch (PeerTransport.WouldBlock e) {
                break;
            } catch (IOException | RuntimeException e) {
                LOG.debug("{}: session with {} failed: {}", this, p.remote, e.toString());
                stats.inc(Counter.SESSIONS_CLOSED_BY_PEER);
                closeSession(p, true);
                return true;
            }
            if (n < 0) {
                continue;
            }
            any = true;
            if (!p.confirmed) {
                confirm(p);
            }
            if (n == 0) {
                stats.inc(Counter.KEEPALIVES_RECEIVED);
                continue;
            }
            deliver(p, n);
        }
        return any;
    }

    private void deliver(Peer p, int n) {
        p.lastData = now();
        if (n >= Frame.HEADER_BYTES && plain[0] == Frame.MAGIC0 && plain[1] == Frame.MAGIC1 && plain[2] == Frame.VERSION
                && (plain[3] == Frame.KIND_REQUEST || plain[3] == Frame.KIND_REPLY)
                && !Arrays.equals(plain, 12, 12 + NodeId.BYTES, p.peerIdBytes, 0, NodeId.BYTES)) {
            stats.inc(Counter.IMPOSTOR_FRAMES);
            LOG.debug("{}: a frame from {} claims another id than the authenticated {}; closing", this, p.remote, p.peerId);
            closeSession(p, true);
            return;
        }
        stats.inc(Counter.DELIVERED);
        byte[] copy = Arrays.copyOf(plain, n);
        try {
            receiver.onDatagram(p.remote, copy, n);
        } catch (RuntimeException e) {
            stats.inc(Counter.RECEIVER_ERRORS);
            LOG.warn("{}: the receiver failed on a datagram from {}: {}", this, p.remote, e.toString(), e);
        }
    }

    // ------------------------------------------------------------------ handshakes

    /** The first handshake retransmission timeout with {@code remote}: its path's, if lower than the config's. */
    private int resendMillis(InetSocketAddress remote) {
        LinkPath path = paths.get(remote);
        int hint = path == null ? 0 : path.handshakeResendMillis();
        return hint > 0 ? Math.min(hint, config.handshakeResendMillis()) : config.handshakeResendMillis();
    }

    private void startClient(Peer p) {
        int resend = resendMillis(p.remote);
        PeerTransport t = newTransport(p.remote, true);
        p.transport = t;
        stats.inc(Counter.HANDSHAKES_STARTED_CLIENT);
        try {
            clientHandshakes.execute(() -> {
                NodeTls.Client client = new NodeTls.Client(crypto, identity, config, resend, this::authFailed);
                DTLSTransport dtls = null;
                Throwable error = null;
                try {
                    if (t.isClosed()) {
                        throw new IOException("abandoned before it started");
                    }
                    dtls = new DTLSClientProtocol().connect(client, t);
                } catch (Throwable e) {
                    error = e;
                }
                finish(p, t, dtls, client.peerId, error, false);
            });
        } catch (RejectedExecutionException e) {
            finish(p, t, null, null, e, false);
        }
    }

    /**
     * @param request     the verified ClientHello (cookie returned), or null for one over an attached path
     * @param clientHello with a null request: the ClientHello, which the handshake then reads first
     */
    private void startServer(Peer p, DTLSRequest request, byte[] clientHello) {
        int resend = resendMillis(p.remote);
        PeerTransport t = newTransport(p.remote, false);
        p.transport = t;
        if (request == null) {
            t.offer(clientHello);
        }
        serverHandshakesRunning++;
        stats.inc(Counter.HANDSHAKES_STARTED_SERVER);
        try {
            serverHandshakes.execute(() -> {
                NodeTls.Server server = new NodeTls.Server(crypto, identity, config, resend, this::authFailed);
                DTLSTransport dtls = null;
                Throwable error = null;
                try {
                    DTLSServerProtocol protocol = new DTLSServerProtocol();
                    if (request == null) {
                        protocol.setVerifyRequests(false);
                        dtls = protocol.accept(server, t);
                    } else {
                        dtls = protocol.accept(server, t, request);
                    }
                } catch (Throwable e) {
                    error = e;
                }
                finish(p, t, dtls, server.peerId, error, true);
            });
        } catch (RejectedExecutionException e) {
            finish(p, t, null, null, e, true);
        }
    }

    private void authFailed(String why) {
        stats.inc(Counter.AUTH_FAILURES);
        LOG.debug("{}: refused a peer certificate: {}", this, why);
    }

    private PeerTransport newTransport(InetSocketAddress remote, boolean client) {
        return new PeerTransport(this::out, remote, client, config.mtu(), receiveLimit, config.maxInboundPerPeer(),
                this::transportClosed);
    }

    /** From a handshake thread: hands the outcome to the event loop. */
    private void finish(Peer p, PeerTransport t, DTLSTransport dtls, NodeId peerId, Throwable error, boolean server) {
        try {
            loop.execute(() -> handshakeDone(p, t, dtls, peerId, error, server));
        } catch (RejectedExecutionException e) {
            t.abandon();
        }
    }

    private void handshakeDone(Peer p, PeerTransport t, DTLSTransport dtls, NodeId peerId, Throwable error, boolean server) {
        if (server) {
            serverHandshakesRunning--;
        }
        boolean current = !closed && peers.get(p.remote) == p && p.transport == t;
        if (!current) {
            t.abandon();
            if (dtls != null) {
                closeQuietly(dtls);
            }
            return;
        }
        if (error != null || dtls == null || peerId == null) {
            stats.inc(Counter.HANDSHAKES_FAILED);
            LOG.debug("{}: {} handshake with {} failed: {}", this, server ? "server" : "client", p.remote,
                    error == null ? "no peer id" : error.toString());
            t.abandon();
            if (dtls != null) {
                closeQuietly(dtls);
            }
            dropPeer(p);
            return;
        }
        long now = now();
        p.state = State.ESTABLISHED;
        p.dtls = dtls;
        p.peerId = peerId;
        p.peerIdBytes = peerId.toBytes();
        p.since = now;
        p.lastReceived = now;
        p.lastSent = now;
        p.lastData = now;
        authenticated.put(p.remote, peerId);
        stats.inc(Counter.HANDSHAKES_COMPLETED);
        LOG.debug("{}: {} session with {} = {}", this, server ? "server" : "client", p.remote, peerId.shortHex());
        t.established();
        if (server && paths.containsKey(p.remote)) {
            // Over an ICE path (the controlled side opened the session, this side waited for it) data goes at once:
            // our Finished left before it on the same socket, and the client reads its records in order, so only a
            // lost Finished makes the client drop it (the overlay's RPC retries resend it). Waiting for the client's
            // first record, as below, would cost every new link a round trip before it carries overlay traffic.
            p.confirmed = true;
            flushPending(p);
            drain(p);
        } else if (server) {
            // The client may still wait for our Finished; data sent now could arrive before and be dropped. Wait for
            // its first record (it sends one at once, see below), or CONFIRM_WAIT_MILLIS.
            p.confirmed = false;
            drain(p);
        } else {
            p.confirmed = true;
            if (p.pending.isEmpty()) {
                sendKeepalive(p);
            } else {
                flushPending(p);
            }
            drain(p);
        }
    }

    private void confirm(Peer p) {
        p.confirmed = true;
        flushPending(p);
    }

    private void flushPending(Peer p) {
        while (!p.pending.isEmpty() && p.state == State.ESTABLISHED && peers.get(p.remote) == p) {
            sendRecord(p, p.pending.poll());
        }
    }

    // ------------------------------------------------------------------ sending in a session

    private void sendRecord(Peer p, byte[] d) {
        try {
            if (d.length > p.dtls.getSendLimit()) {
                stats.inc(Counter.OVERSIZE);
                return;
            }
            p.dtls.send(d, 0, d.length);
            long now = now();
            p.lastSent = now;
            p.lastData = now;
            stats.inc(Counter.SENT);
        } catch (IOException | RuntimeException e) {
            LOG.debug("{}: sending to {} failed: {}", this, p.remote, e.toString());
            stats.inc(Counter.SESSIONS_CLOSED_BY_PEER);
            closeSession(p, true);
        }
    }

    private void sendKeepalive(Peer p) {
        try {
            p.dtls.send(KEEPALIVE, 0, 0);
            p.lastSent = now();
            stats.inc(Counter.KEEPALIVES_SENT);
        } catch (IOException | RuntimeException e) {
            stats.inc(Counter.SESSIONS_CLOSED_BY_PEER);
            closeSession(p, true);
        }
    }

    // ------------------------------------------------------------------ timers and closing

    private void tick() {
        if (closed) {
            return;
        }
        try {
            sweep(now());
        } catch (RuntimeException e) {
            LOG.warn("{}: session sweep failed: {}", this, e.toString(), e);
        }
    }

    private void sweep(long now) {
        for (Peer p : new ArrayList<>(peers.values())) {
            switch (p.state) {
                case ESTABLISHED -> {
                    if (now - p.lastReceived >= config.deadPeerTimeoutMillis()) {
                        stats.inc(Counter.DEAD_PEER_CLOSED);
                        LOG.debug("{}: nothing from {} for {} ms; closing", this, p.remote, now - p.lastReceived);
                        closeSession(p, true);
                    } else if (config.unusedSessionTimeoutMillis() > 0
                            && now - p.lastData >= config.unusedSessionTimeoutMillis()) {
                        stats.inc(Counter.UNUSED_CLOSED);
                        closeSession(p, true);
                    } else {
                        if (!p.confirmed && now - p.since >= CONFIRM_WAIT_MILLIS) {
                            confirm(p);
                        }
                        if (now - p.lastSent >= config.keepaliveIntervalMillis()) {
                            sendKeepalive(p);
                        }
                    }
                }
                case WAITING, ACCEPTING, CONNECTING -> {
                    // A client attempt may wait for a thread; its own timeout starts when it runs. Bouncy Castle
                    // enforces the handshake timeout; this catches what slips through.
                    long limit = (p.state == State.CONNECTING ? 4L : 2L) * config.handshakeTimeoutMillis() + 1_000;
                    if (now - p.since >= limit) {
                        stats.inc(Counter.HANDSHAKES_FAILED);
                        if (p.transport != null) {
                            p.transport.abandon();
                        }
                        dropPeer(p);
                    }
                }
                default -> { }
            }
        }
    }

    /** Called when Bouncy Castle closes a transport (close_notify or fatal alert received), or we do. */
    private void transportClosed(PeerTransport t) {
        Runnable r = () -> {
            Peer p = peers.get(t.remote);
            if (p != null && p.transport == t && p.state == State.ESTABLISHED) {
                stats.inc(Counter.SESSIONS_CLOSED_BY_PEER);
                LOG.debug("{}: {} closed the session", this, t.remote);
                closeSession(p, false);
            }
        };
        if (loop.inEventLoop()) {
            r.run();
        } else {
            try {
                loop.execute(r);
            } catch (RejectedExecutionException e) {
                // closing
            }
        }
    }

    /** Closes an established session (with close_notify when {@code notify}) and forgets the peer. */
    private void closeSession(Peer p, boolean notify) {
        if (peers.get(p.remote) == p) {
            peers.remove(p.remote);
        }
        if (p.peerId != null) {
            authenticated.remove(p.remote, p.peerId);
        }
        PeerTransport t = p.transport;
        DTLSTransport dtls = p.dtls;
        p.dtls = null;
        p.transport = null;
        if (t != null && !notify) {
            t.abandon(); // no close_notify: the records dtls.close() sends are dropped
        }
        if (dtls != null) {
            closeQuietly(dtls);
        }
        if (t != null) {
            t.abandon();
        }
        if (!p.pending.isEmpty()) {
            stats.add(Counter.PENDING_DROPPED, p.pending.size());
            p.pending.clear();
        }
    }

    private void dropPeer(Peer p) {
        if (peers.get(p.remote) == p) {
            peers.remove(p.remote);
        }
        if (p.peerId != null) {
            authenticated.remove(p.remote, p.peerId);
        }
        if (!p.pending.isEmpty()) {
            stats.add(Counter.PENDING_DROPPED, p.pending.size());
            p.pending.clear();
        }
    }

    private static void closeQuietly(DTLSTransport dtls) {
        try {
            dtls.close();
        } catch (IOException | RuntimeException e) {
            // ignore
        }
    }

    /** Makes room for one more session: evicts the least recently used established one when full. */
    private boolean makeRoom() {
        if (peers.size() < config.maxSessions()) {
            return true;
        }
        Peer victim = null;
        for (Peer p : peers.values()) {
            if (p.state == State.ESTABLISHED && (victim == null || p.lastData < victim.lastData)) {
                victim = p;
            }
        }
        if (victim == null) {
            return false;
        }
        stats.inc(Counter.SESSIONS_EVICTED);
        closeSession(victim, true);
        return true;
    }

    private long now() {
        return System.currentTimeMillis();
    }

    /** Sessions, established or handshaking. Any thread (waits for the event loop). */
    public int sessionCount() {
        if (loop.inEventLoop()) {
            return peers.size();
        }
        try {
            return loop.submit(peers::size).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            return -1;
        }
    }

    /** Closes every session (with close_notify), the socket and the handshake threads. */
    @Override
    public void close() {
        close(true);
    }

    /** Closes like a crash: no close_notify. For tests of peers that restart. */
    void abort() {
        close(false);
    }

    private void close(boolean notifyPeers) {
        if (closed) {
            return;
        }
        Runnable shutdown = () -> {
            closed = true;
            if (ticker != null) {
                ticker.cancel(false);
            }
            for (Peer p : new ArrayList<>(peers.values())) {
                if (p.state == State.ESTABLISHED) {
                    closeSession(p, notifyPeers);
                } else {
                    if (p.transport != null) {
                        p.transport.abandon();
                    }
                    dropPeer(p);
                }
            }
            peers.clear();
            authenticated.clear();
            paths.clear();
        };
        if (loop.inEventLoop()) {
            shutdown.run();
            channel.close();
        } else {
            try {
                loop.submit(shutdown).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                closed = true;
            }
            channel.close().syncUninterruptibly();
        }
        clientHandshakes.shutdownNow();
        serverHandshakes.shutdownNow();
    }

    @Override
    public String toString() {
        return "DtlsLinkLayer[" + identity.id().shortHex() + "@" + channel.localAddress() + "]";
    }
}
