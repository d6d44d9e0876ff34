package org.p2psip.overlay;

/**
 * Receives events of an {@link OverlayNode} that its counters ({@link OverlayStats}) cannot carry, such as each
 * lookup's duration, for metrics. Called on the node's thread: implementations must be quick and must not block.
 * The overlay depends on no metrics library; the embedding program records what it needs.
 */
public interface OverlayObserver {
    /** Observes nothing. */
    OverlayObserver NONE = new OverlayObserver() { };

    /**
     * An iterative lookup (of a put, get, remove, listen, join or refresh) finished.
     *
     * @param millis  how long it took, by the node's clock
     * @param hops    its hop count ({@link org.p2psip.overlay.lookup.IterativeLookup#hops()})
     * @param queries how many nodes it queried
     * @param found   whether it ended with at least one node
     */
    default void lookupFinished(long millis, int hops, int queries, boolean found) { }

    /**
     * A request of a lookup to {@code contact} (from the routing table, or reported by another node) got no answer.
     * A node behind a NAT that other nodes reach but this one does not shows up here: the embedding program may set
     * up another kind of link to it (ICE, with an Attach routed through the overlay).
     */
    default void contactUnanswered(Contact contact) { }
}
