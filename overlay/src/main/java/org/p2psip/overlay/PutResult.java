package org.p2psip.overlay;

import java.util.List;

/**
 * Outcome of a put or remove that reached at least one replica.
 *
 * @param stored    replicas that accepted the operation
 * @param contacted replicas asked
 * @param refusals  reasons given by replicas that refused
 * @param held      for a put: what each replica that stored it and said so holds under the key after storing it
 *                  (see {@link HeldValues}); at most {@code stored} entries, fewer when some replicas gave no summary
 *                  (a remove, or a {@link Dht} that cannot tell, gives none)
 */
public record PutResult(int stored, int contacted, List<String> refusals, List<HeldValues> held) {
    public PutResult {
        refusals = List.copyOf(refusals);
        held = List.copyOf(held);
    }

    /** A result without summaries. */
    public PutResult(int stored, int contacted, List<String> refusals) {
        this(stored, contacted, refusals, List.of());
    }

    /**
     * Whether every replica asked stored the value and answered with a complete summary: then {@link #held} tells
     * what the key holds on every replica, and a writer that knows what it held before need not read it back.
     */
    public boolean heldEverywhere() {
        return stored > 0 && stored == contacted && held.size() == stored
                && held.stream().allMatch(HeldValues::complete);
    }
}
