package org.p2psip.testbed;

import java.util.ArrayList;
import java.util.List;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.OverlayStats;

/**
 * What the RPC counters of a bench's overlay nodes did between two calls of {@link #next()}: shows whether RPC
 * timeouts happen while users' first REGISTERs create keys, during the steady rounds, or only at overload.
 */
final class OverlayRounds {
    private final List<OverlayNode> nodes;
    private final List<OverlayStats.Snapshot> last = new ArrayList<>();

    OverlayRounds(List<OverlayNode> nodes) {
        this.nodes = nodes;
        for (OverlayNode n : nodes) {
            last.add(n.counters());
        }
    }

    /** One line per call: per node, the deltas since the previous call. */
    String next() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < nodes.size(); i++) {
            OverlayStats.Snapshot now = nodes.get(i).counters();
            OverlayStats.Snapshot was = last.set(i, now);
            if (i > 0) {
                b.append("; ");
            }
            b.append(String.format("node %d %d served, %d timeouts, %d retransmissions, %d answered after a"
                            + " retransmission, %d duplicate requests answered from cache, %d gets unanswered, %d fragment"
                            + " streams dropped", i,
                    now.requestsServed() - was.requestsServed(), now.rpcTimeouts() - was.rpcTimeouts(),
                    now.rpcRetransmissions() - was.rpcRetransmissions(),
                    now.retransmittedReplies() - was.retransmittedReplies(),
                    now.duplicateRequests() - was.duplicateRequests(), now.unansweredGets() - was.unansweredGets(),
                    now.fragmentStreamsDropped() - was.fragmentStreamsDropped()));
        }
        return b.toString();
    }
}
