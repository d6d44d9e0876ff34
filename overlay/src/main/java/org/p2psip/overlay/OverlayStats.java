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

    /** Values of the counters at one moment. */
    public record Snapshot(long datagramsIn, long datagramsOut, long malformed, long rateLimited, long requestsServed,
                           long unmatchedReplies, long rpcTimeouts, long refusedPuts, long fragmentStreamsDropped) { }

    Snapshot snapshot(long fragmentStreamsDropped, long timeouts) {
        return new Snapshot(datagramsIn.get(), datagramsOut.get(), malformed.get(), rateLimited.get(),
                requestsServed.get(), unmatchedReplies.get(), timeouts, refusedPuts.get(), fragmentStreamsDropped);
    }
}
