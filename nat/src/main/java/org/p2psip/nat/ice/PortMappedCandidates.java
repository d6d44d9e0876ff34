package org.p2psip.nat.ice;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import org.p2psip.nat.portmap.PortMapper;
import org.p2psip.nat.portmap.PortMappingException;
import org.p2psip.nat.portmap.Protocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Port-mapped candidates: the router in front of this node (UPnP-IGD, NAT-PMP or PCP) forwards a public port to an
 * ICE agent's host port, and the agent advertises that public address as a server-reflexive candidate. Its NAT then
 * admits the peer's checks whatever the peer's NAT does, so such a node links directly with every other, a symmetric
 * one included. {@link IceLinks} maps the host port of each agent and unmaps it when the link or the attempt ends.
 */
public interface PortMappedCandidates {
    /** The public address the router forwards to {@code host}, or empty when it grants none. Blocking. */
    Optional<InetSocketAddress> map(InetSocketAddress host);

    /** Deletes the mapping of {@code host} (best effort). */
    void unmap(InetSocketAddress host);

    /**
     * Mappings through {@code mapper} with {@code lifetime} (renewed by the mapper while the link lives). Only host
     * candidates on the mapper's local address (the one facing the router) are mapped.
     */
    static PortMappedCandidates of(PortMapper mapper, Duration lifetime) {
        Logger log = LoggerFactory.getLogger(PortMappedCandidates.class);
        return new PortMappedCandidates() {
            @Override
            public Optional<InetSocketAddress> map(InetSocketAddress host) {
                if (!host.getAddress().equals(mapper.localAddress())) {
                    return Optional.empty();
                }
                try {
                    return Optional.of(mapper.map(Protocol.UDP, host.getPort(), lifetime).external());
                } catch (PortMappingException | RuntimeException e) {
                    log.info("no port mapping for ICE host candidate {} at router {}: {}", host,
                            mapper.router().getHostAddress(), e.getMessage());
                    return Optional.empty();
                }
            }

            @Override
            public void unmap(InetSocketAddress host) {
                try {
                    mapper.unmap(Protocol.UDP, host.getPort());
                } catch (PortMappingException | RuntimeException e) {
                    log.debug("could not delete the mapping of {}: {}", host, e.getMessage());
                }
            }
        };
    }
}
