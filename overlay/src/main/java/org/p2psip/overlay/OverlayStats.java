package org.p2psip.overlay;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of one node, readable from any thread. */
public final class OverlayStats {
    final AtomicLong datagramsIn = new AtomicLong();
    final AtomicLong datagramsOut = new AtomicLong();
    final AtomicLong malformed = new AtomicLong();
    final AtomicLong rateLimited = new AtomicLong();
    final AtomicLong requestsServed = new AtomicLong();
    final AtomicLong unmatchedReplies = new AtomicLong();
    final AtomicLong rpcTimeouts = new AtomicLong();
    final AtomicLong refusedPuts = new AtomicLong();
    final AtomicLong extraCopies = new AtomicLong();

    /**
     * Values of the counters at one moment.
     *
     * @param extraCopies STOREs a put sent early (pipelined with its lookup) to nodes that a later answer
     *                    pushed out of the closest: copies beyond the replicas, which expire with the value
     */
    public record Snapshot(long datagramsIn, long datagramsOut, long malformed, long rateLimited, long requestsServed,
                           long unmatchedReplies, long rpcTimeouts, long refusedPuts, long fragmentStreamsDropped,
                           long extraCopies) { }

    Snapshot snapshot(long fragmentStreamsDropped, long timeouts) {
        return new Snapshot(datagramsIn.get(), datagramsOut.get(), malformed.get(), rateLimited.get(),
                requestsServed.get(), unmatchedReplies.get(), timeouts, refusedPuts.get(), fragmentStreamsDropped,
                extraCopies.get());
    }
}
