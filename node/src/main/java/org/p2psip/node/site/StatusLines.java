package org.p2psip.node.site;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.p2psip.node.HostPort;
import org.p2psip.overlay.NodeId;
import org.p2psip.superpeer.SiteStatus;
import org.p2psip.superpeer.discovery.NatInfo;
import org.p2psip.superpeer.discovery.Role;
import org.p2psip.superpeer.leaf.LeafService;

/**
 * The site's lines of the control port's {@code STATUS} reply ({@code p2psip status}), one {@code name value} per
 * line: role, site members and superpeers, the leaf's primary and standby superpeer or the superpeer's leaves, and
 * the NAT behaviour. Node ids are in full hex.
 */
public final class StatusLines {
    private StatusLines() { }

    /** The lines of a peer in site mode. */
    public static List<String> of(SiteStatus s) {
        List<String> l = new ArrayList<>();
        l.add("role " + name(s.role()));
        l.add("site-address " + HostPort.format(s.address()));
        l.add("site-size " + s.site().size());
        l.add("site-members " + ids(s.site()));
        l.add("site-superpeers " + ids(s.superpeers()));
        l.add(nat(s.nat()));
        if (s.role() == Role.SUPERPEER) {
            l.add("leaves " + s.leaves().stream().map(LeafService.LeafInfo::id).distinct().count());
            for (LeafService.LeafInfo i : s.leaves()) {
                l.add("leaf " + i.id().toHex() + " " + HostPort.format(i.address()) + (i.standby() ? " standby" : " primary")
                        + " listens=" + i.listens());
            }
        } else {
            l.add("primary " + (s.primary() == null ? "none" : s.primary().toHex()));
            l.add("standby " + (s.standby() == null ? "none" : s.standby().toHex()));
            l.add("failovers " + s.failovers());
        }
        return l;
    }

    /** The lines of a plain superpeer (role superpeer: no site, NAT not discovered). */
    public static List<String> plain() {
        return List.of("role superpeer", "site none", nat(NatInfo.UNKNOWN));
    }

    /** {@code nat not-discovered}, {@code nat none} or {@code nat mapping=.. filtering=.. port-mapped=yes|no}. */
    public static String nat(NatInfo n) {
        if (n.natDetected() == null) {
            return "nat not-discovered" + (n.portMapped() ? " port-mapped=yes" : "");
        }
        if (!n.natDetected()) {
            return "nat none";
        }
        return "nat mapping=" + words(n.mapping().name()) + " filtering=" + words(n.filtering().name())
                + " port-mapped=" + (n.portMapped() ? "yes" : "no");
    }

    private static String name(Role r) {
        return r.name().toLowerCase(Locale.ROOT);
    }

    private static String words(String enumName) {
        return enumName.toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static String ids(List<NodeId> ids) {
        return ids.isEmpty() ? "none" : ids.stream().map(NodeId::toHex).collect(Collectors.joining(","));
    }
}
