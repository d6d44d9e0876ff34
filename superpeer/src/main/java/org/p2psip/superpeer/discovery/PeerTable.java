package org.p2psip.superpeer.discovery;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.p2psip.overlay.NodeId;

/**
 * Live peers heard on the LAN, by node id: the latest verified announcement, where it came from, and when
 * (local monotonic milliseconds). Bounded: a new peer is refused when {@code capacity} peers are live.
 */
public final class PeerTable {
    public record Entry(Announcement announcement, InetSocketAddress from, long lastSeenMillis) {}

    private final Map<NodeId, Entry> peers = new ConcurrentHashMap<>();
    private final int capacity;

    public PeerTable(int capacity) {
        this.capacity = capacity;
    }

    /** Records a verified announcement; false when the table is full and the peer is new. */
    public boolean update(Announcement a, InetSocketAddress from, long nowMillis) {
        if (!peers.containsKey(a.nodeId()) && peers.size() >= capacity) {
            return false;
        }
        peers.merge(a.nodeId(), new Entry(a, from, nowMillis),
                (old, neu) -> neu.announcement().sequence() > old.announcement().sequence() ? neu : old);
        return true;
    }

    /** Removes and returns peers not heard for longer than {@code maxAgeMillis}. */
    public List<Entry> expire(long nowMillis, long maxAgeMillis) {
        List<Entry> gone = new ArrayList<>();
        peers.values().removeIf(e -> {
            if (nowMillis - e.lastSeenMillis() > maxAgeMillis) {
                gone.add(e);
                return true;
            }
            return false;
        });
        return gone;
    }

    public List<Entry> entries() {
        return List.copyOf(peers.values());
    }

    public Entry get(NodeId id) {
        return peers.get(id);
    }

    public int size() {
        return peers.size();
    }
}
