package org.p2psip.superpeer;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.p2psip.nat.portmap.Mapping;
import org.p2psip.nat.portmap.PortMapper;
import org.p2psip.nat.portmap.Protocol;
import org.p2psip.superpeer.discovery.Announcement;
import org.p2psip.superpeer.discovery.NatInfo;

/**
 * Makes a peer's announcement reflect the port mapping its router granted: while a mapping of the overlay port holds,
 * the mapped external address is advertised (after the LAN address, which stays first) and the NAT info says
 * port-mapped, so the election counts the peer as {@code Reachability.PORT_MAPPED}. Without a mapping the announcement
 * is unchanged.
 */
public final class PortMappedSelf {
    private PortMappedSelf() {
    }

    /** {@code base} with {@code mapping} applied (or {@code base} itself when there is none). */
    public static SiteNode.SelfInfo apply(SiteNode.SelfInfo base, Optional<Mapping> mapping) {
        if (mapping.isEmpty()) {
            return base;
        }
        InetSocketAddress external = mapping.get().external();
        List<InetSocketAddress> addresses = new ArrayList<>(base.overlayAddresses());
        if (!addresses.contains(external)) {
            if (addresses.size() >= Announcement.MAX_ADDRESSES) {
                addresses.remove(addresses.size() - 1);
            }
            addresses.add(external);
        }
        NatInfo n = base.nat();
        NatInfo nat = new NatInfo(n.mapping(), n.filtering(), n.natDetected(), true);
        return new SiteNode.SelfInfo(addresses, base.prefixLength(), base.reflexive(), nat, base.preference(),
                base.spareCpuPermille(), base.spareMemoryMiB(), base.spareBandwidthKbps());
    }

    /** A supplier for {@link SiteNode#start} that applies the mapper's current mapping of the overlay port. */
    public static Supplier<SiteNode.SelfInfo> supplier(Supplier<SiteNode.SelfInfo> base, PortMapper mapper,
            Protocol protocol, int overlayPort) {
        return () -> apply(base.get(), mapper.current(protocol, overlayPort));
    }
}
