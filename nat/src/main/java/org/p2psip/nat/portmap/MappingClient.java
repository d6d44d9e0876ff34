package org.p2psip.nat.portmap;

import java.net.InetSocketAddress;
import java.time.Duration;

/** One way of asking a router for port mappings. Implementations are thread-safe. */
public sealed interface MappingClient permits PcpClient, NatPmpClient, UpnpIgdClient {
    Method method();

    /**
     * Asks for (or renews) a mapping of {@code internal} (this host's address facing the router, and a port).
     *
     * @param suggestedExternalPort the external port wished for (0: any); routers may assign another
     * @param lifetime the lifetime asked for; routers may shorten it
     */
    Mapping map(Protocol protocol, InetSocketAddress internal, int suggestedExternalPort, Duration lifetime)
            throws PortMappingException;

    /** Deletes a mapping this client made. */
    void unmap(Mapping mapping) throws PortMappingException;
}
