package org.p2psip.nat.turn;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.p2psip.nat.udp.UdpSockets;
import org.p2psip.nat.stun.RateLimiter;
import org.p2psip.nat.stun.StunAttribute;
import org.p2psip.nat.stun.StunClass;
import org.p2psip.nat.stun.StunCodec;
import org.p2psip.nat.stun.StunDecodeException;
import org.p2psip.nat.stun.StunMessage;
import org.p2psip.nat.stun.TransactionId;

/**
 * A TURN server (RFC 8656) for UDP allocations over UDP, with long-term credentials (RFC 8489 section 9.2).
 *
 * <p>Methods: Allocate (REQUESTED-TRANSPORT UDP, LIFETIME, EVEN-PORT with and without reservation,
 * RESERVATION-TOKEN, REQUESTED-ADDRESS-FAMILY IPv4; DONT-FRAGMENT accepted and not enforced), Refresh (LIFETIME 0
 * deletes), CreatePermission, ChannelBind, Send and Data indications, and ChannelData. Every request is
 * authenticated: without MESSAGE-INTEGRITY it gets 401 with REALM and NONCE, with a wrong key 401, with a nonce
 * older than {@link Config#nonceLifetime()} 438. Requests about an allocation must come from its 5-tuple (437
 * otherwise) and its user (441).
 *
 * <p>Threading: the listening socket, every relay socket, and all state live on one Netty event loop, so no state is
 * shared between threads except the counters of {@link Stats}.
 *
 * <p>Bounds: allocations in all and per user ({@link Config#maxAllocations()}, 508; {@link
 * Config#maxAllocationsPerUser()}, 486), permissions and channels per allocation (508), reservations, the
 * rate-limiter table; unauthenticated requests create no state (nonces are stateless HMACs). Hostile or malformed
 * datagrams are dropped and counted, never fatal. The {@link PeerFilter} refuses peers the operator forbids (403 for
 * requests, silent drop for data), and by default the server's own listening addresses.
 */
public final class TurnServer implements AutoCloseable {
    public static final String DEFAULT_SOFTWARE = "p2psip TURN";

    /** Settings; build with {@link Config#builder}. */
    public record Config(InetSocketAddress listen, InetAddress relayIp, String realm, CredentialStore credentials,
            String software, Duration defaultLifetime, Duration maxLifetime, Duration permissionLifetime,
            Duration channelLifetime, Duration channelCooling, Duration nonceLifetime, Duration reservationLifetime,
            int maxAllocations, int maxAllocationsPerUser, int maxPermissionsPerAllocation,
            int maxChannelsPerAllocation, PeerFilter peerFilter, boolean denyOwnAddresses, boolean rfc5766Channels,
            double requestsPerSecond, int requestBurst, Duration sweepInterval) {
        public Config {
            Objects.requireNonNull(listen, "listen");
            Objects.requireNonNull(relayIp, "relayIp");
            Objects.requireNonNull(realm, "realm");
            Objects.requireNonNull(credentials, "credentials");
            Objects.requireNonNull(peerFilter, "peerFilter");
            if (relayIp.isAnyLocalAddress()) {
                throw new IllegalArgumentException("the relay IP must be a concrete address: it is advertised");
            }
            if (!TurnAttributes.isIpv4(relayIp)) {
                throw new IllegalArgumentException("only IPv4 relay addresses are supported");
            }
            for (Duration d : List.of(defaultLifetime, maxLifetime, permissionLifetime, channelLifetime,
                    nonceLifetime, reservationLifetime, sweepInterval)) {
                if (d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException("durations must be positive");
                }
            }
            if (maxLifetime.compareTo(defaultLifetime) < 0) {
                throw new IllegalArgumentException("maxLifetime < defaultLifetime");
            }
            if (maxAllocations < 1 || maxAllocationsPerUser < 1 || maxPermissionsPerAllocation < 1
                    || maxChannelsPerAllocation < 1 || requestsPerSecond <= 0 || requestBurst < 1) {
                throw new IllegalArgumentException("limits must be positive");
            }
            if (realm.getBytes(StandardCharsets.UTF_8).length > TurnAttributes.MAX_TEXT_BYTES) {
                throw new IllegalArgumentException("realm too long");
            }
        }

        public static Builder builder(InetSocketAddress listen, InetAddress relayIp, String realm,
                CredentialStore credentials) {
            return new Builder(listen, relayIp, realm, credentials);
        }
    }

    /** Builds a {@link Config}; the defaults are RFC 8656's timers and modest bounds. */
    public static final class Builder {
        private final InetSocketAddress listen;
        private final InetAddress relayIp;
        private final String realm;
        private final CredentialStore credentials;
        private String software = DEFAULT_SOFTWARE;
        private Duration defaultLifetime = Duration.ofMinutes(10);
        private Duration maxLifetime = Duration.ofHours(1);
        private Duration permissionLifetime = Duration.ofMinutes(5);
        private Duration channelLifetime = Duration.ofMinutes(10);
        private Duration channelCooling = Duration.ofMinutes(5);
        private Duration nonceLifetime = Duration.ofMinutes(10);
        private Duration reservationLifetime = Duration.ofSeconds(30);
        private int maxAllocations = 1000;
        private int maxAllocationsPerUser = 10;
        private int maxPermissionsPerAllocation = 64;
        private int maxChannelsPerAllocation = 64;
        private PeerFilter peerFilter = PeerFilter.none();
        private boolean denyOwnAddresses = true;
        private boolean rfc5766Channels = false;
        private double requestsPerSecond = 200;
        private int requestBurst = 400;
        private Duration sweepInterval = Duration.ofSeconds(1);

