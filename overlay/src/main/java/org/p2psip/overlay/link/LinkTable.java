package org.p2psip.overlay.link;

import java.net.InetSocketAddress;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The bounded set of peers this node keeps links to. A link is live while traffic crosses it; when the
 * table is full the least recently used link not kept by {@code keep} (the routing table's contacts) is
 * dropped, or, when every link is kept, the newest one (Kademlia prefers long-lived contacts), and the
 * overlay forgets that peer. So a routing table entry never outlives its link, and traffic from many
 * new addresses cannot push the node's established neighbours out. Used only on the node's thread.
 */
public final class LinkTable {
    /** Links looked at for an unkept one before falling back to the newest link. */
    private static final int MAX_SCAN = 1024;
    private final int maxLinks;
    private long opened;
    private final Consumer<InetSocketAddress> onEvict;
    private final Predicate<InetSocketAddress> keep;
    private final LinkedHashMap<InetSocketAddress, Link> links = new LinkedHashMap<>(64, 0.75f, true);

    public LinkTable(int maxLinks, Consumer<InetSocketAddress> onEvict) {
        this(maxLinks, onEvict, a -> false);
    }

    /**
     * @param keep links to prefer keeping when one must go (those of routing table contacts); evicted
     *             only when every link is kept
     */
    public LinkTable(int maxLinks, Consumer<InetSocketAddress> onEvict, Predicate<InetSocketAddress> keep) {
        if (maxLinks < 1) {
            throw new IllegalArgumentException("maxLinks must be positive");
        }
        this.maxLinks = maxLinks;
        this.onEvict = onEvict;
        this.keep = keep;
    }

    /** State of one link. */
    public static final class Link {
        private final InetSocketAddress remote;
        private final long opened;
        private long lastReceived;
        private long lastSent;
        private RttEstimator rtt;

        Link(InetSocketAddress remote, long opened) {
            this.remote = remote;
            this.opened = opened;
        }

        public InetSocketAddress remote() {
            return remote;
        }

        public long lastReceivedMillis() {
            return lastReceived;
        }

        public long lastSentMillis() {
            return lastSent;
        }

        /** The peer's round-trip estimate, made on first use (only peers this node sends requests to need one). */
        public RttEstimator rtt() {
            if (rtt == null) {
                rtt = new RttEstimator();
            }
            return rtt;
        }
    }

    /** Records traffic from {@code remote}, opening a link (and perhaps evicting the oldest) if needed. */
    public Link received(InetSocketAddress remote, long now) {
        Link l = open(remote);
        l.lastReceived = now;
        return l;
    }

    /** Records traffic to {@code remote}. */
    public Link sent(InetSocketAddress remote, long now) {
        Link l = open(remote);
        l.lastSent = now;
        return l;
    }

    private Link open(InetSocketAddress remote) {
        Link l = links.get(remote);
        if (l == null) {
            if (links.size() >= maxLinks) {
                evictOne();
            }
            l = new Link(remote, opened++);
            links.put(remote, l);
        }
        return l;
    }

    /** Drops the least recently used link not kept, or the newest one when all are kept. */
    private void evictOne() {
        InetSocketAddress victim = null;
        Iterator<InetSocketAddress> it = links.keySet().iterator();
        for (int scanned = 0; it.hasNext() && scanned < MAX_SCAN; scanned++) {
            InetSocketAddress a = it.next();
            if (!keep.test(a)) {
                victim = a;
                break;
            }
        }
        if (victim == null) {
            long newest = -1;
            for (Link l : links.values()) {
                if (l.opened > newest) {
                    newest = l.opened;
                    victim = l.remote;
                }
            }
        }
        links.remove(victim);
        onEvict.accept(victim);
    }

    /** The link to {@code remote}, or null when there is none. */
    public Link get(InetSocketAddress remote) {
        return links.get(remote);
    }

    public boolean contains(InetSocketAddress remote) {
        return links.containsKey(remote);
    }

    public void close(InetSocketAddress remote) {
        links.remove(remote);
    }

    public int size() {
        return links.size();
    }

    public int capacity() {
        return maxLinks;
    }
}
