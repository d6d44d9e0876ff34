package org.p2psip.node.event;

/** The kinds of link a peer keeps. */
public enum LinkKind {
    /** A leaf's primary link: its DHT calls go to this superpeer. */
    SUPERPEER,
    /** A leaf's standby link, to the superpeer that takes over when the primary fails. */
    STANDBY,
    /** A superpeer's link to a leaf of its site (primary or standby on the leaf's side). */
    LEAF,
    /** A superpeer's overlay neighbour (a contact in its routing table). */
    OVERLAY
}
