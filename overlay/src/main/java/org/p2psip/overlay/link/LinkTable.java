package org.p2psip.overlay.link;

import java.net.InetSocketAddress;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The bounded set of peers this node keeps links to. A link is live while traffic crosses it; when the
 * table is full the least recently used link is dropped and the overlay forgets that peer, so a routing
 * table entry never outlives its link. Used only on the node's scheduler thread.
 */
public final class LinkTable {
    private final int maxLinks;
    private final Consumer<InetSocketAddress> onEvict;
    private final LinkedHashMap<InetSocketAddress, Link> links = new LinkedHashMap<>(64, 0.75f, true);

    public LinkTable(int maxLinks, Consumer<InetSocketAddress> onEvict) {
        if (maxLinks < 1) {
            throw new IllegalArgumentException("maxLinks must be positive");
        }
        this.maxLinks = maxLinks;
        this.onEvict = onEvict;
    }

    /** State of one link. */
    public static final class Link {
        private final InetSocketAddress remote;
        private long lastReceived;
        private long lastSent;

        Link(InetSocketAddress remote) {
            this.remote = remote;
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
                Iterator<Map.Entry<InetSocketAddress, Link>> it = links.entrySet().iterator();
                InetSocketAddress victim = it.next().getKey();
                it.remove();
                onEvict.accept(victim);
            }
            l = new Link(remote);
            links.put(remote, l);
        }
        return l;
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