        private Builder(InetSocketAddress listen, InetAddress relayIp, String realm, CredentialStore credentials) {
            this.listen = listen;
            this.relayIp = relayIp;
            this.realm = realm;
            this.credentials = credentials;
        }

        /** SOFTWARE in responses, or null for none. */
        public Builder software(String s) {
            software = s;
            return this;
        }

        /** Allocation lifetimes: the default (600 s), which is also the minimum granted, and the maximum (3600 s). */
        public Builder lifetimes(Duration defaultLifetime, Duration maxLifetime) {
            this.defaultLifetime = defaultLifetime;
            this.maxLifetime = maxLifetime;
            return this;
        }

        /** Permission lifetime (RFC 8656: 300 s). */
        public Builder permissionLifetime(Duration d) {
            permissionLifetime = d;
            return this;
        }

        /** Channel binding lifetime (RFC 8656: 600 s). */
        public Builder channelLifetime(Duration d) {
            channelLifetime = d;
            return this;
        }

        /** How long an expired channel's number and peer stay reserved (RFC 8656: 300 s). */
        public Builder channelCooling(Duration d) {
            channelCooling = d;
            return this;
        }

        /** How long a nonce is accepted before 438 (default 600 s). */
        public Builder nonceLifetime(Duration d) {
            nonceLifetime = d;
            return this;
        }

        /** How long a port reserved by EVEN-PORT's R bit stays reserved (RFC 8656: 30 s). */
        public Builder reservationLifetime(Duration d) {
            reservationLifetime = d;
            return this;
        }

        public Builder maxAllocations(int n) {
            maxAllocations = n;
            return this;
        }

        public Builder maxAllocationsPerUser(int n) {
            maxAllocationsPerUser = n;
            return this;
        }

        public Builder maxPermissionsPerAllocation(int n) {
            maxPermissionsPerAllocation = n;
            return this;
        }

        public Builder maxChannelsPerAllocation(int n) {
            maxChannelsPerAllocation = n;
            return this;
        }

        /** Peers never relayed to (403 for requests, dropped for data). */
        public Builder peerFilter(PeerFilter f) {
            peerFilter = f;
            return this;
        }

        /** Refuse the server's own listening addresses as peers (default true). */
        public Builder denyOwnAddresses(boolean on) {
            denyOwnAddresses = on;
            return this;
        }

        /**
         * Also accept channel numbers 0x5000..0x7FFF, which RFC 5766 allowed and RFC 8656 reserved (default false).
         * Older clients, among them coturn 4.6's {@code turnutils_uclient}, pick from the whole old range.
         */
        public Builder rfc5766Channels(boolean on) {
            rfc5766Channels = on;
            return this;
        }

        /** STUN requests per second from one source IP, and its burst (indications and ChannelData are not counted). */
        public Builder requestRateLimit(double perSecond, int burst) {
            requestsPerSecond = perSecond;
            requestBurst = burst;
            return this;
        }

        /** How often expired allocations, permissions, channels and reservations are removed (1 s). */
        public Builder sweepInterval(Duration d) {
            sweepInterval = d;
            return this;
        }

        public Config build() {
            return new Config(listen, relayIp, realm, credentials, software, defaultLifetime, maxLifetime,
                    permissionLifetime, channelLifetime, channelCooling, nonceLifetime, reservationLifetime,
                    maxAllocations, maxAllocationsPerUser, maxPermissionsPerAllocation, maxChannelsPerAllocation,
                    peerFilter, denyOwnAddresses, rfc5766Channels, requestsPerSecond, requestBurst, sweepInterval);
        }
    }

    /** Counters, readable from any thread. */
    public static final class Stats {
        final AtomicLong received = new AtomicLong();
        final AtomicLong requests = new AtomicLong();
        final AtomicLong successes = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final AtomicLong challenges = new AtomicLong();
        final AtomicLong unauthenticated = new AtomicLong();
        final AtomicLong staleNonces = new AtomicLong();
        final AtomicLong malformed = new AtomicLong();
        final AtomicLong rateLimited = new AtomicLong();
        final AtomicLong ignored = new AtomicLong();
        final AtomicLong forbidden = new AtomicLong();
        final AtomicLong quotaRefused = new AtomicLong();
        final AtomicLong capacityRefused = new AtomicLong();
        final AtomicLong allocationsCreated = new AtomicLong();
        final AtomicLong reservationsUsed = new AtomicLong();
        final AtomicLong allocationsExpired = new AtomicLong();
        final AtomicLong allocationsDeleted = new AtomicLong();
        final AtomicLong toPeer = new AtomicLong();
        final AtomicLong fromPeer = new AtomicLong();
        final AtomicLong channelData = new AtomicLong();
        final AtomicLong droppedNoAllocation = new AtomicLong();
        final AtomicLong droppedNoPermission = new AtomicLong();
        final AtomicLong droppedNoChannel = new AtomicLong();
        final AtomicLong internalErrors = new AtomicLong();

        /** Datagrams received on the listening socket. */
        public long received() {
            return received.get();
        }

        /** STUN requests processed (after the rate limit). */
        public long requests() {
            return requests.get();
        }

        public long successes() {
            return successes.get();
        }

        /** Error responses of every kind (401 and 438 included). */
        public long errors() {
            return errors.get();
        }

        /** 401s to requests without MESSAGE-INTEGRITY (the normal first step of a client). */
        public long challenges() {
            return challenges.get();
        }

