package org.p2psip.overlay.wire;

import org.p2psip.overlay.NodeId;

/**
 * One overlay datagram's content. On the wire (big-endian):
 * <pre>
 *  0  magic 'P' '2'
 *  2  version (1)
 *  3  kind: 0 request, 1 reply, 2 fragment
 *  request/reply: 4 request id (8), 12 sender node id (20), 32 body (Kryo, registered class id + fields)
 *  fragment:      4 stream id (8), 12 index (2), 14 count (2), 16 chunk
 * </pre>
 * A frame larger than the link's datagram limit travels as fragments that the receiver reassembles.
 */
public record Frame(boolean reply, long requestId, NodeId sender, Message message) {
    public static final int MAGIC0 = 'P';
    public static final int MAGIC1 = '2';
    public static final int VERSION = 1;
    public static final int KIND_REQUEST = 0;
    public static final int KIND_REPLY = 1;
    public static final int KIND_FRAGMENT = 2;
    public static final int HEADER_BYTES = 32;
    public static final int FRAGMENT_HEADER_BYTES = 16;
    /** Largest whole frame: a 64 KiB value plus its metadata and header. */
    public static final int MAX_FRAME_BYTES = 72 * 1024;
}
