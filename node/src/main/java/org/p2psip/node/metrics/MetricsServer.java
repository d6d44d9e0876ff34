package org.p2psip.node.metrics;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.p2psip.node.server.ConnectionGuard;
import org.p2psip.node.server.TcpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@link PeerMetrics} over HTTP: {@code GET /metrics} in the Prometheus text format, on a loopback address
 * only (the figures describe the node and its neighbours; a Prometheus server elsewhere reaches it through a proxy
 * or tunnel). One request per connection ({@code Connection: close}; a body is ignored); other paths get 404, other
 * methods 405, a request line over 4 KiB or headers over 8 KiB 400; more than {@link #MAX_CONNECTIONS}
 * connections and connections idle for {@link #IDLE_SECONDS} s are closed.
 */
public final class MetricsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);
    /** The path metrics are served at. */
    public static final String PATH = "/metrics";
    static final int MAX_CONNECTIONS = 16;
    static final int IDLE_SECONDS = 30;

    private final Channel channel;

    private MetricsServer(Channel channel) {
        this.channel = channel;
    }

    /**
     * Binds {@code address}, which must be a loopback address (port 0 picks a free one).
     *
     * The future fails for a non-loopback address or a port in use.
     */
    public static CompletableFuture<MetricsServer> bind(EventLoopGroup group, InetSocketAddress address, PeerMetrics metrics) {
        if (address.getAddress() == null || !address.getAddress().isLoopbackAddress()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("the metrics endpoint binds a loopback "
                    + "address only, not " + address.getHostString()));
        }
        AtomicInteger connections = new AtomicInteger();
        return TcpServer.bind(group, address, "metrics endpoint", "choose another with --metrics-port, or -1 to disable it",
                16, new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new IdleStateHandler(0, 0, IDLE_SECONDS),
                                new HttpServerCodec(4096, 8192, 8192),
                                new Handler(metrics),
                                new ConnectionGuard(connections, MAX_CONNECTIONS, "metrics"));
                    }
                }).thenApply(MetricsServer::new);
    }

    /** The bound address. */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }

    /** Answers the first request head of a connection and closes it; bodies and anything after are ignored. */
    private static final class Handler extends SimpleChannelInboundHandler<HttpObject> {
        private final PeerMetrics metrics;
        private boolean served;

        Handler(PeerMetrics metrics) {
            this.metrics = metrics;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (served || !(msg instanceof HttpRequest req)) {
                return; // one request per connection: its body and anything pipelined after it are ignored
            }
            served = true;
            ctx.channel().config().setAutoRead(false);
            if (!req.decoderResult().isSuccess()) {
                send(ctx, text(HttpResponseStatus.BAD_REQUEST, "bad HTTP request\n"));
                return;
            }
            if (!new QueryStringDecoder(req.uri()).path().equals(PATH)) {
                send(ctx, text(HttpResponseStatus.NOT_FOUND, "metrics are served at GET " + PATH + "\n"));
                return;
            }
            boolean head = req.method().equals(HttpMethod.HEAD);
            if (!head && !req.method().equals(HttpMethod.GET)) {
                FullHttpResponse r = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "metrics take GET\n");
                r.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
                send(ctx, r);
                return;
            }
            metrics.refresh().whenComplete((x, e) -> ctx.executor().execute(() -> {
                FullHttpResponse r;
                try {
                    byte[] body = metrics.scrape();
                    r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                            head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
                    r.headers().set(HttpHeaderNames.CONTENT_TYPE, metrics.contentType());
                    HttpUtil.setContentLength(r, body.length);
                } catch (RuntimeException ex) {
                    LOG.warn("cannot render the metrics", ex);
                    r = text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "cannot render the metrics: " + ex + "\n");
                }
                send(ctx, r);
            }));
        }

        private static FullHttpResponse text(HttpResponseStatus status, String text) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.UTF_8)));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            HttpUtil.setContentLength(r, r.content().readableBytes());
            return r;
        }

        private static void send(ChannelHandlerContext ctx, FullHttpResponse r) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
