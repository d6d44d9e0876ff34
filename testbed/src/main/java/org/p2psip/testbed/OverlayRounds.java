package org.p2psip.testbed;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.p2psip.overlay.Contact;
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
            b.append(String.format("node %d %s, %d served, %d timeouts, %d retransmissions, %d answered after a"
                            + " retransmission, %d duplicate requests answered from cache, %d gets unanswered, %d fragment"
                            + " streams dropped", i, neighbours(nodes.get(i)),
                    now.requestsServed() - was.requestsServed(), now.rpcTimeouts() - was.rpcTimeouts(),
                    now.rpcRetransmissions() - was.rpcRetransmissions(),
                    now.retransmittedReplies() - was.retransmittedReplies(),
                    now.duplicateRequests() - was.duplicateRequests(), now.unansweredGets() - was.unansweredGets(),
                    now.fragmentStreamsDropped() - was.fragmentStreamsDropped()));
        }
        return b.toString();
    }

    /**
     * The node's routing table size, and how many of its entries are not one of the bench's nodes at its
     * address (a stale or wrong contact is asked by every lookup and never answers).
     */
    private String neighbours(OverlayNode n) {
        Set<InetSocketAddress> ours = new HashSet<>();
        for (OverlayNode o : nodes) {
            ours.add(o.contact().address());
        }
        try {
            List<Contact> cs = n.neighbours().get(5, TimeUnit.SECONDS);
            long strangers = cs.stream().filter(c -> !ours.contains(c.address())).count();
            return cs.size() + " neighbours (" + strangers + " not a bench node's address)";
        } catch (Exception e) {
            return "neighbours unknown (" + e + ")";
        }
    }
}
