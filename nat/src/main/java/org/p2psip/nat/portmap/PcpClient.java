package org.p2psip.nat.portmap;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * PCP (RFC 6887) client, MAP opcode, UDP to the router's port 5351. Each (protocol, internal port) keeps its
 * mapping nonce, so renewals and the deletion refer to the same mapping (RFC 6887 11.2). A router that only speaks
 * NAT-PMP answers with a version-0 reply, reported as {@link VersionNotSupportedException} so that the caller falls
 * back to NAT-PMP.
 */
public final class PcpClient implements MappingClient {
    /** The router answered PCP with another protocol version (0: NAT-PMP only). */
    public static final class VersionNotSupportedException extends PortMappingException {
        private static final long serialVersionUID = 1L;
        private final int routerVersion;

        VersionNotSupportedException(String message, int routerVersion) {
            super(message);
            this.routerVersion = routerVersion;
        }

        public int routerVersion() {
            return routerVersion;
        }
    }

    private final InetSocketAddress router;
    private final InetAddress local;
    private final PortMapConfig config;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, byte[]> nonces = new ConcurrentHashMap<>();

    public PcpClient(InetAddress router, InetAddress local, PortMapConfig config) {
        this(new InetSocketAddress(router, NatPmpClient.PORT), local, config);
    }

    /** A client for a router listening on another port than 5351 (tests). */
    PcpClient(InetSocketAddress router, InetAddress local, PortMapConfig config) {
        this.router = router;
        this.local = local;
        this.config = config;
    }

    @Override
    public Method method() {
        return Method.PCP;
    }

    @Override
    public Mapping map(Protocol protocol, InetSocketAddress internal, int suggestedExternalPort, Duration lifetime)
            throws PortMappingException {
        byte[] nonce = nonces.computeIfAbsent(key(protocol, internal.getPort()), k -> {
            byte[] n = new byte[PcpCodec.NONCE_BYTES];
            random.nextBytes(n);
            return n;
        });
        PcpCodec.Granted g = request(nonce, protocol, internal.getPort(), suggestedExternalPort,
                Math.max(1, lifetime.toSeconds()));
        if (g.lifetimeSeconds() == 0 || g.externalAddress().isAnyLocalAddress()) {
            throw new MalformedReplyException("PCP router granted " + g.externalAddress().getHostAddress() + ":"
                    + g.externalPort() + " for " + g.lifetimeSeconds() + " s: not a mapping");
        }
        return new Mapping(protocol, internal, new InetSocketAddress(g.externalAddress(), g.externalPort()),
                Duration.ofSeconds(g.lifetimeSeconds()), Method.PCP);
    }

    @Override
    public void unmap(Mapping mapping) throws PortMappingException {
        byte[] nonce = nonces.remove(key(mapping.protocol(), mapping.internal().getPort()));
        if (nonce == null) {
            throw new PortMappingException("no PCP mapping of " + mapping.protocol() + " port "
                    + mapping.internal().getPort() + " was made by this client");
        }
        request(nonce, mapping.protocol(), mapping.internal().getPort(), mapping.external().getPort(), 0);
    }

    private PcpCodec.Granted request(byte[] nonce, Protocol protocol, int internalPort, int externalPort,
            long lifetime) throws PortMappingException {
        byte[] req = PcpCodec.mapRequest(nonce, protocol, local, internalPort, externalPort, null, lifetime);
        PcpCodec.Reply r = UdpExchange.exchange("PCP", local, router, req, config.initialTimeout(),
                config.attempts(), (d, n) -> PcpCodec.decodeMap(d, n, nonce, protocol, internalPort));
        String rtr = router.getAddress().getHostAddress();
        if (r instanceof PcpCodec.Granted g) {
            return g;
        }
        if (r instanceof PcpCodec.Refused f) {
            throw new PortMappingException("router " + rtr + " refused the PCP "
                    + (lifetime == 0 ? "deletion" : "mapping") + " of " + protocol + " port " + internalPort + ": "
                    + f.meaning());
        }
        int v = ((PcpCodec.UnsupportedVersion) r).version();
        throw new VersionNotSupportedException("router " + rtr + " does not speak PCP version 2 (it answered with"
                + " version " + v + (v == 0 ? ": NAT-PMP only; use NAT-PMP" : "") + ")", v);
    }

    private static String key(Protocol p, int port) {
        return p + "/" + port;
    }
}
