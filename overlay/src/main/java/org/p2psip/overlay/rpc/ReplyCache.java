package org.p2psip.overlay.rpc;

import java.net.InetSocketAddress;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.p2psip.overlay.NodeId;

/**
 * The serving side's duplicate-request suppression: the encoded answers to recent requests, keyed by (source
 * address, request id). A retransmitted request (the requester's answer was lost, or came later than its
 * retransmission timeout) is answered with the cached bytes instead of being executed again: at a storing node a
 * second execution of a STORE is a second parse and signature check, and under load that extra work is what turns
 * queueing delay into more retransmissions.
 *
 * <p>An entry also holds the requester's node id and a checksum of the request: a request with the id of a cached
 * answer but another sender or content (a restarted node reusing an id, or a forgery) is executed as new and
 * replaces the entry ({@link #reused()}). Bounded in time (entries live {@code ttlMillis}, past the requester's
 * last retransmission) and in memory (entries and bytes): when full, the oldest entries go first, counted in
 * {@link #evicted()}; a flood from spoofed sources can only push answers out early, whose retransmissions are then
 * executed again as before. Entries are inserted in time order, so the oldest is always first. Used on the node's
 * thread only.
 */
public final class ReplyCache {
    /** Accounted per entry beside the answer's bytes: key, entry and map node. */
    static final int ENTRY_OVERHEAD_BYTES = 120;

    private record Key(InetSocketAddress from, long requestId) { }

    private record Entry(NodeId sender, int checksum, byte[] reply, long expiresAt) { }

    private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>();
    private final int maxEntries;
    private final long maxBytes;
    private final long ttlMillis;
    private long bytes;
    private long hits;
    private long evicted;
    private long reused;

    /**
     * @param maxEntries answers kept at most
     * @param maxBytes   bytes of answers (plus {@value #ENTRY_OVERHEAD_BYTES} per entry) kept at most
     * @param ttlMillis  how long an answer is kept: longer than requesters keep retransmitting
     */
    public ReplyCache(int maxEntries, long maxBytes, long ttlMillis) {
        if (maxEntries < 1 || maxBytes < 1 || ttlMillis < 1) {
            throw new IllegalArgumentException("the reply cache needs positive bounds");
        }
        this.maxEntries = maxEntries;
        this.maxBytes = maxBytes;
        this.ttlMillis = ttlMillis;
    }

    /**
     * The cached answer to this request if it was answered within the last {@code ttlMillis}, or null: then
     * execute it and {@link #put} the answer.
     *
     * @param checksum a checksum of the request's body, so that another request reusing the id is not answered
     *                 with this one's answer
     */
    public byte[] lookup(InetSocketAddress from, long requestId, NodeId sender, int checksum, long now) {
        expire(now);
        Entry e = entries.get(new Key(from, requestId));
        if (e == null) {
            return null;
        }
        if (!e.sender.equals(sender) || e.checksum != checksum) {
            reused++;
            return null;
        }
        hits++;
        return e.reply;
    }

    /** Keeps the encoded answer to a request just executed; a larger answer than the byte bound is not kept. */
    public void put(InetSocketAddress from, long requestId, NodeId sender, int checksum, byte[] reply, long now) {
        long size = (long) reply.length + ENTRY_OVERHEAD_BYTES;
        if (size > maxBytes) {
            return;
        }
        Key k = new Key(from, requestId);
        Entry old = entries.remove(k); // a replaced entry goes to the end, keeping the map in time order
        if (old != null) {
            bytes -= old.reply.length + ENTRY_OVERHEAD_BYTES;
        }
        while (!entries.isEmpty() && (entries.size() >= maxEntries || bytes + size > maxBytes)) {
            Iterator<Map.Entry<Key, Entry>> it = entries.entrySet().iterator();
            Entry oldest = it.next().getValue();
            it.remove();
            bytes -= oldest.reply.length + ENTRY_OVERHEAD_BYTES;
            if (oldest.expiresAt > now) {
                evicted++;
            }
        }
        entries.put(k, new Entry(sender, checksum, reply, now + ttlMillis));
        bytes += size;
    }

    /** Drops answers older than the time to live (also done on every lookup). */
    public void expire(long now) {
        Iterator<Entry> it = entries.values().iterator();
        while (it.hasNext()) {
            Entry e = it.next();
            if (e.expiresAt > now) {
                return;
            }
            it.remove();
            bytes -= e.reply.length + ENTRY_OVERHEAD_BYTES;
        }
    }

    public int size() {
        return entries.size();
    }

    public long bytes() {
        return bytes;
    }

    /** Retransmitted requests answered from the cache. */
    public long hits() {
        return hits;
    }

    /** Answers dropped before their time to make room. */
    public long evicted() {
        return evicted;
    }

    /** Requests whose id matched a cached answer of the same address but whose sender or content differed. */
    public long reused() {
        return reused;
    }
}
