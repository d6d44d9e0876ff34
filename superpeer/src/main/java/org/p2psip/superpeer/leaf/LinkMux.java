package org.p2psip.superpeer.leaf;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicLong;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.link.LinkLayer;
import org.p2psip.overlay.runtime.Scheduler;
import org.p2psip.overlay.wire.Fragmenter;
import org.p2psip.overlay.wire.Frame;
import org.p2psip.overlay.wire.MalformedFrameException;
import org.p2psip.overlay.wire.Reassembler;

/**
 * Shares one link layer (one UDP socket, the address a peer announces) between the overlay and the two ends of the
 * leaf protocol: leaf-protocol datagrams to a superpeer go to {@link #superpeerSide()}, those to a leaf go to
 * {@link #leafSide()}, everything else to {@link #overlay()}. So a peer that changes role keeps its address, and
 * closing one side (an {@code OverlayNode} closes its link layer) leaves the socket to the others.
 *
 * <p>A leaf-protocol message may be up to {@link LeafCodec#MAX_DATAGRAM} bytes, more than a link with a smaller
 * datagram limit carries (a DTLS link: one 16 KiB record). The mux splits such a message into the overlay's fragment
 * frames ({@link Fragmenter}) with stream ids whose top bit is set, and reassembles those itself before it looks at
 * the message; the overlay's own fragments (ids counted up from 0, top bit clear) pass through to the overlay, which
 * reassembles them. Reassembly is bounded (memory, streams per source, 5 s) and bad fragments are counted drops.
 */
public final class LinkMux implements AutoCloseable {
    /** Marks the mux's fragment streams apart from the overlay node's. */
    private static final long MUX_STREAM = Long.MIN_VALUE;
    private final LinkLayer link;
    private final Side overlay = new Side(false);
    private final Side superpeerSide = new Side(true);
    private final Side leafSide = new Side(true);
    private final AtomicLong streams = new AtomicLong();
    private final AtomicLong droppedFragments = new AtomicLong();
    private final Reassembler reassembler = new Reassembler(4 << 20, 8, 5_000);

    public LinkMux(LinkLayer link) {
        this.link = link;
        link.setReceiver(this::receive);
    }

    private void receive(InetSocketAddress from, byte[] d, int len) {
        if (isMuxFragment(d, len)) {
            byte[] whole;
            try {
                synchronized (reassembler) {
                    whole = reassembler.accept(from, d, len, link.scheduler().nowMillis());
                }
            } catch (MalformedFrameException e) {
                droppedFragments.incrementAndGet();
                return;
            }
            if (whole == null) {
                return;
            }
            d = whole;
            len = whole.length;
            if (!LeafCodec.isLeafDatagram(d, len)) { // the mux fragments only leaf messages
                droppedFragments.incrementAndGet();
                return;
            }
        }
        Side s = !LeafCodec.isLeafDatagram(d, len) ? overlay
                : LeafCodec.isToSuperpeer(d) ? superpeerSide : leafSide;
        s.receiver.onDatagram(from, d, len);
    }

    private static boolean isMuxFragment(byte[] d, int len) {
        return len > Frame.FRAGMENT_HEADER_BYTES && d[0] == Frame.MAGIC0 && d[1] == Frame.MAGIC1
                && d[3] == Frame.KIND_FRAGMENT && (d[4] & 0x80) != 0;
    }

    /** Fragments of large leaf messages that were malformed, or reassembled into something else: dropped. */
    public long droppedFragments() {
        return droppedFragments.get() + reassembler.droppedStreams();
    }

    /** The view for an {@code OverlayNode}: overlay frames only. */
    public LinkLayer overlay() {
        return overlay;
    }

    /** The view for a {@link LeafService}: leaf-protocol messages sent by leaves. */
    public LinkLayer superpeerSide() {
        return superpeerSide;
    }

    /** The view for a {@link LeafDht}: leaf-protocol messages sent by superpeers. */
    public LinkLayer leafSide() {
        return leafSide;
    }

    /** The shared layer underneath. */
    public LinkLayer link() {
        return link;
    }

    /** Closes the socket, for every side. */
    @Override
    public void close() {
        link.close();
    }

    private final class Side implements LinkLayer {
        private static final Receiver NONE = (from, d, len) -> { };
        private final boolean leafProtocol;
        private volatile Receiver receiver = NONE;

        Side(boolean leafProtocol) {
            this.leafProtocol = leafProtocol;
        }

        @Override
        public InetSocketAddress localAddress() {
            return link.localAddress();
        }

        @Override
        public Scheduler scheduler() {
            return link.scheduler();
        }

        @Override
        public void setReceiver(Receiver receiver) {
            this.receiver = receiver;
        }

        @Override
        public void send(InetSocketAddress to, byte[] datagram) {
            if (leafProtocol && datagram.length > link.maxDatagramBytes()) {
                for (byte[] f : Fragmenter.split(datagram, link.maxDatagramBytes(),
                        MUX_STREAM | streams.getAndIncrement())) {
                    link.send(to, f);
                }
                return;
            }
            link.send(to, datagram);
        }

        /** The overlay's view: the link's limit (the overlay fragments itself); a leaf side's: a whole leaf message. */
        @Override
        public int maxDatagramBytes() {
            return leafProtocol ? Math.max(link.maxDatagramBytes(), LeafCodec.MAX_DATAGRAM) : link.maxDatagramBytes();
        }

        @Override
        public boolean acceptSender(InetSocketAddress from, NodeId sender) {
            return link.acceptSender(from, sender);
        }

        /** Detaches this side only; the socket stays open for the others. */
        @Override
        public void close() {
            receiver = NONE;
        }
    }
}
