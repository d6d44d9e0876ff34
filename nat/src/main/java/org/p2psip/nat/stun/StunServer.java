package org.p2psip.nat.stun;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import org.p2psip.nat.udp.UdpSockets;

/**
 * A STUN server on Netty UDP (RFC 8489 Binding), with RFC 5780 behaviour discovery support when it has two
 * addresses.
 *
 * <p>A Binding request is answered with XOR-MAPPED-ADDRESS, MAPPED-ADDRESS (for RFC 3489 clients), SOFTWARE and
 * FINGERPRINT; with an alternate address also RESPONSE-ORIGIN and OTHER-ADDRESS, and CHANGE-REQUEST is honoured by
 * answering from the other IP and/or port. RESPONSE-PORT and PADDING are honoured. Requests signed with a known
 * short-term username are verified and the response signed; requests without magic cookie (RFC 3489) get
 * MAPPED-ADDRESS only. Malformed datagrams are dropped and counted, and each source IP is rate limited.
 */
public final class StunServer implements AutoCloseable {
    public static final String DEFAULT_SOFTWARE = "p2psip STUN";

    /**
     * Server settings.
     *
     * @param primary the primary address (port 0 picks one)
     * @param alternate the alternate address for RFC 5780, or null; its IP and port must both differ from the
     *     primary's (port 0 picks one)
     * @param software the SOFTWARE value, or null for none
     * @param ratePerSecond requests per second allowed from one source IP
     * @param burst requests one source IP may send at once
     * @param shortTermPasswords username to password, for requests that carry MESSAGE-INTEGRITY
     * @param requireIntegrity refuse (400) requests without MESSAGE-INTEGRITY and USERNAME
     */
    public record Config(InetSocketAddress primary, InetSocketAddress alternate, String software, double ratePerSecond,
            int burst, Map<String, String> shortTermPasswords, boolean requireIntegrity) {
        public Config {
            Objects.requireNonNull(primary, "primary");
            shortTermPasswords = Map.copyOf(shortTermPasswords);
            if (alternate != null) {
                if (primary.getAddress().isAnyLocalAddress() || alternate.getAddress().isAnyLocalAddress()) {
                    throw new IllegalArgumentException("RFC 5780 needs two concrete IP addresses, not a wildcard");
                }
                if (primary.getAddress().equals(alternate.getAddress())) {
                    throw new IllegalArgumentException("primary and alternate IP must differ");
                }
                if (primary.getPort() != 0 && primary.getPort() == alternate.getPort()) {
                    throw new IllegalArgumentException("primary and alternate port must differ");
                }
            }
            if (ratePerSecond <= 0 || burst < 1) {
                throw new IllegalArgumentException("rate limit must be positive");
            }
        }

        /** A single-address server on {@code primary}, default limits (200/s, bursts of 400 per source). */
        public static Config basic(InetSocketAddress primary) {
            return new Config(primary, null, DEFAULT_SOFTWARE, 200, 400, Map.of(), false);
        }

        /** A two-address (RFC 5780) server. */
        public static Config rfc5780(InetSocketAddress primary, InetSocketAddress alternate) {
            return new Config(primary, alternate, DEFAULT_SOFTWARE, 200, 400, Map.of(), false);
        }

        public Config withRateLimit(double perSecond, int burst) {
            return new Config(primary, alternate, software, perSecond, burst, shortTermPasswords, requireIntegrity);
        }

        public Config withCredentials(Map<String, String> passwords, boolean require) {
            return new Config(primary, alternate, software, ratePerSecond, burst, passwords, require);
        }
    }

    /** Counters, readable at any time. */
    public static final class Stats {
        final AtomicLong received = new AtomicLong();
        final AtomicLong answered = new AtomicLong();
        final AtomicLong errorResponses = new AtomicLong();
        final AtomicLong malformed = new AtomicLong();
        final AtomicLong rateLimited = new AtomicLong();
        final AtomicLong unauthenticated = new AtomicLong();
        final AtomicLong ignored = new AtomicLong();

        /** Datagrams received. */
        public long received() {
            return received.get();
        }

        /** Success responses sent. */
        public long answered() {
            return answered.get();
        }

        /** Error responses sent (400, 401, 420). */
        public long errorResponses() {
            return errorResponses.get();
        }

        /** Datagrams dropped because they did not decode. */
        public long malformed() {
            return malformed.get();
        }

        /** Datagrams dropped by the per-source rate limit. */
        public long rateLimited() {
            return rateLimited.get();
        }

        /** Requests refused for missing or wrong integrity or an unknown username. */
        public long unauthenticated() {
            return unauthenticated.get();
        }

        /** Well-formed messages that are not requests (responses, indications): dropped. */
        public long ignored() {
            return ignored.get();
        }

