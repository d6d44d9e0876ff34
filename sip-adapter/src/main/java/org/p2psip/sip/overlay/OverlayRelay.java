package org.p2psip.sip.overlay;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.wire.WireCodec;
import org.p2psip.sip.transport.Target;
import org.p2psip.sip.transport.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIP over the overlay as a virtual transport: for each remote peer (named by its overlay gateways) one UDP socket on
 * this peer's SIP address stands in for it. The SIP stack sends to that socket as to any UDP target; the relay
 * carries each datagram as a routed overlay message ({@link SipOverlay#send}) to the remote peer's gateway, whose relay
 * sends it to its own SIP port from the socket standing for this peer. Answers follow the Via (rport) back to that
 * socket and so over the overlay again, and in-dialog requests follow Record-Route URIs that name the same gateways.
 * The SIP stack needs no change: the overlay hop looks like UDP to it (unreliable, so the transaction layer
 * retransmits as over UDP).
 *
 * <p>Payload: {@code 'S' 0x01} then the SIP datagram. At most {@link #MAX_SIP_BYTES} (the overlay's routed payload
 * limit); larger ones, malformed payloads, datagrams on a relay socket from anyone but the SIP port, and failed
 * routes are dropped and counted ({@link #stats()}).
 */
public final class OverlayRelay implements SipOverlay.Receiver, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OverlayRelay.class);
    static final byte MAGIC = 'S';
    static final byte VERSION = 1;
    /** The largest SIP datagram carried: the overlay's routed payload limit less our 2-byte header. */
    public static final int MAX_SIP_BYTES = WireCodec.MAX_ROUTED_PAYLOAD_BYTES - 2;
    /** Relay sockets kept at once (one per remote peer); the least recently used is closed beyond. */
    static final int MAX_RELAYS = 256;

    /** Counters, for tests and metrics. */
    public record Stats(long sent, long received, long oversized, long malformed, long foreign, long routeFailures,
            int relays) {
    }

    private final SipOverlay overlay;
    private final InetSocketAddress sip;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("sip-overlay", true),
            NioIoHandler.newFactory());
    /** Key (the gateways' ids joined) to relay socket, least recently used first. */
    private final LinkedHashMap<String, Relay> relays = new LinkedHashMap<>(16, 0.75f, true);
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong oversized = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong foreign = new AtomicLong();
    private final AtomicLong routeFailures = new AtomicLong();
    private volatile boolean closed;

    /** One remote peer's stand-in socket and the gateways its datagrams are routed to, in order. */
    private record Relay(Channel channel, List<NodeId> gateways) {
    }

    /** @param sip this peer's SIP address (UDP): where datagrams from the overlay are delivered */
    public OverlayRelay(SipOverlay overlay, InetSocketAddress sip) {
        this.overlay = overlay;
        this.sip = sip;
        overlay.receiver(this);
    }

    public Stats stats() {
        synchronized (relays) {
            return new Stats(sent.get(), received.get(), oversized.get(), malformed.get(), foreign.get(),
                    routeFailures.get(), relays.size());
        }
    }

    /**
     * The UDP target standing for the peer whose gateways are {@code gateways}: requests sent there travel over the
     * overlay. Binds a socket the first time (a few ms; never call it on this relay's own thread).
     */
    public Target target(List<NodeId> gateways) {
        return new Target(Transport.UDP, (InetSocketAddress) relay(gateways).channel().localAddress());
    }

    /** A datagram routed to this peer: handed to the SIP port from the socket standing for its origin. */
    @Override
    public void onDatagram(NodeId origin, byte[] payload) {
        if (payload.length < 3 || payload[0] != MAGIC || payload[1] != VERSION) {
            malformed.incrementAndGet();
            LOG.debug("dropped a routed SIP payload of {} bytes from {}: not 'S' version 1", payload.length,
                    origin.shortHex());
            return;
        }
        if (closed) {
            return;
        }
        received.incrementAndGet();
        Relay r;
        try {
            r = relay(List.of(origin));
        } catch (RuntimeException e) {
            routeFailures.incrementAndGet();
            LOG.debug("no relay socket for {}: {}", origin.shortHex(), e.toString());
            return;
        }
        r.channel().writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(payload, 2, payload.length - 2), sip));
    }

    private Relay relay(List<NodeId> gateways) {
        String key = key(gateways);
        List<Relay> evicted = new ArrayList<>();
        Relay r;
        synchronized (relays) {
            if (closed) {
                throw new IllegalStateException("the SIP overlay relay is closed");
            }
            r = relays.get(key);
            if (r == null) {
                ChannelFuture f = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                        .option(ChannelOption.RECVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(65_535))
                        .handler(new Outbound(gateways))
                        .bind(new InetSocketAddress(sip.getAddress(), 0)).awaitUninterruptibly();
                if (!f.isSuccess()) {
                    throw new IllegalStateException("cannot bind a SIP overlay relay socket on "
                            + sip.getAddress().getHostAddress() + ": " + f.cause(), f.cause());
                }
                r = new Relay(f.channel(), List.copyOf(gateways));
                relays.put(key, r);
                Iterator<Relay> it = relays.values().iterator();
                while (relays.size() > MAX_RELAYS && it.hasNext()) {
                    evicted.add(it.next());
                    it.remove();
                }
            }
        }
        evicted.forEach(e -> e.channel().close());
        return r;
    }

    private static String key(List<NodeId> gateways) {
        StringBuilder sb = new StringBuilder();
        gateways.forEach(g -> sb.append(g.toHex()).append('.'));
        return sb.toString();
    }

    /** Sends a datagram from the SIP port over the overlay, to the first gateway that takes it. */
    private void carry(byte[] sipBytes, List<NodeId> gateways, int i) {
        if (i >= gateways.size()) {
            routeFailures.incrementAndGet();
            return;
        }
        byte[] payload = new byte[sipBytes.length + 2];
        payload[0] = MAGIC;
        payload[1] = VERSION;
        System.arraycopy(sipBytes, 0, payload, 2, sipBytes.length);
        CompletableFuture<Void> f;
        try {
            f = overlay.send(gateways.get(i), payload);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((x, e) -> {
            if (e == null) {
                sent.incrementAndGet();
            } else {
                LOG.debug("SIP datagram over the overlay to {} failed: {}", gateways.get(i).shortHex(), e.toString());
                carry(sipBytes, gateways, i + 1);
            }
        });
    }

    @Override
    public void close() {
        List<Relay> all;
        synchronized (relays) {
            closed = true;
            all = new ArrayList<>(relays.values());
            relays.clear();
        }
        all.forEach(r -> r.channel().close());
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** Reads a relay socket: datagrams from this peer's SIP port go over the overlay; anything else is dropped. */
    private final class Outbound extends SimpleChannelInboundHandler<DatagramPacket> {
        private final List<NodeId> gateways;

        Outbound(List<NodeId> gateways) {
            this.gateways = List.copyOf(gateways);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            if (!packet.sender().equals(sip)) {
                foreign.incrementAndGet();
                return;
            }
            ByteBuf buf = packet.content();
            if (buf.readableBytes() > MAX_SIP_BYTES) {
                oversized.incrementAndGet();
                LOG.info("a SIP datagram of {} bytes is over the overlay's limit of {}: dropped",
                        buf.readableBytes(), MAX_SIP_BYTES);
                return;
            }
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            carry(bytes, gateways, 0);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("SIP overlay relay socket: {}", cause.toString());
        }
    }
}
