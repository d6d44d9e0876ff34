package org.p2psip.sip.transport;

import com.google.common.net.InetAddresses;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.p2psip.sip.message.SipLimits;
import org.p2psip.sip.message.SipMessage;
import org.p2psip.sip.message.SipParseException;
import org.p2psip.sip.message.SipParser;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.SipStreamFramer;
import org.p2psip.sip.message.Via;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIP over UDP and TCP on one port (RFC 3261 §18). UDP datagrams are read whole up to 64 KiB (Netty would cut them
 * at 2048 bytes); TCP connections are framed by {@link SipStreamFramer} and answer RFC 5626 CRLF pings. Received
 * requests get {@code received}/{@code rport} (RFC 3581) before the listener sees them; malformed requests that can
 * be answered get their 400/505/513 straight back to the source; malformed responses are dropped. All limits are
 * bounded: message size, connections, idle time.
 */
public final class SipTransport implements SipSender, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SipTransport.class);

    /** Receives every well-formed message, on a Netty event loop thread: hand it on, do not block. */
    public interface Listener {
        void onMessage(SipMessage message, Source source);
    }

    /**
     * @param bind address and port for both UDP and TCP (port 0: one free port for both)
     * @param threads event loop threads
     * @param maxConnections TCP connections beyond this are closed at once
     * @param tcpIdleTimeout a TCP connection with no traffic either way for this long is closed
     */
    public record Config(InetSocketAddress bind, SipLimits limits, int threads, int maxConnections,
            Duration tcpIdleTimeout, SipTls tls) {
        public static Config of(InetSocketAddress bind) {
            return new Config(bind, SipLimits.DEFAULT, 1, 1024, Duration.ofMinutes(10), null);
        }

        /** Also SIP over TLS, on {@code tls.port()} of the same address (null: no TLS). */
        public Config withTls(SipTls t) {
            return new Config(bind, limits, threads, maxConnections, tcpIdleTimeout, t);
        }
    }

    /** A connection's identity: its transport (TCP or TLS) and the remote address. */
    private record Flow(Transport transport, InetSocketAddress remote) {
    }

    /** Counters, for tests and metrics. */
    public record Stats(long received, long malformed, long answeredMalformed, long keepalives, long nonSip,
            long sendFailures, int connections, long stunAnswered) {
    }

    private final Config config;
    private final Listener listener;
    private final SipParser parser;
    private final EventLoopGroup group;
    private final boolean epoll = Epoll.isAvailable();
    private final Map<Flow, Channel> connections = new ConcurrentHashMap<>();
    private final Map<Flow, CompletableFuture<Channel>> connecting = new ConcurrentHashMap<>();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong keepalives = new AtomicLong();
    private final AtomicLong nonSip = new AtomicLong();
    private final AtomicLong stunAnswered = new AtomicLong();
    private final AtomicLong sendFailures = new AtomicLong();
    private Channel udp;
    private Channel tcpServer;
    private Channel tlsServer;

    private SipTransport(Config config, Listener listener) {
        this.config = config;
        this.listener = listener;
        this.parser = new SipParser(config.limits());
        this.group = new MultiThreadIoEventLoopGroup(config.threads(), new DefaultThreadFactory("sip-io", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    }

    /** Binds UDP and TCP on the configured address (blocking until bound). */
    public static SipTransport start(Config config, Listener listener) throws IOException {
        SipTransport t = new SipTransport(config, listener);
        try {
            t.bind();
        } catch (IOException | RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    private void bind() throws IOException {
        IOException last = null;
        for (int attempt = 0; attempt < 20; attempt++) {
            ChannelFuture tf = serverBootstrap(Transport.TCP).bind(config.bind()).awaitUninterruptibly();
            if (!tf.isSuccess()) {
                throw new IOException("cannot bind TCP " + config.bind() + ": " + tf.cause().getMessage(), tf.cause());
            }
            tcpServer = tf.channel();
            int port = ((InetSocketAddress) tcpServer.localAddress()).getPort();
            ChannelFuture uf = udpBootstrap().bind(new InetSocketAddress(config.bind().getAddress(), port))
                    .awaitUninterruptibly();
            if (uf.isSuccess()) {
                udp = uf.channel();
                org.p2psip.overlay.link.ReceiveBuffers.check(udp, "SIP UDP");
                bindTls();
                return;
            }
            tcpServer.close().awaitUninterruptibly();
            last = new IOException("cannot bind UDP port " + port + ": " + uf.cause().getMessage(), uf.cause());
            if (config.bind().getPort() != 0 || !addressInUse(uf.cause())) {
                break; // a fixed port that is taken stays taken
            }
        }
        throw last;
    }

    private void bindTls() throws IOException {
        if (config.tls() == null) {
            return;
        }
        InetSocketAddress at = new InetSocketAddress(config.bind().getAddress(), config.tls().port());
        ChannelFuture f = serverBootstrap(Transport.TLS).bind(at).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new IOException("cannot bind the SIP TLS port " + at + ": " + f.cause().getMessage()
                    + "; choose another TLS port (0 for any free one)", f.cause());
        }
        tlsServer = f.channel();
    }

    /**
     * The UDP twin of the TCP port chosen is taken (by someone's ephemeral UDP socket): try another port. Epoll
     * reports it as a {@code NativeIoException} (errno EADDRINUSE), NIO as a {@link BindException}.
     */
    private static boolean addressInUse(Throwable t) {
        return t instanceof BindException
                || (t != null && t.getMessage() != null && t.getMessage().contains("Address already in use"));
    }

    private Bootstrap udpBootstrap() {
        return new Bootstrap().group(group)
                .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, org.p2psip.overlay.link.ReceiveBuffers.REQUESTED)
                // Netty reads 2048 bytes per datagram by default and silently drops the rest. (RECVBUF_ALLOCATOR is
                // Netty 4.2's name for the deprecated RCVBUF_ALLOCATOR.)
                .option(ChannelOption.RECVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(65_535))
                .handler(new UdpHandler());
    }

    private ServerBootstrap serverBootstrap(Transport transport) {
        return new ServerBootstrap().group(group)
                .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 256)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new TcpInitializer(transport, null));
    }

    /** The bound address; UDP and TCP share the port. */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) udp.localAddress();
    }

    /** The TLS listener's address, if TLS is configured. */
    public java.util.Optional<InetSocketAddress> tlsAddress() {
        return tlsServer == null ? java.util.Optional.empty()
                : java.util.Optional.of((InetSocketAddress) tlsServer.localAddress());
    }

    public EventLoopGroup group() {
        return group;
    }

    public Stats stats() {
        return new Stats(received.get(), malformed.get(), answered.get(), keepalives.get(), nonSip.get(),
                sendFailures.get(), connections.size(), stunAnswered.get());
    }

    @Override
    public CompletableFuture<Void> sendRequest(SipRequest request, Target target) {
        return send(request, target);
    }

    /** Sends any message to a target. Fails for broadcast, multicast and wildcard addresses. */
    public CompletableFuture<Void> send(SipMessage message, Target target) {
        if (target.address().isUnresolved() || ViaProcessing.forbidden(target.address().getAddress())) {
            sendFailures.incrementAndGet();
            return CompletableFuture.failedFuture(new IOException("refusing to send to " + target.address()));
        }
        byte[] bytes = message.encode();
        if (target.transport() == Transport.UDP) {
            return write(udp, new DatagramPacket(Unpooled.wrappedBuffer(bytes), target.address()));
        }
        return connection(new Flow(target.transport(), target.address()))
                .thenCompose(ch -> write(ch, Unpooled.wrappedBuffer(bytes)));
    }

    @Override
    public CompletableFuture<Void> sendResponse(SipResponse response, Source requestSource) {
        Via via;
        try {
            via = response.topVia();
        } catch (SipParseException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (requestSource.transport().reliable()) {
            Channel ch = connections.get(new Flow(requestSource.transport(), requestSource.remote()));
            if (ch != null && ch.isActive()) {
                return write(ch, Unpooled.wrappedBuffer(response.encode()));
            }
        }
        CompletableFuture<InetSocketAddress> dest;
        if (literal(via)) {
            try {
                dest = CompletableFuture.completedFuture(ViaProcessing.responseAddress(via));
            } catch (UnknownHostException e) {
                dest = CompletableFuture.failedFuture(e);
            }
        } else {
            dest = CompletableFuture.supplyAsync(() -> {
                try {
                    return ViaProcessing.responseAddress(via);
                } catch (UnknownHostException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            }, ForkJoinPool.commonPool());
        }
        return dest.thenCompose(a -> send(response, new Target(requestSource.transport(), a)));
    }

    private static boolean literal(Via via) {
        String h = via.maddr().orElse(via.received().orElse(via.host()));
        return InetAddresses.isInetAddress(ViaProcessing.stripBrackets(h));
    }

    private CompletableFuture<Void> write(Channel ch, Object msg) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        ch.writeAndFlush(msg).addListener(w -> {
            if (w.isSuccess()) {
                f.complete(null);
            } else {
                sendFailures.incrementAndGet();
                f.completeExceptionally(w.cause());
            }
        });
        return f;
    }

    private CompletableFuture<Channel> connection(Flow remote) {
        Channel ch = connections.get(remote);
        if (ch != null && ch.isActive()) {
            return CompletableFuture.completedFuture(ch);
        }
        if (remote.transport() == Transport.TLS && config.tls() == null) {
            sendFailures.incrementAndGet();
            return CompletableFuture.failedFuture(new IOException("cannot send over TLS to " + remote.remote()
                    + ": this node has no TLS configuration (give it a certificate and key)"));
        }
        return connecting.computeIfAbsent(remote, r -> {
            CompletableFuture<Channel> f = new CompletableFuture<>();
            new Bootstrap().group(group)
                    .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
                    .handler(new TcpInitializer(r.transport(), r.remote()))
                    .connect(r.remote()).addListener(c -> {
                        connecting.remove(r);
                        if (c.isSuccess()) {
                            f.complete(((ChannelFuture) c).channel());
                        } else {
                            sendFailures.incrementAndGet();
                            f.completeExceptionally(c.cause());
                        }
                    });
            return f;
        });
    }

    /** Common handling of one parsed message. */
    private void deliver(SipMessage m, Source source) {
        received.incrementAndGet();
        if (m instanceof SipRequest r) {
            m = ViaProcessing.stampReceived(r, source.remote());
        }
        try {
            listener.onMessage(m, source);
        } catch (RuntimeException e) {
            LOG.warn("SIP listener failed on a message from {}", source.remote(), e);
        }
    }

    /** Answers a malformed request if it can be, else drops it; both are counted. */
    private void refuse(SipParseException e, Source source, Channel ch) {
        malformed.incrementAndGet();
        if (e.answerable().isEmpty()) {
            LOG.debug("dropped malformed message from {}: {}", source.remote(), e.reason());
            return;
        }
        SipRequest partial = e.answerable().get();
        if (partial.method().equals(SipRequest.ACK)) {
            return; // ACKs are never answered
        }
        SipResponse answer = SipResponse.forRequest(partial, e.status(), e.reason());
        answered.incrementAndGet();
        LOG.debug("answered malformed request from {} with {} {}", source.remote(), e.status(), e.reason());
        if (source.transport() == Transport.UDP) {
            write(udp, new DatagramPacket(Unpooled.wrappedBuffer(answer.encode()), source.remote()));
        } else {
            write(ch, Unpooled.wrappedBuffer(answer.encode()));
        }
    }

    @Override
    public void close() {
        if (udp != null) {
            udp.close();
        }
        if (tcpServer != null) {
            tcpServer.close();
        }
        if (tlsServer != null) {
            tlsServer.close();
        }
        connections.values().forEach(Channel::close);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private final class UdpHandler extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            ByteBuf buf = packet.content();
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            Source source = new Source(Transport.UDP, packet.sender(), (InetSocketAddress) ctx.channel().localAddress());
            if (isKeepalive(bytes)) {
                keepalives.incrementAndGet();
                return;
            }
            if (bytes[0] == 0 || bytes[0] == 1) {
                // STUN shares the port (RFC 5626 keepalives): a Binding request is answered, anything else dropped
                var answer = StunKeepalives.answer(bytes, packet.sender());
                if (answer.isPresent()) {
                    stunAnswered.incrementAndGet();
                    ctx.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(answer.get()), packet.sender()));
                } else {
                    nonSip.incrementAndGet();
                }
                return;
            }
            SipMessage m;
            try {
                m = parser.parseDatagram(bytes);
            } catch (SipParseException e) {
                refuse(e, source, ctx.channel());
                return;
            }
            deliver(m, source);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // ICMP errors surface here; the transaction layer's timers deal with the consequences.
        }
    }

    private static boolean isKeepalive(byte[] b) {
        for (byte x : b) {
            if (x != '\r' && x != '\n' && x != ' ') {
                return false;
            }
        }
        return true;
    }

    /** A stream connection's pipeline: TLS first when the transport is TLS, then idle timeout and SIP framing. */
    private final class TcpInitializer extends ChannelInitializer<SocketChannel> {
        private final Transport transport;
        private final InetSocketAddress server; // for connections we open: whom the certificate must name

        TcpInitializer(Transport transport, InetSocketAddress server) {
            this.transport = transport;
            this.server = server;
        }

        @Override
        protected void initChannel(SocketChannel ch) {
            if (transport == Transport.TLS) {
                io.netty.handler.ssl.SslHandler ssl;
                if (server == null) {
                    ssl = config.tls().server().newHandler(ch.alloc());
                } else {
                    ssl = config.tls().client().newHandler(ch.alloc(), server.getHostString(), server.getPort());
                    // the server's certificate must name the address or host we connect to (RFC 5922 §7.2)
                    javax.net.ssl.SSLParameters p = ssl.engine().getSSLParameters();
                    p.setEndpointIdentificationAlgorithm("HTTPS");
                    ssl.engine().setSSLParameters(p);
                }
                ssl.setHandshakeTimeout(10, TimeUnit.SECONDS);
                ch.pipeline().addLast(ssl);
            }
            long idle = config.tcpIdleTimeout().toMillis();
            ch.pipeline().addLast(new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS), new TcpHandler(transport));
        }
    }

    private final class TcpHandler extends ChannelInboundHandlerAdapter {
        private final Transport transport;
        private SipStreamFramer framer;
        private Source source;
        private Flow flow;

        TcpHandler(Transport transport) {
            this.transport = transport;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
            if (connections.size() >= config.maxConnections()) {
                LOG.warn("refusing TCP connection from {}: {} connections open", remote, connections.size());
                ctx.close();
                return;
            }
            boolean outbound = ctx.channel().parent() == null;
            framer = new SipStreamFramer(parser,
                    outbound ? SipStreamFramer.Role.CLIENT : SipStreamFramer.Role.SERVER);
            source = new Source(transport, remote, (InetSocketAddress) ctx.channel().localAddress());
            flow = new Flow(transport, remote);
            Channel old = connections.put(flow, ctx.channel());
            if (old != null && old != ctx.channel()) {
                old.close();
            }
            ctx.fireChannelActive();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (flow != null) {
                connections.remove(flow, ctx.channel());
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            byte[] bytes;
            try {
                bytes = new byte[buf.readableBytes()];
                buf.readBytes(bytes);
            } finally {
                buf.release();
            }
            if (framer == null) {
                return;
            }
            for (SipStreamFramer.Frame f : framer.feed(bytes)) {
                if (f instanceof SipStreamFramer.Message m) {
                    deliver(m.message(), source);
                } else if (f instanceof SipStreamFramer.Ping) {
                    keepalives.incrementAndGet();
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(SipStreamFramer.PONG_BYTES));
                } else if (f instanceof SipStreamFramer.Pong) {
                    keepalives.incrementAndGet();
                } else if (f instanceof SipStreamFramer.Error e) {
                    refuse(e.error(), source, ctx.channel());
                    if (e.error().framingLost()) {
                        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(x -> ctx.close());
                    }
                }
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                ctx.close();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("TCP connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }
}
