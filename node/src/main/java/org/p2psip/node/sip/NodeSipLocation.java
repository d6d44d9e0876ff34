package org.p2psip.node.sip;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.p2psip.node.site.SiteWiring;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.sip.overlay.SipLocation;
import org.p2psip.superpeer.SitePeer;
import org.p2psip.superpeer.discovery.NatInfo;
import org.p2psip.superpeer.leaf.LeafDht;

/**
 * Where a node's SIP side is on the overlay ({@link SipLocation}), from what the node knows now: behind a detected
 * NAT, its site is the NAT's public address; the overlay node that delivers SIP to it is its own while it runs one
 * (a plain node or a superpeer), else (a leaf) its primary and standby superpeers, and its requests for other sites go
 * to its primary superpeer's SIP port on the LAN. A node with no NAT detected has no site: its URIs carry no location
 * and are reached directly.
 *
 * <p>A leaf assumes its superpeer's SIP port is its own: the peers of a site run the same configuration (the leaf
 * protocol does not carry SIP ports).
 */
public final class NodeSipLocation implements Supplier<SipLocation> {
    private final NodeId self;
    private final Supplier<OverlayNode> overlay;
    private final Supplier<SiteWiring> site;
    private final Supplier<NatInfo> plainNat;
    private final Supplier<InetSocketAddress> plainReflexive;
    private volatile int sipPort;

    /**
     * @param overlay        the node's overlay node now (null as a leaf)
     * @param site           the site peer, or null for a plain node
     * @param plainNat       a plain node's NAT discovery result
     * @param plainReflexive a plain node's reflexive address (null when unknown)
     */
    public NodeSipLocation(NodeId self, Supplier<OverlayNode> overlay, Supplier<SiteWiring> site,
            Supplier<NatInfo> plainNat, Supplier<InetSocketAddress> plainReflexive) {
        this.self = self;
        this.overlay = overlay;
        this.site = site;
        this.plainNat = plainNat;
        this.plainReflexive = plainReflexive;
    }

    /** This node's SIP port, which a leaf takes to be its superpeers' too. */
    public void sipPort(int port) {
        this.sipPort = port;
    }

    @Override
    public SipLocation get() {
        SiteWiring w = site.get();
        NatInfo nat = w != null ? w.natInfo() : plainNat.get();
        InetSocketAddress reflexive = w != null ? w.reflexiveAddress() : plainReflexive.get();
        // no site while no NAT is known: the URIs then carry no location and are reached directly, as before
        String tag = Boolean.TRUE.equals(nat.natDetected()) && reflexive != null
                ? reflexive.getAddress().getHostAddress() : null;
        if (overlay.get() != null) {
            return new SipLocation(tag, List.of(self), null);
        }
        SitePeer p = w == null ? null : w.peer();
        LeafDht leaf = p == null ? null : p.leafDht();
        if (leaf == null || leaf.primary().isEmpty()) {
            return new SipLocation(tag, List.of(), null); // a candidate not attached yet: no gateway
        }
        LeafDht.SuperpeerRef primary = leaf.primary().get();
        List<NodeId> gateways = new ArrayList<>();
        gateways.add(primary.id());
        leaf.standby().ifPresent(s -> gateways.add(s.id()));
        return new SipLocation(tag, gateways, new InetSocketAddress(primary.address().getAddress(), sipPort));
    }
}
