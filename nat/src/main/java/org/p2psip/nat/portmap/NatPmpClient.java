package org.p2psip.nat.portmap;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;

/** NAT-PMP (RFC 6886) client: UDP to the router's port 5351. */
public final class NatPmpClient implements MappingClient {
    static final int PORT = 5351;

    private final InetSocketAddress router;
    private final InetAddress local;
    private final PortMapConfig config;

    public NatPmpClient(InetAddress router, InetAddress local, PortMapConfig config) {
        this(new InetSocketAddress(router, PORT), local, config);
    }

    /** A client for a router listening on another port than 5351 (tests). */
    NatPmpClient(InetSocketAddress router, InetAddress local, PortMapConfig config) {
        this.router = router;
        this.local = local;
        this.config = config;
    }

    @Override
    public Method method() {
        return Method.NAT_PMP;
    }

    /** The router's public address (opcode 0). */
    public InetAddress externalAddress() throws PortMappingException {
        NatPmpCodec.Reply r = UdpExchange.exchange("NAT-PMP", local, router, NatPmpCodec.externalAddressRequest(),
                config.initialTimeout(), config.attempts(), (d, n) -> NatPmpCodec.decode(d, n, 0));
        if (r instanceof NatPmpCodec.Failure f) {
            throw new PortMappingException("router " + router.getAddress().getHostAddress()
                    + " refused the NAT-PMP external address request: " + f.meaning());
        }
        InetAddress a = ((NatPmpCodec.ExternalAddress) r).address();
        if (a.isAnyLocalAddress()) {
            throw new PortMappingException("router " + router.getAddress().getHostAddress()
                    + " has no external address yet (NAT-PMP answered 0.0.0.0)");
        }
        return a;
    }

    @Override
    public Mapping map(Protocol protocol, InetSocketAddress internal, int suggestedExternalPort, Duration lifetime)
            throws PortMappingException {
        InetAddress external = externalAddress();
        NatPmpCodec.MappingReply m = request(protocol, internal.getPort(), suggestedExternalPort,
                Math.max(1, lifetime.toSeconds()));
        if (m.externalPort() == 0 || m.lifetimeSeconds() == 0) {
            throw new MalformedReplyException("NAT-PMP router granted external port " + m.externalPort()
                    + " for " + m.lifetimeSeconds() + " s: not a mapping");
        }
        return new Mapping(protocol, internal, new InetSocketAddress(external, m.externalPort()),
                Duration.ofSeconds(m.lifetimeSeconds()), Method.NAT_PMP);
    }

    @Override
    public void unmap(Mapping mapping) throws PortMappingException {
        request(mapping.protocol(), mapping.internal().getPort(), 0, 0);
    }

    private NatPmpCodec.MappingReply request(Protocol protocol, int internalPort, int externalPort, long lifetime)
            throws PortMappingException {
        int op = protocol.natPmpOpcode();
        NatPmpCodec.Reply r = UdpExchange.exchange("NAT-PMP", local, router,
                NatPmpCodec.mappingRequest(protocol, internalPort, externalPort, lifetime),
                config.initialTimeout(), config.attempts(), (d, n) -> NatPmpCodec.decode(d, n, op));
        if (r instanceof NatPmpCodec.Failure f) {
            throw new PortMappingException("router " + router.getAddress().getHostAddress() + " refused the NAT-PMP "
                    + (lifetime == 0 ? "deletion" : "mapping") + " of " + protocol + " port " + internalPort + ": "
                    + f.meaning());
        }
        NatPmpCodec.MappingReply m = (NatPmpCodec.MappingReply) r;
        if (m.internalPort() != internalPort) {
            throw new MalformedReplyException("NAT-PMP reply is for internal port " + m.internalPort()
                    + ", we asked for " + internalPort);
        }
        return m;
    }
}
