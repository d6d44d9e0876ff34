package org.p2psip.overlay;

/**
 * How one put or get went, by structure rather than by time: for finding what makes the slowest operations slow
 * (an extra round, a retransmission, a stalled node) on a machine too noisy for timings alone.
 * Counters that are per node (retransmissions, timeouts, datagrams) are the differences over the operation on the
 * node that ran it, so they include other work of that node done meanwhile; a sequential benchmark has none.
 *
 * @param rounds          sequential round trips on the critical path: the round of the reply that completed the
 *                        operation (a call made from a reply of round r is round r + 1)
 * @param queries         nodes the lookup queried (FIND_NODE, GET, or a PUT that also asked for closer nodes)
 * @param stores          STOREs the put sent (0 for a get); more than the replicas means copies beyond them
 * @param stalls          lookup queries that went unanswered for the first attempt's timeout
 * @param retransmissions requests this node sent again because an attempt went unanswered
 * @param timeouts        requests of this node that failed after every attempt
 * @param datagramsOut    datagrams this node sent
 * @param datagramsIn     datagrams this node received
 * @param queuedNanos     from the call to the start of the operation on the node's thread
 * @param doneNanos       {@link System#nanoTime()} when the operation completed on the node's thread
 */
public record OpTrace(int rounds, int queries, int stores, int stalls, long retransmissions, long timeouts,
                      long datagramsOut, long datagramsIn, long queuedNanos, long doneNanos) {

    /** A result with the trace of the operation that produced it. */
    public record Traced<T>(T result, OpTrace trace) { }
}
