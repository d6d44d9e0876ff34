package org.p2psip.node.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * Binds one of the node's small TCP servers (control port, XML-RPC gateway, metrics endpoint), so that the channel
 * type, the socket options and the error a user reads when the port is taken are the same for all of them.
 */
public final class TcpServer {
    private TcpServer() {
    }

    /**
     * Binds {@code address} on {@code group} (an epoll group where epoll is available, NIO elsewhere).
     *
     * @param what    the server's name in the error, e.g. "XML-RPC gateway"
     * @param fix     what the user can do when the bind fails, e.g. "choose another with --xmlrpc-port"
     * @param backlog the listen backlog
     * @param init    sets up each accepted connection's pipeline
     * @return the bound server channel, or a failure "cannot open the WHAT on TCP ADDRESS: CAUSE (is another node
     *         running? FIX)"
     */
    public static CompletableFuture<Channel> bind(EventLoopGroup group, InetSocketAddress address, String what,
            String fix, int backlog, ChannelInitializer<Channel> init) {
        CompletableFuture<Channel> result = new CompletableFuture<>();
        new ServerBootstrap()
                .group(group)
                .channel(Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, backlog)
                .childHandler(init)
                .bind(address).addListener((ChannelFuture f) -> {
                    if (f.isSuccess()) {
                        result.complete(f.channel());
                    } else {
                        result.completeExceptionally(new IOException("cannot open the " + what + " on TCP " + address
                                + ": " + f.cause().getMessage() + " (is another node running? " + fix + ")", f.cause()));
                    }
                });
        return result;
    }
}
