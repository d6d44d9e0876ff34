package org.p2psip.nat.udp;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/** Netty UDP plumbing shared by the STUN and TURN servers and clients: epoll where available, whole datagrams. */
public final class UdpSockets {
    private UdpSockets() {
    }

    /** Handles one received datagram; {@code bytes} is a private copy. */
    @FunctionalInterface
    public interface Handler {
        void onDatagram(Channel channel, InetSocketAddress sender, byte[] bytes);
    }

    /** A group of {@code threads} daemon event loops named {@code name}. */
    public static EventLoopGroup newGroup(int threads, String name) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true),
                Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    }

    /**
     * Binds a UDP socket on {@code group} (give an {@code EventLoop} to pin the channel to one thread). The future
     * completes on that event loop, or fails with an {@link IOException} naming the address.
     */
    public static CompletableFuture<Channel> bind(EventLoopGroup group, InetSocketAddress address, int receiveBuffer,
                                                  Handler handler) {
        CompletableFuture<Channel> result = new CompletableFuture<>();
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(Epoll.isAvailable() ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, receiveBuffer)
                // Netty would cut datagrams at 2048 bytes; read whole ones so that length checks see the truth.
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(65_535))
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
                        ByteBuf buf = packet.content();
                        byte[] bytes = new byte[buf.readableBytes()];
                        buf.readBytes(bytes);
                        handler.onDatagram(ctx.channel(), packet.sender(), bytes);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        // ICMP errors (port unreachable) surface here; STUN retransmissions and timeouts handle them,
                        // and UDP relaying ignores them.
                    }
                });
        b.bind(address).addListener(f -> {
            if (f.isSuccess()) {
                result.complete(((ChannelFuture) f).channel());
            } else {
                result.completeExceptionally(new IOException("cannot bind UDP " + address + ": "
                        + f.cause().getMessage(), f.cause()));
            }
        });
        return result;
    }

    /** Sends one datagram, fire and forget. */
    public static void send(Channel channel, InetSocketAddress to, byte[] bytes) {
        channel.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(bytes), to));
    }
}