        /** 401s to requests with a wrong key or an unknown user, and 441s. */
        public long unauthenticated() {
            return unauthenticated.get();
        }

        public long staleNonces() {
            return staleNonces.get();
        }

        /** Datagrams that were neither valid STUN nor valid ChannelData, or had malformed TURN attributes. */
        public long malformed() {
            return malformed.get();
        }

        public long rateLimited() {
            return rateLimited.get();
        }

        /** Responses and unexpected indications, dropped. */
        public long ignored() {
            return ignored.get();
        }

        /** Requests refused (403) and datagrams dropped because the peer filter forbids the peer. */
        public long forbidden() {
            return forbidden.get();
        }

        /** Allocations refused with 486 (per-user quota). */
        public long quotaRefused() {
            return quotaRefused.get();
        }

        /** Requests refused with 508 (capacity, reservations, too many permissions or channels). */
        public long capacityRefused() {
            return capacityRefused.get();
        }

        public long allocationsCreated() {
            return allocationsCreated.get();
        }

        /** Allocations that took the port an earlier EVEN-PORT request reserved (RESERVATION-TOKEN). */
        public long reservationsUsed() {
            return reservationsUsed.get();
        }

        public long allocationsExpired() {
            return allocationsExpired.get();
        }

        /** Allocations deleted by a Refresh with LIFETIME 0. */
        public long allocationsDeleted() {
            return allocationsDeleted.get();
        }

        /** Datagrams relayed from clients to peers. */
        public long toPeer() {
            return toPeer.get();
        }

        /** Datagrams relayed from peers to clients. */
        public long fromPeer() {
            return fromPeer.get();
        }

        /** Of {@link #toPeer()} and {@link #fromPeer()}, those carried in ChannelData rather than indications. */
        public long channelData() {
            return channelData.get();
        }

        /** Send indications and ChannelData from a source without an allocation. */
        public long droppedNoAllocation() {
            return droppedNoAllocation.get();
        }

        /** Datagrams dropped, either way, for want of a permission. */
        public long droppedNoPermission() {
            return droppedNoPermission.get();
        }

        /** ChannelData on a channel that is not bound (or no longer). */
        public long droppedNoChannel() {
            return droppedNoChannel.get();
        }

        /** Unexpected exceptions while handling a datagram (caught; the datagram is dropped). */
        public long internalErrors() {
            return internalErrors.get();
        }

        @Override
        public String toString() {
            return "received=" + received() + " requests=" + requests() + " successes=" + successes()
                    + " errors=" + errors() + " challenges=" + challenges() + " unauthenticated=" + unauthenticated()
                    + " staleNonces=" + staleNonces() + " malformed=" + malformed() + " rateLimited=" + rateLimited()
                    + " ignored=" + ignored() + " forbidden=" + forbidden() + " quotaRefused=" + quotaRefused()
                    + " capacityRefused=" + capacityRefused() + " allocationsCreated=" + allocationsCreated()
                    + " reservationsUsed=" + reservationsUsed()
                    + " allocationsExpired=" + allocationsExpired() + " allocationsDeleted=" + allocationsDeleted()
                    + " toPeer=" + toPeer() + " fromPeer=" + fromPeer() + " channelData=" + channelData()
                    + " droppedNoAllocation=" + droppedNoAllocation() + " droppedNoPermission=" + droppedNoPermission()
                    + " droppedNoChannel=" + droppedNoChannel() + " internalErrors=" + internalErrors();
        }
    }

    /** A relay socket; its owner is null while it is only reserved (EVEN-PORT with R). */
    private static final class RelaySocket {
        Channel channel;
        Allocation owner;

        InetSocketAddress address() {
            return (InetSocketAddress) channel.localAddress();
        }
    }

    private static final class Binding {
        final int number;
        final InetSocketAddress peer;
        long expires;

        Binding(int number, InetSocketAddress peer) {
            this.number = number;
            this.peer = peer;
        }
    }

    private final class Allocation {
        final InetSocketAddress client;
        final String username;
        final RelaySocket relay;
        final InetSocketAddress relayAddress;
        final TransactionId allocateTid;
        byte[] allocateResponse;
        long expires;
        final Map<InetAddress, Long> permissions = new HashMap<>();
        final Map<Integer, Binding> byNumber = new HashMap<>();
        final Map<InetSocketAddress, Binding> byPeer = new HashMap<>();

        Allocation(InetSocketAddress client, String username, RelaySocket relay, TransactionId allocateTid) {
            this.client = client;
            this.username = username;
            this.relay = relay;
            this.relayAddress = new InetSocketAddress(config.relayIp(), relay.address().getPort());
            this.allocateTid = allocateTid;
        }

        boolean permitted(InetAddress ip, long now) {
            Long e = permissions.get(ip);
            return e != null && e - now > 0;
        }

        Binding activeBinding(InetSocketAddress peer, long now) {
            Binding b = byPeer.get(peer);
            return b != null && b.expires - now > 0 ? b : null;
        }
    }

    private record Reservation(RelaySocket socket, long expires) {
    }

    private final Config config;
    private final EventLoopGroup group;
    private final boolean ownGroup;
    private final EventLoop loop;
    private final Stats stats = new Stats();
    private final RateLimiter limiter;
    private final byte[] nonceSecret = new byte[20];
    private final SecureRandom random = new SecureRandom();
    private final long startNanos = System.nanoTime();
    private PeerFilter filter;
    private Channel listener;
    private ScheduledFuture<?> sweeper;
    // State below: event loop only.
    private final Map<InetSocketAddress, Allocation> allocations = new HashMap<>();
    private final Set<InetSocketAddress> pending = new HashSet<>();
    private final Map<String, Integer> perUser = new HashMap<>();
    private final Map<Long, Reservation> reservations = new HashMap<>();
    private volatile boolean closed;

