package org.p2psip.sip.overlay;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.p2psip.overlay.NodeId;
import org.p2psip.sip.message.SipUri;

/**
 * Where a peer's SIP side can be reached, as it writes it into its own SIP URIs (the path of its contact records, its
 * Record-Route): {@code ;p2p-site=TAG;p2p-node=ID[.ID]}.
 *
 * @param site     the peer's site: the public IP address of the NAT in front of it; null when no NAT was detected
 *                 (the peer is reached directly, as before: no parameters are written)
 * @param gateways the overlay nodes that deliver SIP to it: itself when it runs an overlay node, else (a leaf) its
 *                 primary and standby superpeers, which reach it on their LAN; at most {@link #MAX_GATEWAYS}
 * @param outbound for a leaf: the SIP address of its primary superpeer, which carries its requests over the overlay;
 *                 null when the peer routes over the overlay itself
 */
public record SipLocation(String site, List<NodeId> gateways, InetSocketAddress outbound) {
    public static final String SITE_PARAM = "p2p-site";
    public static final String NODE_PARAM = "p2p-node";
    static final int MAX_GATEWAYS = 4;
    private static final int MAX_SITE_CHARS = 64;
    /** A peer reached directly from anywhere (no NAT detected, or no overlay). */
    public static final SipLocation DIRECT = new SipLocation(null, List.of(), null);

    public SipLocation {
        gateways = List.copyOf(gateways.subList(0, Math.min(gateways.size(), MAX_GATEWAYS)));
        if (site != null && !validSite(site)) {
            throw new IllegalArgumentException("site tag '" + site + "' is not 1.." + MAX_SITE_CHARS
                    + " letters, digits, '.', ':', '-' or '_'");
        }
    }

    /** The URI parameters naming this location, or "" when the peer is reached directly. */
    public String uriParams() {
        if (site == null || gateways.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder(";").append(SITE_PARAM).append('=').append(site).append(';')
                .append(NODE_PARAM).append('=');
        for (int i = 0; i < gateways.size(); i++) {
            sb.append(i == 0 ? "" : ".").append(gateways.get(i).toHex());
        }
        return sb.toString();
    }

    /** Whether this peer sends over the overlay itself (it runs an overlay node). */
    public boolean routesItself() {
        return outbound == null;
    }

    /**
     * The site and gateways a peer URI names; empty when it names none, or names them malformed (then the URI is
     * reached directly, as any other).
     */
    public static Optional<SipLocation> of(SipUri uri) {
        Optional<String> site = uri.param(SITE_PARAM);
        Optional<String> nodes = uri.param(NODE_PARAM);
        if (site.isEmpty() || nodes.isEmpty() || !validSite(site.get())) {
            return Optional.empty();
        }
        String[] parts = nodes.get().split("\\.", -1);
        if (parts.length > MAX_GATEWAYS) {
            return Optional.empty();
        }
        List<NodeId> ids = new ArrayList<>();
        for (String p : parts) {
            if (p.length() != NodeId.BYTES * 2 || !p.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                return Optional.empty();
            }
            ids.add(NodeId.fromHex(p));
        }
        return Optional.of(new SipLocation(site.get(), ids, null));
    }

    /** Whether a URI at {@code there} must be reached over the overlay from here: another site's private address. */
    public boolean needsOverlayTo(SipLocation there) {
        return there.site() != null && !Objects.equals(site, there.site()) && !there.gateways().isEmpty();
    }

    /**
     * Whether this peer is itself a gateway of {@code there} (a superpeer and one of its leaves): then it reaches it
     * on its LAN, even while it does not know its own site yet.
     */
    public boolean delivers(SipLocation there) {
        return routesItself() && !gateways.isEmpty() && there.gateways().contains(gateways.get(0));
    }

    private static boolean validSite(String s) {
        if (s.isEmpty() || s.length() > MAX_SITE_CHARS) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == ':'
                    || c == '-' || c == '_')) {
                return false;
            }
        }
        return true;
    }
}
