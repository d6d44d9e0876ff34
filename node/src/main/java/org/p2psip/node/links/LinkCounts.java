package org.p2psip.node.links;

/**
 * Open overlay links by how they travel: {@code direct} over the peer's own socket (a DTLS session, or with
 * {@code --link-security none} an entry of the overlay's link table), {@code ice} over an ICE selected pair of host or
 * reflexive candidates (a punched hole), {@code relayed} over a TURN allocation.
 */
public record LinkCounts(int direct, int ice, int relayed) {
    public static final LinkCounts NONE = new LinkCounts(0, 0, 0);

    public int total() {
        return direct + ice + relayed;
    }

    /** As {@code p2psip status} shows it: {@code direct D, ice I, relayed R}. */
    @Override
    public String toString() {
        return "direct " + direct + ", ice " + ice + ", relayed " + relayed;
    }
}