    private TurnServer(Config config, EventLoopGroup group, boolean ownGroup) {
        this.config = config;
        this.group = group;
        this.ownGroup = ownGroup;
        this.loop = group.next();
        this.limiter = new RateLimiter(config.requestsPerSecond(), config.requestBurst(), 8192);
        this.filter = config.peerFilter();
        random.nextBytes(nonceSecret);
    }

    /** Starts a server on its own one-thread event loop group. */
    public static TurnServer start(Config config) throws Exception {
        return start(config, null);
    }

    /**
     * Starts a server on one event loop of {@code group} (or its own group when null); blocks until the listening
     * socket is bound. A shared group must use the same transport (epoll when available) as {@link UdpSockets}.
     */
    public static TurnServer start(Config config, EventLoopGroup group) throws Exception {
        boolean own = group == null;
        TurnServer s = new TurnServer(config, own ? UdpSockets.newGroup(1, "turn-server") : group, own);
        try {
            s.listener = UdpSockets.bind(s.loop, config.listen(), 1 << 20, (ch, sender, bytes) -> s.onClientDatagram(sender, bytes))
                    .get(10, TimeUnit.SECONDS);
            if (config.denyOwnAddresses()) {
                s.filter = withOwnAddresses(s.filter, s.listenAddress());
            }
            long every = config.sweepInterval().toNanos();
            s.sweeper = s.loop.scheduleAtFixedRate(s::sweep, every, every, TimeUnit.NANOSECONDS);
        } catch (Exception e) {
            s.close();
            throw e;
        }
        return s;
    }

