package org.p2psip.node.event;

/** A peer's role in its site. A peer run with role {@code superpeer} (no site) is a SUPERPEER from the start. */
public enum PeerRole {
    /** Warming up: listening to its site's announcements before the first election; calls go through superpeers. */
    CANDIDATE,
    /** Attached to superpeers of its site, which carry its DHT calls; no overlay node of its own. */
    LEAF,
    /** Runs an overlay node: stores its share of the DHT and serves the site's leaves. */
    SUPERPEER
}
