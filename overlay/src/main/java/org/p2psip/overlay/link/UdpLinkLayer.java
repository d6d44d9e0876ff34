package org.p2psip.overlay.link;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
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
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.p2psip.overlay.runtime.EventLoopScheduler;
import org.p2psip.overlay.runtime.Scheduler;

/** Direct UDP links on one Netty datagram channel. The channel's event loop is the node's scheduler. */
public final class UdpLinkLayer implements LinkLayer {
    /** Datagrams are read whole up to the IPv4 UDP maximum; Netty would cut them at 2048 bytes. */
    private static final int RECEIVE_BUFFER = 65_535;

    private final Channel channel;
    private final Scheduler scheduler;
    private final int maxDatagram;
    private final AtomicLong sendFailures = new AtomicLong();
    private volatile Receiver receiver = (from, d, len) -> { };

    private UdpLinkLayer(Channel channel, int maxDatagram) {
        this.channel = channel;
        this.scheduler = new EventLoopScheduler(channel.eventLoop());
        this.maxDatagram = maxDatagram;
    }

    /** An event loop group for link layers: epoll where the kernel has it, NIO elsewhere. */
    public static EventLoopGroup newEventLoopGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads,
                Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    }

    /**
     * Binds a UDP socket on {@code address} (port 0 picks a free port).
     *
     * @param maxDatagram largest datagram to send; the overlay fragments larger frames
     */
    public static CompletableFuture<UdpLinkLayer> bind(EventLoopGroup group, InetSocketAddress address, int maxDatagram) {
        CompletableFuture<UdpLinkLayer> result = new CompletableFuture<>();
        Holder holder = new Holder();
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(Epoll.isAvailable() ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, ReceiveBuffers.REQUESTED)
                .option(ChannelOption.SO_SNDBUF, 1 << 20)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(RECEIVE_BUFFER))
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
                        UdpLinkLayer layer = holder.layer;
                        if (layer == null) {
                            return;
                        }
                        ByteBuf buf = packet.content();
                        int len = buf.readableBytes();
                        byte[] bytes = new byte[len];
                        buf.readBytes(bytes);
                        layer.receiver.onDatagram(packet.sender(), bytes, len);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        // ICMP port-unreachable and similar surface here; the RPC layer's timeouts handle them.
                    }
                });
        b.bind(address).addListener(f -> {
            if (f.isSuccess()) {
                Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
                ReceiveBuffers.check(ch, "overlay");
                UdpLinkLayer layer = new UdpLinkLayer(ch, maxDatagram);
                holder.layer = layer;
                result.complete(layer);
            } else {
                result.completeExceptionally(new java.io.IOException(
                        "cannot bind UDP " + address + ": " + f.cause().getMessage()
                                + " (is the port in use? choose another with --port)", f.cause()));
            }
        });
        return result;
    }

    private static final class Holder {
        volatile UdpLinkLayer layer;
    }

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
    public void send(InetSocketAddress to, byte[] datagram) {
        if (!channel.isActive()) {
            return;
        }
        channel.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(datagram), to)).addListener(f -> {
            if (!f.isSuccess()) {
                sendFailures.incrementAndGet();
            }
        });
    }

    @Override
    public int maxDatagramBytes() {
        return maxDatagram;
    }

    /** Datagrams the kernel refused to send. */
    public long sendFailures() {
        return sendFailures.get();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }
}
