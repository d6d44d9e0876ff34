package org.p2psip.node.site;

import org.p2psip.node.Peer;
import org.p2psip.superpeer.SiteStatus;
import org.p2psip.superpeer.discovery.Role;

/** What the site-mode tests read of a peer: its role in the site, and whether its overlay node has joined. */
final class SitePeers {
    private SitePeers() {
    }

    /** The peer's role in its site, or null before it has one. */
    static Role role(Peer p) {
        SiteStatus s = p.siteStatus();
        return s == null ? null : s.role();
    }

    /** Whether the peer's overlay node has joined; false when it has none (a leaf, or unseated a moment ago). */
    static boolean overlayJoined(Peer p) {
        try {
            return p.overlay().isJoined();
        } catch (IllegalStateException e) {
            return false;
        }
    }
}