        @Override
        public String toString() {
            return "received=" + received() + " answered=" + answered() + " errors=" + errorResponses()
                    + " malformed=" + malformed() + " rateLimited=" + rateLimited()
                    + " unauthenticated=" + unauthenticated() + " ignored=" + ignored();
        }
    }

    private final Config config;
    private final EventLoopGroup group;
    private final boolean ownGroup;
    /** channels[ip][port]: index 0 primary, 1 alternate. Only [0][0] without an alternate. */
    private final Channel[][] channels = new Channel[2][2];
    private final RateLimiter limiter;
    private final Stats stats = new Stats();
    private volatile java.util.function.BiConsumer<InetSocketAddress, StunMessage> observer = (a, m) -> { };

    private StunServer(Config config, EventLoopGroup group, boolean ownGroup) {
        this.config = config;
        this.group = group;
        this.ownGroup = ownGroup;
        this.limiter = new RateLimiter(config.ratePerSecond(), config.burst(), 8192);
    }

    /** Starts a server on its own one-thread event loop group. */
    public static StunServer start(Config config) throws Exception {
        return start(config, null);
    }

    /** Starts a server on {@code group} (or its own when null); blocks until every socket is bound. */
    public static StunServer start(Config config, EventLoopGroup group) throws Exception {
        boolean own = group == null;
        StunServer s = new StunServer(config, own ? UdpSockets.newGroup(1, "stun-server") : group, own);
        try {
            s.bindAll();
        } catch (Exception e) {
            s.close();
            throw e;
        }
        return s;
    }

    private void bindAll() throws Exception {
        channels[0][0] = bind(config.primary(), 0, 0);
        if (config.alternate() == null) {
            return;
        }
        InetAddress pIp = config.primary().getAddress();
        InetAddress aIp = config.alternate().getAddress();
        int pPort = local(channels[0][0]).getPort();
        channels[0][1] = bind(new InetSocketAddress(pIp, config.alternate().getPort()), 0, 1);
        int aPort = local(channels[0][1]).getPort();
        if (aPort == pPort) {
            throw new IllegalStateException("alternate port equals primary port");
        }
        channels[1][0] = bind(new InetSocketAddress(aIp, pPort), 1, 0);
        channels[1][1] = bind(new InetSocketAddress(aIp, aPort), 1, 1);
    }

    private Channel bind(InetSocketAddress address, int ip, int port) throws Exception {
        return UdpSockets.bind(group, address, 1 << 18, (ch, sender, bytes) -> onDatagram(ip, port, sender, bytes)).get();
    }

    private static InetSocketAddress local(Channel c) {
        return (InetSocketAddress) c.localAddress();
    }

    /** The bound primary address. */
    public InetSocketAddress primaryAddress() {
        return local(channels[0][0]);
    }

    /** The bound alternate address (alternate IP, alternate port), or null for a single-address server. */
    public InetSocketAddress alternateAddress() {
        return channels[1][1] == null ? null : local(channels[1][1]);
    }

    public boolean supportsRfc5780() {
        return channels[1][1] != null;
    }

    public Stats stats() {
        return stats;
    }

    /** Called (on the server's event loop) with the source address of every request answered with success. */
    public void setObserver(java.util.function.BiConsumer<InetSocketAddress, StunMessage> observer) {
        this.observer = Objects.requireNonNull(observer, "observer");
    }

    private void onDatagram(int ip, int port, InetSocketAddress sender, byte[] bytes) {
        stats.received.incrementAndGet();
        if (!limiter.allow(sender.getAddress(), System.nanoTime())) {
            stats.rateLimited.incrementAndGet();
            return;
        }
        StunMessage request;
        try {
            request = StunCodec.decode(bytes, 0, bytes.length, StunCodec.DecodeOptions.lenient());
        } catch (StunDecodeException e) {
            stats.malformed.incrementAndGet();
            return;
        }
        if (request.messageClass() != StunClass.REQUEST) {
            stats.ignored.incrementAndGet();
            return;
        }
        try {
            handleRequest(ip, port, sender, request);
        } catch (RuntimeException e) {
            // An encoding limit hit by a hostile request (say, a huge PADDING); never fatal.
            stats.malformed.incrementAndGet();
        }
    }

