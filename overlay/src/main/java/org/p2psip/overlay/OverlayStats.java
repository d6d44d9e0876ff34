package org.p2psip.overlay;

import java.util.concurrent.atomic.AtomicLong;
import org.p2psip.overlay.rpc.ReplyCache;
import org.p2psip.overlay.rpc.RpcEngine;

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
    final AtomicLong routedForwarded = new AtomicLong();
    final AtomicLong routedDelivered = new AtomicLong();
    final AtomicLong routedDropped = new AtomicLong();
    final AtomicLong unansweredGets = new AtomicLong();
    final AtomicLong republishDropped = new AtomicLong();

    /**
     * Values of the counters at one moment.
     *
     * @param extraCopies STOREs a put sent early (pipelined with its lookup) to nodes that a later answer
     *                    pushed out of the closest: copies beyond the replicas, which expire with the value
     * @param routedForwarded routed requests (ROUTE) this node passed on to a next hop
     * @param routedDelivered routed requests handed to an application handler here
     * @param routedDropped   routed requests not delivered nor forwarded: loops, forged or repeated via lists,
     *                        duplicates from another node, hop limit or time spent, no route, no handler for the
     *                        application id, too many in transit (malformed ones count in {@code malformed})
     * @param unansweredGets  gets that failed because none of the nodes asked answered (see {@link Dht#get})
     * @param republishDropped values this node wrote that every replica refused when republished (removed by their
     *                        owner elsewhere, or replaced), no longer republished
     * @param rpcRetransmissions requests this node sent again because an attempt went unanswered within the peer's
     *                        retransmission timeout
     * @param retransmittedReplies replies to requests that had been sent more than once: no RTT sample (Karn's rule),
     *                        and the peer's retransmission timeout backs off; many of them mean spurious retransmissions
     * @param duplicateRequests retransmitted requests (same source and request id) answered from the reply cache
     *                        without being executed again
     * @param replyCacheEvictions cached answers dropped before their time because the cache was full (a flood of
     *                        requests, perhaps from spoofed sources: their retransmissions are executed again)
     * @param requestIdReused requests carrying the request id of a cached answer to the same address but a different
     *                        sender or content: executed as new requests
     */
    public record Snapshot(long datagramsIn, long datagramsOut, long malformed, long rateLimited, long requestsServed,
                           long unmatchedReplies, long rpcTimeouts, long refusedPuts, long fragmentStreamsDropped,
                           long extraCopies, long routedForwarded, long routedDelivered, long routedDropped,
                           long unansweredGets, long republishDropped, long rpcRetransmissions,
                           long retransmittedReplies, long duplicateRequests, long replyCacheEvictions,
                           long requestIdReused) {
        /** All counters zero (a node not running yet). */
        public static final Snapshot NONE = new Snapshot(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /** The counters, with those the RPC engine and the reply cache keep (plain fields: may lag on other threads). */
    Snapshot snapshot(long fragmentStreamsDropped, RpcEngine rpc, ReplyCache replies) {
        return new Snapshot(datagramsIn.get(), datagramsOut.get(), malformed.get(), rateLimited.get(),
                requestsServed.get(), unmatchedReplies.get(), rpc.timeouts(), refusedPuts.get(), fragmentStreamsDropped,
                extraCopies.get(), routedForwarded.get(), routedDelivered.get(), routedDropped.get(),
                unansweredGets.get(), republishDropped.get(), rpc.retransmissions(), rpc.retransmittedReplies(),
                replies.hits(), replies.evicted(), replies.reused());
    }
}
