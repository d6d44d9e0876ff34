package org.p2psip.overlay.wire;

import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reassembles fragmented frames with bounded memory: at most {@code maxStreamsPerSource} incomplete
 * frames per sender, {@code maxBytes} buffered in all, and {@code timeoutMillis} to complete a frame.
 * The byte budget counts each incomplete frame's bookkeeping (its slot per declared fragment) as well
 * as its chunks, so a flood of tiny fragments from many addresses cannot hold more than the budget.
 * When a bound is hit the oldest incomplete frame is dropped, so a flood of fragments from one peer
 * costs others nothing but their own oldest partial frames. Used on one thread only.
 */
public final class Reassembler {
    private final int maxBytes;
    private final int maxStreamsPerSource;
    private final long timeoutMillis;
    private final LinkedHashMap<StreamKey, Partial> partials = new LinkedHashMap<>();
    private final Map<InetSocketAddress, Integer> perSource = new HashMap<>();
    /** Memory held by incomplete frames: chunks plus {@link #overhead} for each. */
    private long buffered;
    private long dropped;

    public Reassembler(int maxBytes, int maxStreamsPerSource, long timeoutMillis) {
        this.maxBytes = maxBytes;
        this.maxStreamsPerSource = maxStreamsPerSource;
        this.timeoutMillis = timeoutMillis;
    }

    /** Array header of a chunk. */
    private static final int CHUNK_OVERHEAD = 16;

    /** Memory of an incomplete frame besides its chunks: map entry, key, source address, slot array. */
    private static long overhead(int count) {
        return 160 + 8L * count;
    }

    private record StreamKey(InetSocketAddress source, long stream) { }

    private static final class Partial {
        final byte[][] chunks;
        final long firstSeen;
        int received;
        /** Bytes of chunks received, checked against the frame limit. */
        int bytes;
        /** Memory charged to the budget: bookkeeping plus chunks. */
        long cost;

        Partial(int count, long now) {
            chunks = new byte[count][];
            firstSeen = now;
        }
    }

    /**
     * Takes one fragment datagram; returns the whole frame once its last fragment arrived, else null.
     *
     * @throws MalformedFrameException for a fragment that cannot be part of a valid frame
     */
    public byte[] accept(InetSocketAddress from, byte[] d, int len, long now) throws MalformedFrameException {
        WireCodec.checkPrelude(d, len);
        if (len <= Frame.FRAGMENT_HEADER_BYTES || d[3] != Frame.KIND_FRAGMENT) {
            throw new MalformedFrameException("bad fragment");
        }
        long stream = 0;
        for (int b = 0; b < 8; b++) {
            stream = (stream << 8) | (d[4 + b] & 0xff);
        }
        int index = ((d[12] & 0xff) << 8) | (d[13] & 0xff);
        int count = ((d[14] & 0xff) << 8) | (d[15] & 0xff);
        if (count < 2 || count > Fragmenter.MAX_FRAGMENTS || index >= count) {
            throw new MalformedFrameException("fragment " + index + " of " + count);
        }
        expire(now);
        StreamKey key = new StreamKey(from, stream);
        Partial p = partials.get(key);
        if (p == null) {
            if (perSource.getOrDefault(from, 0) >= maxStreamsPerSource) {
                dropOldestOf(from);
            }
            p = new Partial(count, now);
            p.cost = overhead(count);
            buffered += p.cost;
            partials.put(key, p);
            perSource.merge(from, 1, Integer::sum);
        } else if (p.chunks.length != count) {
            remove(key);
            throw new MalformedFrameException("fragment count changed within a stream");
        }
        if (p.chunks[index] != null) {
            return null; // duplicate
        }
        int chunkLen = len - Frame.FRAGMENT_HEADER_BYTES;
        if (p.bytes + chunkLen > Frame.MAX_FRAME_BYTES) {
            remove(key);
            throw new MalformedFrameException("fragments exceed the frame limit");
        }
        byte[] chunk = new byte[chunkLen];
        System.arraycopy(d, Frame.FRAGMENT_HEADER_BYTES, chunk, 0, chunkLen);
        p.chunks[index] = chunk;
        p.received++;
        p.bytes += chunkLen;
        p.cost += chunkLen + CHUNK_OVERHEAD;
        buffered += chunkLen + CHUNK_OVERHEAD;
        while (buffered > maxBytes && !partials.isEmpty()) {
            StreamKey oldest = partials.keySet().iterator().next();
            remove(oldest);
            dropped++;
            if (oldest.equals(key)) {
                return null;
            }
        }
        if (p.received < count) {
            return null;
        }
        remove(key);
        byte[] whole = new byte[p.bytes];
        int off = 0;
        for (byte[] c : p.chunks) {
            System.arraycopy(c, 0, whole, off, c.length);
            off += c.length;
        }
        return whole;
    }

    /**
     * True when {@code d} is a fragment of a frame not yet buffered from {@code from}, i.e. the first of
     * its frame to arrive (so a rate limit can count the frame once, not each fragment).
     */
    public boolean opensStream(InetSocketAddress from, byte[] d, int len) {
        if (len < Frame.FRAGMENT_HEADER_BYTES) {
            return true;
        }
        long stream = 0;
        for (int b = 0; b < 8; b++) {
            stream = (stream << 8) | (d[4 + b] & 0xff);
        }
        return !partials.containsKey(new StreamKey(from, stream));
    }

    private void dropOldestOf(InetSocketAddress from) {
        for (StreamKey k : partials.keySet()) {
            if (k.source().equals(from)) {
                remove(k);
                dropped++;
                return;
            }
        }
    }

    private void expire(long now) {
        Iterator<Map.Entry<StreamKey, Partial>> it = partials.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<StreamKey, Partial> e = it.next();
            if (now - e.getValue().firstSeen < timeoutMillis) {
                break; // insertion order: the rest are younger
            }
            it.remove();
            forget(e.getKey(), e.getValue());
            dropped++;
        }
    }

    private void remove(StreamKey key) {
        Partial p = partials.remove(key);
        if (p != null) {
            forget(key, p);
        }
    }

    private void forget(StreamKey key, Partial p) {
        buffered -= p.cost;
        perSource.computeIfPresent(key.source(), (k, n) -> n <= 1 ? null : n - 1);
    }

    /** Memory held by incomplete frames, bookkeeping included: at most the budget once a fragment is handled. */
    public long bufferedBytes() {
        return buffered;
    }

    /** Incomplete frames dropped for age or memory. */
    public long droppedStreams() {
        return dropped;
    }

    public int pendingStreams() {
        return partials.size();
    }
}
