package org.p2psip.superpeer.discovery;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.p2psip.overlay.NodeId;
import org.p2psip.superpeer.election.ReachabilityVerifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LAN discovery over UDP: sends this peer's announcements to the static peer list (unicast, where multicast is
 * blocked) and, when enabled, to the multicast groups ({@value #GROUP_V4} and {@value #GROUP_V6}, port
 * {@value #PORT} by default); verifies what it receives with an {@link AnnouncementVerifier} and keeps the
 * {@link PeerTable}. The same socket answers connect-back challenges and implements {@link ReachabilityVerifier}.
 *
 * <p>Packets start with a type byte: {@code 'A'} announcement, {@code 'C'} challenge ({@code "P2SC"}, a 16-byte
 * nonce, zero padding to {@value #CHALLENGE_BYTES} bytes so the answer is no larger than the question), {@code 'R'}
 * response ({@code "P2SR"}, the nonce, the node id, an Ed25519 signature over those). Anything else is dropped.
 */
public final class LanDiscovery implements ReachabilityVerifier, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LanDiscovery.class);
    /** Administratively scoped (RFC 2365, organization-local 239.255/16). */
    public static final String GROUP_V4 = "239.255.42.42";
    /** Link-local scope. */
    public static final String GROUP_V6 = "ff02::4242:5350";
    public static final int PORT = 5362;
    static final byte TYPE_ANNOUNCE = 'A';
    static final byte TYPE_CHALLENGE = 'C';
    static final byte TYPE_RESPONSE = 'R';
    static final byte[] CHALLENGE_MAGIC = {'P', '2', 'S', 'C'};
    static final byte[] RESPONSE_MAGIC = {'P', '2', 'S', 'R'};
    static final int NONCE_BYTES = 16;
    static final int CHALLENGE_BYTES = 1 + 4 + NONCE_BYTES + NodeId.BYTES + Ed25519Keys.SIGNATURE_BYTES;
    static final int RESPONSE_BYTES = CHALLENGE_BYTES;

    /**
     * @param bind           local address; a wildcard address when multicast is on
     * @param staticPeers    unicast destinations for announcements
     * @param multicastIface interface to join the groups on; null: no multicast
     * @param ipv6           also join {@link #GROUP_V6} on a second socket (needs {@code multicastIface})
     * @param connectBackTimeout how long a connect-back waits for the answer
     * @param tableCapacity  peers kept at most
     */
    public record Config(InetSocketAddress bind, List<InetSocketAddress> staticPeers, NetworkInterface multicastIface,
                         boolean ipv6, Duration connectBackTimeout, int tableCapacity) {
        public Config {
            staticPeers = List.copyOf(staticPeers);
        }

        public static Config staticOnly(InetSocketAddress bind, List<InetSocketAddress> peers) {
            return new Config(bind, peers, null, false, Duration.ofSeconds(2), 1024);
        }
    }

    private final Ed25519Keys keys;
    private final Config config;
    private final AnnouncementVerifier verifier;
    private final PeerTable table;
    private final EventLoopGroup group;
    private final Consumer<Announcement> onAccepted;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final List<Channel> channels = new ArrayList<>();
    private final InetSocketAddress groupV4;
    private final InetSocketAddress groupV6;
    private volatile long responseWindowStart;
    private volatile int responsesInWindow;
    private static final int MAX_RESPONSES_PER_SECOND = 50;
    private final java.util.function.LongSupplier clockMillis;

    private record Pending(Announcement claimant, CompletableFuture<Boolean> result) {}

    private LanDiscovery(EventLoopGroup group, Ed25519Keys keys, Config config, AnnouncementVerifier verifier,
                         java.util.function.LongSupplier clockMillis, Consumer<Announcement> onAccepted) {
        this.group = group;
        this.keys = keys;
        this.config = config;
        this.verifier = verifier;
        this.clockMillis = clockMillis;
        this.onAccepted = onAccepted;
        this.table = new PeerTable(config.tableCapacity());
        int port = config.bind().getPort();
        this.groupV4 = new InetSocketAddress(addr(GROUP_V4), port);
        this.groupV6 = new InetSocketAddress(addr(GROUP_V6), port);
    }

    private static InetAddress addr(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Binds the socket(s) and joins the groups. {@code clockMillis} is a monotonic local clock for the table;
     * {@code onAccepted} runs on the event loop for each accepted announcement.
     */
    public static LanDiscovery start(EventLoopGroup group, Ed25519Keys keys, Config config, AnnouncementVerifier verifier,
                                     java.util.function.LongSupplier clockMillis, Consumer<Announcement> onAccepted)
            throws InterruptedException {
        LanDiscovery d = new LanDiscovery(group, keys, config, verifier, clockMillis, onAccepted);
        d.bind();
        return d;
    }

    private void bind() throws InterruptedException {
        boolean mc = config.multicastIface() != null;
        Channel v4 = bootstrap(SocketProtocolFamily.INET, mc).bind(config.bind()).sync().channel();
        channels.add(v4);
        if (mc) {
            ((DatagramChannel) v4).joinGroup(groupV4, config.multicastIface()).sync();
            if (config.ipv6()) {
                Channel v6 = bootstrap(SocketProtocolFamily.INET6, true)
                        .bind(new InetSocketAddress(addr("::"), config.bind().getPort())).sync().channel();
                ((DatagramChannel) v6).joinGroup(groupV6, config.multicastIface()).sync();
                channels.add(v6);
            }
        }
        log.info("LAN discovery {} on {} (static peers {}, multicast {})", keys.id().shortHex(), v4.localAddress(),
                config.staticPeers().size(), mc ? config.multicastIface().getName() : "off");
    }

    private Bootstrap bootstrap(SocketProtocolFamily family, boolean multicast) {
        Bootstrap b = new Bootstrap().group(group)
                .channelFactory(() -> new NioDatagramChannel(family))
                .option(ChannelOption.SO_REUSEADDR, multicast)
                .handler(new Handler());
        if (multicast) {
            b.option(ChannelOption.IP_MULTICAST_IF, config.multicastIface())
                    .option(ChannelOption.IP_MULTICAST_LOOP_DISABLED, false)
                    .option(ChannelOption.IP_MULTICAST_TTL, 1);
        }
        return b;
    }

    private final java.util.concurrent.atomic.AtomicLong duplicates = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong acceptedV4 = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong acceptedV6 = new java.util.concurrent.atomic.AtomicLong();

    private void countFamily(InetSocketAddress from) {
        if (from.getAddress() instanceof java.net.Inet6Address) {
            acceptedV6.incrementAndGet();
        } else {
            acceptedV4.incrementAndGet();
        }
    }

    /** Announcements dropped because the table already holds exactly that one (received by several paths). */
    public long duplicates() {
        return duplicates.get();
    }

    /** Genuine announcements (accepted, or duplicates of accepted ones) that arrived from an IPv4 source. */
    public long acceptedV4() {
        return acceptedV4.get();
    }

    /** Genuine announcements (accepted, or duplicates of accepted ones) that arrived from an IPv6 source. */
    public long acceptedV6() {
        return acceptedV6.get();
    }

    public PeerTable table() {
        return table;
    }

    public AnnouncementVerifier verifier() {
        return verifier;
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channels.get(0).localAddress();
    }

    /** Sends an announcement (of this peer) to every static peer and to the groups. */
    public void announce(Announcement a) {
        byte[] enc = a.encode();
        byte[] pkt = new byte[enc.length + 1];
        pkt[0] = TYPE_ANNOUNCE;
        System.arraycopy(enc, 0, pkt, 1, enc.length);
        Channel v4 = channels.get(0);
        for (InetSocketAddress p : config.staticPeers()) {
            send(p.getAddress() instanceof java.net.Inet6Address && channels.size() > 1 ? channels.get(1) : v4, pkt, p);
        }
        if (config.multicastIface() != null) {
            send(v4, pkt, groupV4);
            if (channels.size() > 1) {
                send(channels.get(1), pkt, groupV6);
            }
        }
    }

    private static void send(Channel ch, byte[] pkt, InetSocketAddress to) {
        ch.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(pkt), to)).addListener(f -> {
            if (!f.isSuccess()) {
                log.debug("send to {} failed: {}", to, f.cause().toString());
            }
        });
    }

    /**
     * Connect-back: sends a fresh nonce to the claimant's claimed public (server-reflexive) address and completes
     * with true only if the claimant answers it, signed with its node key, within the timeout.
     */
    @Override
    public CompletableFuture<Boolean> verify(Announcement claimant) {
        InetSocketAddress to = claimant.reflexive();
        if (to == null) {
            return CompletableFuture.completedFuture(false);
        }
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(nonce);
        String key = ByteBufUtil.hexDump(nonce);
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        pending.put(key, new Pending(claimant, result));
        byte[] pkt = new byte[CHALLENGE_BYTES];
        pkt[0] = TYPE_CHALLENGE;
        System.arraycopy(CHALLENGE_MAGIC, 0, pkt, 1, 4);
        System.arraycopy(nonce, 0, pkt, 5, NONCE_BYTES);
        Channel ch = to.getAddress() instanceof java.net.Inet6Address && channels.size() > 1 ? channels.get(1)
                : channels.get(0);
        send(ch, pkt, to);
        ch.eventLoop().schedule(() -> {
            if (pending.remove(key) != null) {
                log.info("connect-back to {} at {} timed out", claimant.nodeId().shortHex(), to);
                result.complete(false);
            }
        }, config.connectBackTimeout().toMillis(), TimeUnit.MILLISECONDS);
        return result;
    }

    static byte[] responseSigned(byte[] nonce, NodeId id) {
        byte[] m = new byte[4 + NONCE_BYTES + NodeId.BYTES];
        System.arraycopy(RESPONSE_MAGIC, 0, m, 0, 4);
        System.arraycopy(nonce, 0, m, 4, NONCE_BYTES);
        id.copyTo(m, 4 + NONCE_BYTES);
        return m;
    }

    private final class Handler extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
            ByteBuf buf = p.content();
            int n = buf.readableBytes();
            if (n < 1 || n > Announcement.MAX_BYTES + 1) {
                return;
            }
            byte[] bytes = new byte[n];
            buf.readBytes(bytes);
            try {
                switch (bytes[0]) {
                    case TYPE_ANNOUNCE -> onAnnouncement(Arrays.copyOfRange(bytes, 1, n), p.sender());
                    case TYPE_CHALLENGE -> onChallenge(ctx.channel(), bytes, p.sender());
                    case TYPE_RESPONSE -> onResponse(bytes);
                    default -> { }
                }
            } catch (RuntimeException e) {
                log.warn("dropped a packet from {} that broke its handler", p.sender(), e);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("discovery socket error: {}", cause.toString());
        }
    }

    private void onAnnouncement(byte[] enc, InetSocketAddress from) {
        AnnouncementVerifier.Result r;
        try {
            Announcement a = Announcement.decode(enc);
            PeerTable.Entry known = table.get(a.nodeId());
            if (known != null && known.announcement().equals(a)) {
                // the same announcement again: it came by several paths (static list and multicast, IPv4 and
                // IPv6, or a socket that receives every group). Not a replay; drop it before any crypto.
                duplicates.incrementAndGet();
                countFamily(from);
                return;
            }
            r = verifier.check(a);
        } catch (MalformedAnnouncementException e) {
            r = verifier.check(enc); // counts it as malformed
        }
        if (r.announcement().isPresent()) {
            countFamily(from);
        }
        r.announcement().ifPresent(a -> {
            if (a.nodeId().equals(keys.id())) {
                return; // our own, looped back
            }
            if (table.update(a, from, clockMillis.getAsLong())) {
                onAccepted.accept(a);
            }
        });
    }

    private void onChallenge(Channel ch, byte[] b, InetSocketAddress from) {
        if (b.length != CHALLENGE_BYTES || !Arrays.equals(b, 1, 5, CHALLENGE_MAGIC, 0, 4)) {
            return;
        }
        long now = clockMillis.getAsLong();
        if (now - responseWindowStart >= 1000) {
            responseWindowStart = now;
            responsesInWindow = 0;
        }
        if (++responsesInWindow > MAX_RESPONSES_PER_SECOND) {
            return;
        }
        byte[] nonce = Arrays.copyOfRange(b, 5, 5 + NONCE_BYTES);
        byte[] signed = responseSigned(nonce, keys.id());
        byte[] sig = keys.sign(signed, 0, signed.length);
        byte[] pkt = new byte[RESPONSE_BYTES];
        pkt[0] = TYPE_RESPONSE;
        System.arraycopy(signed, 0, pkt, 1, signed.length);
        System.arraycopy(sig, 0, pkt, 1 + signed.length, sig.length);
        send(ch, pkt, from);
    }

    private void onResponse(byte[] b) {
        if (b.length != RESPONSE_BYTES || !Arrays.equals(b, 1, 5, RESPONSE_MAGIC, 0, 4)) {
            return;
        }
        byte[] nonce = Arrays.copyOfRange(b, 5, 5 + NONCE_BYTES);
        Pending pe = pending.get(ByteBufUtil.hexDump(nonce));
        if (pe == null) {
            return;
        }
        byte[] signed = Arrays.copyOfRange(b, 1, 1 + 4 + NONCE_BYTES + NodeId.BYTES);
        byte[] sig = Arrays.copyOfRange(b, 1 + signed.length, b.length);
        NodeId id = NodeId.of(Arrays.copyOfRange(b, 5 + NONCE_BYTES, 5 + NONCE_BYTES + NodeId.BYTES));
        if (id.equals(pe.claimant().nodeId())
                && Ed25519Keys.verify(pe.claimant().publicKey(), signed, 0, signed.length, sig)
                && pending.remove(ByteBufUtil.hexDump(nonce)) != null) {
            log.info("connect-back to {} verified", id.shortHex());
            pe.result().complete(true);
        }
    }

    @Override
    public void close() {
        for (Channel c : channels) {
            c.close().syncUninterruptibly();
        }
        pending.values().forEach(p -> p.result().complete(false));
        pending.clear();
    }

    @Override
    public String toString() {
        return "LanDiscovery[" + keys.id().shortHex() + " " + Objects.toString(channels) + "]";
    }
}
