package org.p2psip.superpeer;

import java.net.InetSocketAddress;
import java.util.List;
import org.p2psip.overlay.NodeId;
import org.p2psip.superpeer.discovery.NatInfo;
import org.p2psip.superpeer.discovery.Role;
import org.p2psip.superpeer.leaf.LeafService;

/**
 * What {@code p2psip status} shows about a site peer.
 *
 * @param role       the role the peer acts in
 * @param address    its socket (overlay and leaf protocol)
 * @param nat        the NAT behaviour it announces
 * @param site       the site's members as of the last tick, this peer first
 * @param superpeers the site's superpeers from the last election, best first
 * @param primary    as a leaf: the superpeer its calls go to (null when none, or when superpeer)
 * @param standby    as a leaf: the superpeer of its standby link (null when none)
 * @param leaves     as a superpeer: the attached leaves (primary and standby links)
 * @param overlayNeighbours as a superpeer: routing-table entries of its overlay node (0 otherwise)
 * @param failovers  as a leaf: times its standby took over
 */
public record SiteStatus(Role role, InetSocketAddress address, NatInfo nat, List<NodeId> site, List<NodeId> superpeers,
                         NodeId primary, NodeId standby, List<LeafService.LeafInfo> leaves, int overlayNeighbours,
                         long failovers) {
    public SiteStatus {
        site = List.copyOf(site);
        superpeers = List.copyOf(superpeers);
        leaves = List.copyOf(leaves);
    }

    /** A few human-readable lines. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        b.append("role: ").append(role).append(" at ").append(address).append('\n');
        b.append("NAT: mapping ").append(nat.mapping()).append(", filtering ").append(nat.filtering())
                .append(nat.portMapped() ? ", port-mapped" : "").append('\n');
        b.append("site: ").append(site.size()).append(" peers; superpeers ")
                .append(superpeers.stream().map(NodeId::shortHex).toList()).append('\n');
        if (role == Role.SUPERPEER) {
            b.append("overlay: ").append(overlayNeighbours).append(" neighbours; leaf links: ").append(leaves.size());
            for (LeafService.LeafInfo l : leaves) {
                b.append("\n  ").append(l.id().shortHex()).append(' ').append(l.address())
                        .append(l.standby() ? " standby" : " primary").append(", ").append(l.listens()).append(" listens");
            }
        } else {
            b.append("links: primary ").append(primary == null ? "none" : primary.shortHex()).append(", standby ")
                    .append(standby == null ? "none" : standby.shortHex()).append("; failovers ").append(failovers);
        }
        return b.toString();
    }
}