    private void handleRequest(int ip, int port, InetSocketAddress sender, StunMessage request) {
        boolean classic = request.isClassic();
        // Authentication (short-term credentials, RFC 8489 section 9.1.3).
        byte[] key = null;
        boolean signedRequest = request.has(StunAttribute.MessageIntegrity.class)
                || request.has(StunAttribute.MessageIntegritySha256.class);
        if (!classic && signedRequest) {
            String user = request.get(StunAttribute.Username.class).map(StunAttribute.Username::value).orElse(null);
            if (user == null) {
                stats.unauthenticated.incrementAndGet();
                sendError(ip, port, sender, request, StunAttribute.ErrorCode.BAD_REQUEST, "Missing USERNAME", null);
                return;
            }
            String password = config.shortTermPasswords().get(user);
            if (password == null
                    || StunCodec.checkIntegrity(request, StunCodec.shortTermKey(password)) != StunCodec.Integrity.VALID) {
                stats.unauthenticated.incrementAndGet();
                sendError(ip, port, sender, request, StunAttribute.ErrorCode.UNAUTHENTICATED, "Unauthenticated", null);
                return;
            }
            key = StunCodec.shortTermKey(password);
        } else if (config.requireIntegrity()) {
            stats.unauthenticated.incrementAndGet();
            sendError(ip, port, sender, request, StunAttribute.ErrorCode.BAD_REQUEST,
                    "MESSAGE-INTEGRITY and USERNAME required", null);
            return;
        }
        if (request.method() != StunMessage.BINDING) {
            sendError(ip, port, sender, request, StunAttribute.ErrorCode.BAD_REQUEST, "Unsupported method", key);
            return;
        }
        List<Integer> unknown = new ArrayList<>(request.unknownComprehensionRequired());
        StunAttribute.ChangeRequest change = request.get(StunAttribute.ChangeRequest.class)
                .orElse(new StunAttribute.ChangeRequest(false, false));
        if ((change.changeIp() || change.changePort()) && !supportsRfc5780()) {
            unknown.add(AttributeType.CHANGE_REQUEST); // a one-address server cannot honour it (RFC 5780 section 6.1)
        }
        if (!unknown.isEmpty()) {
            sendError(ip, port, sender, request, StunAttribute.ErrorCode.UNKNOWN_ATTRIBUTE, "Unknown Attribute", key,
                    new StunAttribute.UnknownAttributes(unknown));
            return;
        }
        int outIp = change.changeIp() ? 1 - ip : ip;
        int outPort = change.changePort() ? 1 - port : port;
        Channel out = channels[outIp][outPort];
        InetSocketAddress destination = request.get(StunAttribute.ResponsePort.class)
                .map(rp -> new InetSocketAddress(sender.getAddress(), rp.port()))
                .orElse(sender);

        StunMessage.Builder response = StunMessage.responseTo(request, StunClass.SUCCESS_RESPONSE);
        if (!classic) {
            response.add(new StunAttribute.XorMappedAddress(sender));
        }
        response.add(new StunAttribute.MappedAddress(sender));
        if (supportsRfc5780()) {
            response.add(new StunAttribute.ResponseOrigin(local(out)));
            response.add(new StunAttribute.OtherAddress(local(channels[1 - ip][1 - port])));
        }
        if (config.software() != null) {
            response.add(new StunAttribute.Software(config.software()));
        }
        request.get(StunAttribute.Padding.class).ifPresent(p -> response.add(new StunAttribute.Padding(p.length())));
        byte[] wire = StunCodec.encode(response.build(), options(classic, key));
        // Observe before sending: a client that has its answer may look at what the server saw.
        observer.accept(sender, request);
        stats.answered.incrementAndGet();
        send(out, destination, wire);
    }

    private StunCodec.EncodeOptions options(boolean classic, byte[] key) {
        if (classic) {
            return StunCodec.EncodeOptions.plain(); // RFC 3489 clients know neither FINGERPRINT nor MESSAGE-INTEGRITY
        }
        return key == null ? StunCodec.EncodeOptions.fingerprinted() : StunCodec.EncodeOptions.signed(key);
    }

    private void sendError(int ip, int port, InetSocketAddress sender, StunMessage request, int code, String reason,
            byte[] key, StunAttribute... extra) {
        StunMessage.Builder b = StunMessage.responseTo(request, StunClass.ERROR_RESPONSE)
                .add(new StunAttribute.ErrorCode(code, reason));
        for (StunAttribute a : extra) {
            b.add(a);
        }
        if (config.software() != null) {
            b.add(new StunAttribute.Software(config.software()));
        }
        send(channels[ip][port], sender, StunCodec.encode(b.build(), options(request.isClassic(), key)));
        stats.errorResponses.incrementAndGet();
    }

    private static void send(Channel channel, InetSocketAddress to, byte[] wire) {
        channel.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(wire), to));
    }

    @Override
    public void close() {
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (Channel[] row : channels) {
            for (Channel c : row) {
                if (c != null) {
                    CompletableFuture<Void> f = new CompletableFuture<>();
                    c.close().addListener(x -> f.complete(null));
                    closing.add(f);
                }
            }
        }
        CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).join();
        if (ownGroup) {
            group.shutdownGracefully(0, 200, java.util.concurrent.TimeUnit.MILLISECONDS).syncUninterruptibly();
        }
    }
}
