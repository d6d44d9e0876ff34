package org.p2psip.overlay.route;

/** Where a routed request is delivered. */
public enum RouteMode {
    /**
     * At the node whose id is the target, and nowhere else (RELOAD's Attach to a node id). A hop forwards to the target
     * when it has it as a contact, else to its contact closest to the target that the request has not visited, even
     * one farther than itself: a node behind a NAT reaches a peer it cannot reach directly through its bootstrap.
     */
    EXACT,
    /** At the node closest to the target that the greedy walk reaches (a hop that knows no closer contact answers). */
    CLOSEST
}
