package org.p2psip.node.xmlrpc;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.p2psip.node.server.ConnectionGuard;
import org.p2psip.node.server.TcpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The XML-RPC gateway's HTTP server: {@code POST /RPC2} (or {@code POST /}) with an XML-RPC
 * {@code methodCall} body, answered with HTTP 200 and a {@code methodResponse} (a result or a fault).
 *
 * <p>Limits: bodies up to {@link #MAX_BODY_BYTES} (larger ones get HTTP 413 and the connection is closed),
 * {@link #MAX_CONNECTIONS} connections at once, connections idle for {@link #IDLE_SECONDS} s are closed,
 * one request at a time per connection, in order (pipelined requests wait, at most {@link #MAX_QUEUED}).
 * Only {@code POST} (405 otherwise) to {@code /RPC2} or {@code /}
 * (404 otherwise).
 *
 * <p>Security: {@link #bind} refuses a non-loopback address without a token. With a token, every request
 * must carry it as {@code Authorization: Bearer <token>} or as a {@code token} query parameter
 * ({@code /RPC2?token=...}); otherwise HTTP 401.
 */
public final class XmlRpcServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(XmlRpcServer.class);
    /** Largest request body: 256 KiB. */
    public static final int MAX_BODY_BYTES = 256 * 1024;
    /** Connections served at once. */
    public static final int MAX_CONNECTIONS = 64;
    /** Seconds a connection may stay idle (no request being read or served). */
    public static final int IDLE_SECONDS = 60;
    /** Requests one connection may have waiting behind the one being served (HTTP pipelining). */
    static final int MAX_QUEUED = 16;

    private final Channel channel;

    private XmlRpcServer(Channel channel) {
        this.channel = channel;
    }

    /**
     * Binds {@code address} (port 0 picks a free one) on {@code group} (epoll where available, else NIO).
     *
     * @param token the bearer token every request must carry, or null for none; required (non-empty) when
     *              {@code address} is not a loopback address
     * @throws IllegalArgumentException when a non-loopback address is given without a token
     */
    public static CompletableFuture<XmlRpcServer> bind(EventLoopGroup group, InetSocketAddress address, String token,
                                                       XmlRpcHandler handler) {
        if (token != null && token.isEmpty()) {
            token = null;
        }
        InetAddress a = address.getAddress();
        if (token == null && (a == null || !a.isLoopbackAddress())) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("the XML-RPC gateway may bind "
                    + (a == null ? address.getHostString() : a.getHostAddress())
                    + ", which is not a loopback address, only with a token (--xmlrpc-token); "
                    + "without one it binds 127.0.0.1 only"));
        }
        byte[] tokenBytes = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
        AtomicInteger connections = new AtomicInteger();
        return TcpServer.bind(group, address, "XML-RPC gateway", "choose another with --xmlrpc-port", 64,
                new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(
                                new IdleStateHandler(0, 0, IDLE_SECONDS),
                                new HttpServerCodec(4096, 8192, 8192),
                                new HttpObjectAggregator(MAX_BODY_BYTES, true),
                                new Handler(handler, tokenBytes),
                                new ConnectionGuard(connections, MAX_CONNECTIONS, "XML-RPC"));
                    }
                }).thenApply(XmlRpcServer::new);
    }

    /** The bound address. */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final XmlRpcHandler handler;
        private final byte[] token;
        private final java.util.ArrayDeque<FullHttpRequest> queue = new java.util.ArrayDeque<>();
        private boolean busy;

        Handler(XmlRpcHandler handler, byte[] token) {
            this.handler = handler;
            this.token = token;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            FullHttpRequest r;
            while ((r = queue.poll()) != null) {
                r.release();
            }
            super.channelInactive(ctx);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            // Requests are served one at a time, in order; while one is served the connection stops reading, and
            // requests already decoded from the same read (pipelining) wait in the queue.
            ctx.channel().config().setAutoRead(false);
            if (queue.size() >= MAX_QUEUED) {
                ctx.close();
                return;
            }
            queue.add(req.retain());
            if (!busy) {
                next(ctx);
            }
        }

        private void next(ChannelHandlerContext ctx) {
            FullHttpRequest req = queue.poll();
            if (req == null) {
                busy = false;
                if (ctx.channel().isActive()) {
                    ctx.channel().config().setAutoRead(true);
                }
                return;
            }
            busy = true;
            try {
                serve(ctx, req);
            } finally {
                req.release();
            }
        }

        private void serve(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            if (!req.decoderResult().isSuccess()) {
                plain(ctx, HttpResponseStatus.BAD_REQUEST, "bad HTTP request\n", false);
                return;
            }
            QueryStringDecoder q = new QueryStringDecoder(req.uri());
            if (!q.path().equals("/RPC2") && !q.path().equals("/")) {
                plain(ctx, HttpResponseStatus.NOT_FOUND, "XML-RPC is served at POST /RPC2\n", keepAlive);
                if (keepAlive) {
                    next(ctx);
                }
                return;
            }
            if (!req.method().equals(HttpMethod.POST)) {
                FullHttpResponse r = response(HttpResponseStatus.METHOD_NOT_ALLOWED, "XML-RPC takes POST\n", "text/plain; charset=utf-8");
                r.headers().set(HttpHeaderNames.ALLOW, "POST");
                send(ctx, r, keepAlive);
                if (keepAlive) {
                    next(ctx);
                }
                return;
            }
            if (token != null && !authorized(req, q)) {
                FullHttpResponse r = response(HttpResponseStatus.UNAUTHORIZED, "a token is required\n", "text/plain; charset=utf-8");
                r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
                send(ctx, r, keepAlive);
                if (keepAlive) {
                    next(ctx);
                }
                return;
            }
            byte[] body = ByteBufUtil.getBytes(req.content());
            CompletableFuture<Object> result;
            try {
                XmlRpcCodec.MethodCall call = XmlRpcCodec.decodeCall(body);
                result = handler.call(call.methodName(), call.params());
            } catch (XmlRpcFault f) {
                result = CompletableFuture.failedFuture(f);
            } catch (RuntimeException e) {
                LOG.warn("XML-RPC call failed", e);
                result = CompletableFuture.failedFuture(new XmlRpcFault(XmlRpcFault.INTERNAL_ERROR, "internal error"));
            }
            result.whenComplete((value, e) -> ctx.executor().execute(() -> {
                byte[] xml;
                if (e == null) {
                    try {
                        xml = XmlRpcCodec.encodeResponse(value);
                    } catch (RuntimeException x) {
                        LOG.warn("cannot encode an XML-RPC result", x);
                        xml = XmlRpcCodec.encodeFault(XmlRpcFault.INTERNAL_ERROR, "internal error");
                    }
                } else {
                    Throwable c = e;
                    while (c instanceof CompletionException && c.getCause() != null) {
                        c = c.getCause();
                    }
                    if (c instanceof XmlRpcFault f) {
                        xml = XmlRpcCodec.encodeFault(f.code(), f.getMessage());
                    } else {
                        LOG.debug("XML-RPC call failed: {}", c.toString());
                        xml = XmlRpcCodec.encodeFault(XmlRpcFault.INTERNAL_ERROR,
                                c.getMessage() != null ? c.getMessage() : c.toString());
                    }
                }
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        Unpooled.wrappedBuffer(xml));
                r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/xml; charset=utf-8");
                send(ctx, r, keepAlive);
                if (keepAlive) {
                    next(ctx);
                }
            }));
        }

        private boolean authorized(FullHttpRequest req, QueryStringDecoder q) {
            String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
            if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)
                    && MessageDigest.isEqual(token, auth.substring(7).trim().getBytes(StandardCharsets.UTF_8))) {
                return true;
            }
            List<String> t = q.parameters().get("token");
            return t != null && t.size() == 1 && MessageDigest.isEqual(token, t.get(0).getBytes(StandardCharsets.UTF_8));
        }

        private static FullHttpResponse response(HttpResponseStatus status, String text, String type) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.UTF_8)));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
            return r;
        }

        private static void plain(ChannelHandlerContext ctx, HttpResponseStatus status, String text, boolean keepAlive) {
            send(ctx, response(status, text, "text/plain; charset=utf-8"), keepAlive);
        }

        private static void send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
            HttpUtil.setContentLength(r, r.content().readableBytes());
            if (keepAlive) {
                HttpUtil.setKeepAlive(r, true);
                ctx.writeAndFlush(r);
            } else {
                r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
