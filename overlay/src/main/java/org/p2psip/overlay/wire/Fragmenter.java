package org.p2psip.overlay.wire;

import java.util.ArrayList;
import java.util.List;

/** Splits a frame larger than the link's datagram limit into fragments ({@link Frame} kind 2). */
public final class Fragmenter {
    /** Most fragments in one stream: enough for {@link Frame#MAX_FRAME_BYTES} at a 600-byte datagram. */
    public static final int MAX_FRAGMENTS = 128;

    private Fragmenter() { }

    /**
     * Returns the datagrams that carry {@code frame}: the frame itself when it fits, else its fragments.
     *
     * @param streamId identifies this frame's fragments at the receiver; unique per sender for a while
     */
    public static List<byte[]> split(byte[] frame, int maxDatagram, long streamId) {
        if (frame.length <= maxDatagram) {
            return List.of(frame);
        }
        int chunk = maxDatagram - Frame.FRAGMENT_HEADER_BYTES;
        int count = (frame.length + chunk - 1) / chunk;
        if (chunk <= 0 || count > MAX_FRAGMENTS) {
            throw new IllegalArgumentException("a " + frame.length + "-byte frame needs " + count
                    + " fragments of " + chunk + " bytes; the limit is " + MAX_FRAGMENTS);
        }
        List<byte[]> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int off = i * chunk;
            int len = Math.min(chunk, frame.length - off);
            byte[] d = new byte[Frame.FRAGMENT_HEADER_BYTES + len];
            d[0] = Frame.MAGIC0;
            d[1] = Frame.MAGIC1;
            d[2] = Frame.VERSION;
            d[3] = Frame.KIND_FRAGMENT;
            for (int b = 0; b < 8; b++) {
                d[4 + b] = (byte) (streamId >>> (56 - 8 * b));
            }
            d[12] = (byte) (i >>> 8);
            d[13] = (byte) i;
            d[14] = (byte) (count >>> 8);
            d[15] = (byte) count;
            System.arraycopy(frame, off, d, Frame.FRAGMENT_HEADER_BYTES, len);
            out.add(d);
        }
        return out;
    }
}
