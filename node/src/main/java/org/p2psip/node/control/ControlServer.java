package org.p2psip.node.control;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.p2psip.node.server.TcpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local control port: a TCP server on 127.0.0.1 only, speaking the line protocol of
 * {@link ControlService}. Each connection serves its requests one at a time, in order; lines longer than
 * {@link #MAX_LINE_BYTES} and lines that are not UTF-8 get an {@code ERR} reply and the connection goes on.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
    /** Longest request line: a 64 KiB value plus the command, name, TTL and secret. */
    public static final int MAX_LINE_BYTES = 70 * 1024;
    /** Requests one connection may queue while an earlier one is served. */
    static final int MAX_QUEUED = 32;
    /** Connections served at once. */
    public static final int MAX_CONNECTIONS = 64;

    private final Channel channel;
    private ControlServer(Channel channel) {
        this.channel = channel;
    }

    /** The loopback address 127.0.0.1, the only address the control port binds. */
    public static InetAddress loopback() {
        try {
            return InetAddress.getByAddress("127.0.0.1", new byte[] {127, 0, 0, 1});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Binds 127.0.0.1:{@code port} (0 picks a free port) on {@code group}, which must be an epoll group
     * where epoll is available (as {@code UdpLinkLayer.newEventLoopGroup} makes) and NIO elsewhere.
     */
    public static CompletableFuture<ControlServer> bind(EventLoopGroup group, int port, ControlService service) {
        InetSocketAddress address = new InetSocketAddress(loopback(), port);
        AtomicInteger connections = new AtomicInteger();
        return TcpServer.bind(group, address, "control port", "choose another with --control-port", 64,
                new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new LineBasedFrameDecoder(MAX_LINE_BYTES, true, true),
                                new Handler(service, connections));
                    }
                }).thenApply(ControlServer::new);
    }

    /** The bound address, on 127.0.0.1. */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Stops accepting; open connections are closed. */
    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }

    /** One connection: requests queue and are served one at a time so that replies keep their order. */
    private static final class Handler extends ChannelInboundHandlerAdapter {
        /** Marks a queued line that was too long. */
        private static final String TOO_LONG = new String("too long");
        /** Marks a queued line that was not UTF-8. */
        private static final String NOT_UTF8 = new String("not utf-8");

        private final ControlService service;
        private final AtomicInteger connections;
        private final ArrayDeque<String> queue = new ArrayDeque<>();
        private boolean busy;
        private boolean closing;

        Handler(ControlService service, AtomicInteger connections) {
            this.service = service;
            this.connections = connections;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (connections.incrementAndGet() > MAX_CONNECTIONS) {
                closing = true;
                ctx.writeAndFlush(ctx.alloc().buffer().writeBytes(("ERR too many control connections (at most "
                        + MAX_CONNECTIONS + ")\n").getBytes(StandardCharsets.UTF_8)))
                        .addListener(ChannelFutureListener.CLOSE);
            }
            ctx.fireChannelActive();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            connections.decrementAndGet();
            closing = true;
            queue.clear();
            ctx.fireChannelInactive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                if (closing) {
                    return;
                }
                String line;
                if (ByteBufUtil.isText(buf, StandardCharsets.UTF_8)) {
                    line = buf.toString(StandardCharsets.UTF_8);
                } else {
                    line = NOT_UTF8;
                }
                enqueue(ctx, line);
            } finally {
                buf.release();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof TooLongFrameException
                    || cause instanceof DecoderException && cause.getCause() instanceof TooLongFrameException) {
                // The decoder drops the rest of the line and goes on with the next one.
                enqueue(ctx, TOO_LONG);
                return;
            }
            if (!(cause instanceof IOException)) {
                LOG.debug("control connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
            }
            ctx.close();
        }

        private void enqueue(ChannelHandlerContext ctx, String line) {
            if (closing) {
                return;
            }
            if (queue.size() >= MAX_QUEUED) {
                closing = true;
                queue.clear();
                ctx.writeAndFlush(ctx.alloc().buffer().writeBytes(("ERR more than " + MAX_QUEUED
                        + " requests queued on one connection; closing it\n").getBytes(StandardCharsets.UTF_8)))
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            queue.add(line);
            if (queue.size() > 1) {
                ctx.channel().config().setAutoRead(false);
            }
            next(ctx);
        }

        private void next(ChannelHandlerContext ctx) {
            if (busy || closing) {
                return;
            }
            String line = queue.poll();
            if (line == null) {
                ctx.channel().config().setAutoRead(true);
                return;
            }
            busy = true;
            CompletableFuture<ControlService.Reply> reply;
            if (line == TOO_LONG) {
                reply = CompletableFuture.completedFuture(ControlService.Reply.err(
                        "request line longer than " + MAX_LINE_BYTES + " bytes; it was dropped"));
            } else if (line == NOT_UTF8) {
                reply = CompletableFuture.completedFuture(ControlService.Reply.err("request line is not valid UTF-8"));
            } else {
                reply = service.handle(line);
            }
            reply.whenComplete((r, e) -> ctx.executor().execute(() -> {
                ControlService.Reply out = r != null ? r : ControlService.Reply.err("internal error: " + e);
                write(ctx, out.lines()).addListener(f -> {
                    busy = false;
                    if (out.close() || !f.isSuccess()) {
                        closing = true;
                        ctx.close();
                    } else {
                        next(ctx);
                    }
                });
            }));
        }

        private static ChannelFuture write(ChannelHandlerContext ctx, List<String> lines) {
            StringBuilder sb = new StringBuilder();
            for (String l : lines) {
                sb.append(l).append('\n');
            }
            return ctx.writeAndFlush(ctx.alloc().buffer().writeBytes(sb.toString().getBytes(StandardCharsets.UTF_8)));
        }
    }
}
