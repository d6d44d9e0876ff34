package org.p2psip.node.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a connection to one of the node's HTTP servers: it closes the connection when more than
 * {@code max} are open on that server (so a local client cannot exhaust the node's file descriptors), when an
 * {@link IdleStateEvent} says it went idle, and when any handler before it failed (logged at debug level: a
 * client that sends garbage is not the node's error). One instance per connection.
 */
public final class ConnectionGuard extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionGuard.class);

    private final AtomicInteger open;
    private final int max;
    private final String what;
    private boolean counted;

    /**
     * @param open the server's count of open connections, shared by its guards
     * @param max  the most connections the server keeps open
     * @param what the server's name in log lines, e.g. "XML-RPC"
     */
    public ConnectionGuard(AtomicInteger open, int max, String what) {
        this.open = open;
        this.max = max;
        this.what = what;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        counted = true;
        if (open.incrementAndGet() > max) {
            ctx.close();
            return;
        }
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (counted) {
            open.decrementAndGet();
            counted = false;
        }
        super.channelInactive(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("{} connection {}: {}", what, ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