    private static PeerFilter withOwnAddresses(PeerFilter f, InetSocketAddress listen) throws SocketException {
        if (!listen.getAddress().isAnyLocalAddress()) {
            return f.withTransport(listen);
        }
        for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                f = f.withTransport(new InetSocketAddress(a, listen.getPort()));
            }
        }
        return f;
    }

    public InetSocketAddress listenAddress() {
        return (InetSocketAddress) listener.localAddress();
    }

    public Config config() {
        return config;
    }

    /** The peer filter in force, with the server's own addresses when {@link Config#denyOwnAddresses()}. */
    public PeerFilter peerFilter() {
        return filter;
    }

    public Stats stats() {
        return stats;
    }

    /** The number of live allocations (asks the event loop). */
    public int allocationCount() {
        return onLoop(allocations::size);
    }

    /** The relayed transport addresses of the live allocations (asks the event loop). */
    public List<InetSocketAddress> relayedAddresses() {
        return onLoop(() -> allocations.values().stream().map(a -> a.relayAddress).toList());
    }

    private <T> T onLoop(java.util.function.Supplier<T> s) {
        if (loop.inEventLoop()) {
            return s.get();
        }
        try {
            return loop.submit(s::get).get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------------------------------ datagram entry

    private void onClientDatagram(InetSocketAddress sender, byte[] bytes) {
        stats.received.incrementAndGet();
        try {
            if (bytes.length > 0 && (bytes[0] & 0xC0) == 0x40) {
                onChannelData(sender, bytes);
            } else if (bytes.length > 0 && (bytes[0] & 0xC0) == 0) {
                onStun(sender, bytes);
            } else {
                stats.malformed.incrementAndGet();
            }
        } catch (RuntimeException e) {
            stats.internalErrors.incrementAndGet(); // never fatal: the datagram is dropped
        }
    }

    private void onStun(InetSocketAddress sender, byte[] bytes) {
        StunMessage m;
        try {
            m = StunCodec.decode(bytes);
        } catch (StunDecodeException e) {
            stats.malformed.incrementAndGet();
            return;
        }
        switch (m.messageClass()) {
            case REQUEST -> {
                if (!limiter.allow(sender.getAddress(), System.nanoTime())) {
                    stats.rateLimited.incrementAndGet();
                    return;
                }
                stats.requests.incrementAndGet();
                try {
                    onRequest(sender, m);
                } catch (TurnFormatException e) {
                    stats.malformed.incrementAndGet();
                    error(sender, m, 400, "Bad Request: " + e.getMessage(), null);
                }
            }
            case INDICATION -> {
                if (m.method() == StunMessage.SEND) {
                    onSend(sender, m);
                } else {
                    stats.ignored.incrementAndGet();
                }
            }
            default -> stats.ignored.incrementAndGet();
        }
    }

    // ------------------------------------------------------------------------------------------ authentication

    private String newNonce(InetSocketAddress client) {
        long ms = (System.nanoTime() - startNanos) / 1_000_000;
        String ts = String.format("%012x", ms);
        return ts + HexFormat.of().formatHex(nonceMac(ts, client));
    }

    private byte[] nonceMac(String ts, InetSocketAddress client) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(nonceSecret, "HmacSHA256"));
            mac.update(ts.getBytes(StandardCharsets.US_ASCII));
            mac.update(client.getAddress().getAddress());
            return java.util.Arrays.copyOf(mac.doFinal(), 10);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether {@code nonce} is one we issued to this client's IP and it is younger than the nonce lifetime. */
    private boolean nonceValid(String nonce, InetSocketAddress client) {
        if (nonce.length() != 12 + 20) {
            return false;
        }
        String ts = nonce.substring(0, 12);
        byte[] mac;
        long issued;
        try {
            issued = Long.parseLong(ts, 16);
            mac = HexFormat.of().parseHex(nonce.substring(12));
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (!MessageDigest.isEqual(mac, nonceMac(ts, client))) {
            return false;
        }
        long ageMs = (System.nanoTime() - startNanos) / 1_000_000 - issued;
        return ageMs >= 0 && ageMs < config.nonceLifetime().toMillis();
    }

    private void challenge(InetSocketAddress client, StunMessage request, int code, String reason) {
        error(client, request, code, reason, null, TurnAttributes.realm(config.realm()),
                TurnAttributes.nonce(newNonce(client)));
    }

    /** RFC 8489 section 9.2.4: returns the long-term key, or null after answering with an error. */
    private byte[] authenticate(InetSocketAddress client, StunMessage request) throws TurnFormatException {
        boolean signed = request.has(StunAttribute.MessageIntegrity.class)
                || request.has(StunAttribute.MessageIntegritySha256.class);
        if (!signed) {
            stats.challenges.incrementAndGet();
            challenge(client, request, 401, "Unauthorized");
            return null;
        }
        Optional<String> user = request.get(StunAttribute.Username.class).map(StunAttribute.Username::value);
        Optional<String> realm = TurnAttributes.realm(request);
        Optional<String> nonce = TurnAttributes.nonce(request);
        if (user.isEmpty() || realm.isEmpty() || nonce.isEmpty()) {
            stats.unauthenticated.incrementAndGet();
            error(client, request, 400, "Bad Request: USERNAME, REALM and NONCE required", null);
            return null;
        }
        byte[] key = realm.get().equals(config.realm()) ? config.credentials().key(user.get(), config.realm()) : null;
        if (key == null || StunCodec.checkIntegrity(request, key) != StunCodec.Integrity.VALID) {
            stats.unauthenticated.incrementAndGet();
            challenge(client, request, 401, "Unauthorized");
            return null;
        }
        if (!nonceValid(nonce.get(), client)) {
            stats.staleNonces.incrementAndGet();
            challenge(client, request, 438, "Stale Nonce");
            return null;
        }
        return key;
    }

    // ------------------------------------------------------------------------------------------ requests

    private void onRequest(InetSocketAddress client, StunMessage request) throws TurnFormatException {
        int method = request.method();
        if (method != StunMessage.ALLOCATE && method != StunMessage.REFRESH && method != StunMessage.CREATE_PERMISSION
                && method != StunMessage.CHANNEL_BIND) {
            if (method == StunMessage.BINDING) {
                binding(client, request); // a TURN server is a STUN server
            } else {
                error(client, request, 400, "Bad Request: unsupported method", null);
            }
            return;
        }
        byte[] key = authenticate(client, request);
        if (key == null) {
            return;
        }
        List<Integer> unknown = TurnAttributes.unknownComprehensionRequired(request);
        if (!unknown.isEmpty()) {
            error(client, request, 420, "Unknown Attribute", key, new StunAttribute.UnknownAttributes(unknown));
            return;
        }
        String user = request.get(StunAttribute.Username.class).orElseThrow().value();
        long now = System.nanoTime();
        Allocation a = live(client, now);
        if (method == StunMessage.ALLOCATE) {
            allocate(client, request, key, user, a, now);
            return;
        }
        if (a == null) {
            error(client, request, 437, "Allocation Mismatch", key);
            return;
        }
        if (!a.username.equals(user)) {
            stats.unauthenticated.incrementAndGet();
            error(client, request, 441, "Wrong Credentials", key);
            return;
        }
        switch (method) {
            case StunMessage.REFRESH -> refresh(client, request, key, a, now);
            case StunMessage.CREATE_PERMISSION -> createPermission(client, request, key, a, now);
            default -> channelBind(client, request, key, a, now);
        }
    }

    private void binding(InetSocketAddress client, StunMessage request) {
        if (request.has(StunAttribute.MessageIntegrity.class)) {
            error(client, request, 400, "Bad Request: no short-term credentials here", null);
            return;
        }
        respond(client, request, null, new StunAttribute.XorMappedAddress(client));
    }

    private Allocation live(InetSocketAddress client, long now) {
        Allocation a = allocations.get(client);
        if (a != null && a.expires - now <= 0) {
            stats.allocationsExpired.incrementAndGet();
            remove(a);
            return null;
        }
        return a;
    }

    private long lifetimeNanos(Optional<Long> requestedSeconds) {
        Duration d = config.defaultLifetime();
        if (requestedSeconds.isPresent()) {
            Duration r = Duration.ofSeconds(Math.min(requestedSeconds.get(), config.maxLifetime().toSeconds()));
            if (r.compareTo(d) > 0) {
                d = r;
            }
        }
        return d.toNanos();
    }

    private void allocate(InetSocketAddress client, StunMessage request, byte[] key, String user, Allocation existing,
            long now) throws TurnFormatException {
        if (existing != null) {
            if (existing.allocateTid.equals(request.transactionId()) && existing.allocateResponse != null) {
                UdpSockets.send(listener, client, existing.allocateResponse); // a retransmission
                stats.successes.incrementAndGet();
            } else {
                error(client, request, 437, "Allocation Mismatch", key);
            }
            return;
        }
        if (pending.contains(client)) {
            stats.ignored.incrementAndGet(); // a retransmission while the relay socket is being bound
            return;
        }
        Optional<Integer> transport = TurnAttributes.requestedTransport(request);
        if (transport.isEmpty()) {
            error(client, request, 400, "Bad Request: REQUESTED-TRANSPORT missing", key);
            return;
        }
        if (transport.get() != TurnAttributes.TRANSPORT_UDP) {
            error(client, request, 442, "Unsupported Transport Protocol", key);
            return;
        }
        Optional<Boolean> evenPort = TurnAttributes.evenPort(request);
        Optional<byte[]> token = TurnAttributes.reservationToken(request);
        Optional<Integer> family = TurnAttributes.requestedAddressFamily(request);
        if (token.isPresent() && (evenPort.isPresent() || family.isPresent())) {
            error(client, request, 400, "Bad Request: RESERVATION-TOKEN with EVEN-PORT or REQUESTED-ADDRESS-FAMILY", key);
            return;
        }
        if (family.isPresent() && family.get() != TurnAttributes.FAMILY_IPV4) {
            error(client, request, 440, "Address Family not Supported", key);
            return;
        }
        // DONT-FRAGMENT is accepted and not enforced (see the class comment).
        if (perUser.getOrDefault(user, 0) >= config.maxAllocationsPerUser()) {
            stats.quotaRefused.incrementAndGet();
            error(client, request, 486, "Allocation Quota Reached", key);
            return;
        }
        if (allocations.size() + pending.size() >= config.maxAllocations()) {
            stats.capacityRefused.incrementAndGet();
            error(client, request, 508, "Insufficient Capacity", key);
            return;
        }
        long lifetime = lifetimeNanos(TurnAttributes.lifetime(request));
        CompletableFuture<RelaySocket[]> sockets;
        if (token.isPresent()) {
            Reservation r = reservations.remove(ByteBuffer.wrap(token.get()).getLong());
            if (r == null || r.expires - now <= 0) {
                if (r != null) {
                    r.socket.channel.close();
                }
                stats.capacityRefused.incrementAndGet();
                error(client, request, 508, "Insufficient Capacity: no such reservation", key);
                return;
            }
            stats.reservationsUsed.incrementAndGet();
            sockets = CompletableFuture.completedFuture(new RelaySocket[] {r.socket, null});
        } else if (evenPort.isPresent()) {
            if (evenPort.get() && reservations.size() >= config.maxAllocations()) {
                stats.capacityRefused.incrementAndGet();
                error(client, request, 508, "Insufficient Capacity: too many reservations", key);
                return;
            }
            sockets = bindEven(evenPort.get(), 32);
        } else {
            sockets = bindRelay(new InetSocketAddress(config.relayIp(), 0)).thenApply(s -> new RelaySocket[] {s, null});
        }
        pending.add(client);
        perUser.merge(user, 1, Integer::sum);
        sockets.whenComplete((pair, failure) -> loop.execute(() -> {
            pending.remove(client);
            if (failure != null || closed) {
                if (pair != null) {
                    closeAll(pair);
                }
                release(user);
                if (!closed) {
                    stats.capacityRefused.incrementAndGet();
                    error(client, request, 508, "Insufficient Capacity: no relay port", key);
                }
                return;
            }
            Allocation a = new Allocation(client, user, pair[0], request.transactionId());
            pair[0].owner = a;
            a.expires = System.nanoTime() + lifetime;
            allocations.put(client, a);
            stats.allocationsCreated.incrementAndGet();
            List<StunAttribute> attrs = new ArrayList<>();
            attrs.add(TurnAttributes.xorRelayedAddress(a.relayAddress, request.transactionId()));
            attrs.add(TurnAttributes.lifetime(TimeUnit.NANOSECONDS.toSeconds(lifetime)));
            if (pair[1] != null) {
                long t = random.nextLong();
                reservations.put(t, new Reservation(pair[1], System.nanoTime() + config.reservationLifetime().toNanos()));
                attrs.add(TurnAttributes.reservationToken(ByteBuffer.allocate(8).putLong(t).array()));
            }
            attrs.add(new StunAttribute.XorMappedAddress(client));
            a.allocateResponse = respond(client, request, key, attrs.toArray(StunAttribute[]::new));
        }));
    }

    private CompletableFuture<RelaySocket> bindRelay(InetSocketAddress address) {
        RelaySocket s = new RelaySocket();
        return UdpSockets.bind(loop, address, 1 << 18, (ch, peer, bytes) -> onPeerDatagram(s, peer, bytes))
                .thenApply(ch -> {
                    s.channel = ch;
                    return s;
                });
    }

    /** An even relay port and, when {@code reserve}, the next one too; {@code tries} attempts. */
    private CompletableFuture<RelaySocket[]> bindEven(boolean reserve, int tries) {
        if (tries == 0) {
            return CompletableFuture.failedFuture(new IllegalStateException("no even port"));
        }
        return bindRelay(new InetSocketAddress(config.relayIp(), 0)).thenCompose(s -> {
            int port = s.address().getPort();
            if (port % 2 != 0) {
                s.channel.close();
                return bindEven(reserve, tries - 1);
            }
            if (!reserve) {
                return CompletableFuture.completedFuture(new RelaySocket[] {s, null});
            }
            return bindRelay(new InetSocketAddress(config.relayIp(), port + 1))
                    .thenApply(next -> new RelaySocket[] {s, next})
                    .exceptionallyCompose(taken -> {
                        s.channel.close();
                        return bindEven(true, tries - 1);
                    });
        });
    }

    private static void closeAll(RelaySocket[] pair) {
        for (RelaySocket s : pair) {
            if (s != null && s.channel != null) {
                s.channel.close();
            }
        }
    }

    private void release(String user) {
        perUser.computeIfPresent(user, (u, n) -> n <= 1 ? null : n - 1);
    }

    private void remove(Allocation a) {
        if (allocations.remove(a.client, a)) {
            release(a.username);
            a.relay.owner = null;
            a.relay.channel.close();
        }
    }

    private void refresh(InetSocketAddress client, StunMessage request, byte[] key, Allocation a, long now)
            throws TurnFormatException {
        Optional<Integer> family = TurnAttributes.requestedAddressFamily(request);
        if (family.isPresent() && family.get() != TurnAttributes.FAMILY_IPV4) {
            error(client, request, 443, "Peer Address Family Mismatch", key);
            return;
        }
        Optional<Long> requested = TurnAttributes.lifetime(request);
        if (requested.isPresent() && requested.get() == 0) {
            remove(a);
            stats.allocationsDeleted.incrementAndGet();
            respond(client, request, key, TurnAttributes.lifetime(0));
            return;
        }
        long lifetime = lifetimeNanos(requested);
        a.expires = now + lifetime;
        respond(client, request, key, TurnAttributes.lifetime(TimeUnit.NANOSECONDS.toSeconds(lifetime)));
    }

    private void createPermission(InetSocketAddress client, StunMessage request, byte[] key, Allocation a, long now)
            throws TurnFormatException {
        List<InetSocketAddress> peers = TurnAttributes.xorPeerAddresses(request);
        if (peers.isEmpty()) {
            error(client, request, 400, "Bad Request: XOR-PEER-ADDRESS missing", key);
            return;
        }
        Set<InetAddress> fresh = new HashSet<>();
        for (InetSocketAddress p : peers) {
            if (!TurnAttributes.isIpv4(p.getAddress())) {
                error(client, request, 443, "Peer Address Family Mismatch", key);
                return;
            }
            if (!filter.allowsIp(p.getAddress())) {
                stats.forbidden.incrementAndGet();
                error(client, request, 403, "Forbidden", key);
                return;
            }
            if (!a.permissions.containsKey(p.getAddress())) {
                fresh.add(p.getAddress());
            }
        }
        if (a.permissions.size() + fresh.size() > config.maxPermissionsPerAllocation()) {
            stats.capacityRefused.incrementAndGet();
            error(client, request, 508, "Insufficient Capacity: too many permissions", key);
            return;
        }
        long expires = now + config.permissionLifetime().toNanos();
        for (InetSocketAddress p : peers) {
            a.permissions.put(p.getAddress(), expires);
        }
        respond(client, request, key);
    }

    private void channelBind(InetSocketAddress client, StunMessage request, byte[] key, Allocation a, long now)
            throws TurnFormatException {
        Optional<Integer> number = TurnAttributes.channelNumber(request);
        Optional<InetSocketAddress> peer = TurnAttributes.xorPeerAddress(request);
        if (number.isEmpty() || peer.isEmpty()) {
            error(client, request, 400, "Bad Request: CHANNEL-NUMBER and XOR-PEER-ADDRESS required", key);
            return;
        }
        int n = number.get();
        if (!validChannel(n)) {
            error(client, request, 400, String.format("Bad Request: channel number 0x%04x out of range", n), key);
            return;
        }
        InetSocketAddress p = peer.get();
        if (!TurnAttributes.isIpv4(p.getAddress())) {
            error(client, request, 443, "Peer Address Family Mismatch", key);
            return;
        }
        if (!filter.allows(p)) {
            stats.forbidden.incrementAndGet();
            error(client, request, 403, "Forbidden", key);
            return;
        }
        Binding byNumber = a.byNumber.get(n);
        Binding byPeer = a.byPeer.get(p);
        if ((byNumber != null && !byNumber.peer.equals(p)) || (byPeer != null && byPeer.number != n)) {
            error(client, request, 400, "Bad Request: channel or peer already bound", key);
            return;
        }
        boolean freshPermission = !a.permissions.containsKey(p.getAddress());
        if (byNumber == null && a.byNumber.size() >= config.maxChannelsPerAllocation()
                || freshPermission && a.permissions.size() >= config.maxPermissionsPerAllocation()) {
            stats.capacityRefused.incrementAndGet();
            error(client, request, 508, "Insufficient Capacity: too many channels or permissions", key);
            return;
        }
        Binding b = byNumber != null ? byNumber : new Binding(n, p);
        b.expires = now + config.channelLifetime().toNanos();
        a.byNumber.put(n, b);
        a.byPeer.put(p, b);
        a.permissions.put(p.getAddress(), now + config.permissionLifetime().toNanos());
        respond(client, request, key);
    }

    private boolean validChannel(int n) {
        return n >= TurnAttributes.MIN_CHANNEL
                && n <= (config.rfc5766Channels() ? TurnAttributes.MAX_CHANNEL_RFC5766 : TurnAttributes.MAX_CHANNEL);
    }

    // ------------------------------------------------------------------------------------------ data

    private void onSend(InetSocketAddress client, StunMessage m) {
        long now = System.nanoTime();
        Allocation a = live(client, now);
        if (a == null) {
            stats.droppedNoAllocation.incrementAndGet();
            return;
        }
        InetSocketAddress peer;
        Optional<byte[]> data = TurnAttributes.data(m);
        try {
            peer = TurnAttributes.xorPeerAddress(m).orElse(null);
        } catch (TurnFormatException e) {
            peer = null;
        }
        if (peer == null || data.isEmpty()) {
            stats.malformed.incrementAndGet();
            return;
        }
        relayToPeer(a, peer, data.get(), now);
    }

    private void onChannelData(InetSocketAddress client, byte[] bytes) {
        ChannelData cd;
        try {
            cd = ChannelData.decode(bytes);
        } catch (TurnFormatException e) {
            stats.malformed.incrementAndGet();
            return;
        }
        if (!validChannel(cd.channel())) {
            stats.malformed.incrementAndGet();
            return;
        }
        long now = System.nanoTime();
        Allocation a = live(client, now);
        if (a == null) {
            stats.droppedNoAllocation.incrementAndGet();
            return;
        }
        Binding b = a.byNumber.get(cd.channel());
        if (b == null || b.expires - now <= 0) {
            stats.droppedNoChannel.incrementAndGet();
            return;
        }
        if (relayToPeer(a, b.peer, cd.data(), now)) {
            stats.channelData.incrementAndGet();
        }
    }

    private boolean relayToPeer(Allocation a, InetSocketAddress peer, byte[] data, long now) {
        if (!filter.allows(peer)) {
            stats.forbidden.incrementAndGet();
            return false;
        }
        if (!a.permitted(peer.getAddress(), now)) {
            stats.droppedNoPermission.incrementAndGet();
            return false;
        }
        UdpSockets.send(a.relay.channel, peer, data);
        stats.toPeer.incrementAndGet();
        return true;
    }

    private void onPeerDatagram(RelaySocket socket, InetSocketAddress peer, byte[] data) {
        try {
            long now = System.nanoTime();
            Allocation a = socket.owner;
            if (a == null || a.expires - now <= 0 || allocations.get(a.client) != a) {
                stats.droppedNoAllocation.incrementAndGet();
                return;
            }
            if (!a.permitted(peer.getAddress(), now)) {
                stats.droppedNoPermission.incrementAndGet();
                return;
            }
            Binding b = a.activeBinding(peer, now);
            byte[] out;
            if (b != null) {
                out = new ChannelData(b.number, data).encode();
                stats.channelData.incrementAndGet();
            } else {
                if (data.length > StunCodec.MAX_BODY_LENGTH - 8 - 12 - 8 - 3) {
                    stats.malformed.incrementAndGet(); // too big for a Data indication
                    return;
                }
                TransactionId tid = TransactionId.random();
                out = StunCodec.encode(StunMessage.builder(StunMessage.DATA, StunClass.INDICATION, tid)
                        .add(TurnAttributes.xorPeerAddress(peer, tid))
                        .add(TurnAttributes.data(data))
                        .build(), StunCodec.EncodeOptions.fingerprinted());
            }
            UdpSockets.send(listener, a.client, out);
            stats.fromPeer.incrementAndGet();
        } catch (RuntimeException e) {
            stats.internalErrors.incrementAndGet();
        }
    }

    // ------------------------------------------------------------------------------------------ responses

    private StunCodec.EncodeOptions options(byte[] key) {
        return key == null ? StunCodec.EncodeOptions.fingerprinted() : StunCodec.EncodeOptions.signed(key);
    }

    private byte[] respond(InetSocketAddress to, StunMessage request, byte[] key, StunAttribute... attrs) {
        StunMessage.Builder b = StunMessage.responseTo(request, StunClass.SUCCESS_RESPONSE);
        for (StunAttribute a : attrs) {
            b.add(a);
        }
        if (config.software() != null) {
            b.add(new StunAttribute.Software(config.software()));
        }
        byte[] wire = StunCodec.encode(b.build(), options(key));
        UdpSockets.send(listener, to, wire);
        stats.successes.incrementAndGet();
        return wire;
    }

    private void error(InetSocketAddress to, StunMessage request, int code, String reason, byte[] key,
            StunAttribute... extra) {
        StunMessage.Builder b = StunMessage.responseTo(request, StunClass.ERROR_RESPONSE)
                .add(new StunAttribute.ErrorCode(code, reason));
        for (StunAttribute a : extra) {
            b.add(a);
        }
        if (config.software() != null) {
            b.add(new StunAttribute.Software(config.software()));
        }
        UdpSockets.send(listener, to, StunCodec.encode(b.build(), options(key)));
        stats.errors.incrementAndGet();
    }

    // ------------------------------------------------------------------------------------------ expiry

    private void sweep() {
        try {
            long now = System.nanoTime();
            long cooling = config.channelCooling().toNanos();
            for (Allocation a : new ArrayList<>(allocations.values())) {
                if (a.expires - now <= 0) {
                    stats.allocationsExpired.incrementAndGet();
                    remove(a);
                    continue;
                }
                a.permissions.values().removeIf(e -> e - now <= 0);
                for (Iterator<Binding> it = a.byNumber.values().iterator(); it.hasNext(); ) {
                    Binding b = it.next();
                    if (b.expires + cooling - now <= 0) {
                        it.remove();
                        a.byPeer.remove(b.peer, b);
                    }
                }
            }
            for (Iterator<Reservation> it = reservations.values().iterator(); it.hasNext(); ) {
                Reservation r = it.next();
                if (r.expires - now <= 0) {
                    r.socket.channel.close();
                    it.remove();
                }
            }
        } catch (RuntimeException e) {
            stats.internalErrors.incrementAndGet();
        }
    }

    @Override
    public void close() {
        closed = true;
        if (sweeper != null) {
            sweeper.cancel(false);
        }
        if (!loop.isShuttingDown()) {
            try {
                loop.submit(() -> {
                    for (Allocation a : new ArrayList<>(allocations.values())) {
                        remove(a);
                    }
                    reservations.values().forEach(r -> r.socket.channel.close());
                    reservations.clear();
                }).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // closing anyway
            }
        }
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        if (ownGroup) {
            group.shutdownGracefully(0, 200, TimeUnit.MILLISECONDS).syncUninterruptibly();
        }
    }
}
