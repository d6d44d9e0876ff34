package org.p2psip.superpeer.leaf;

import java.net.InetSocketAddress;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.link.LinkLayer;
import org.p2psip.overlay.runtime.Scheduler;

/**
 * Shares one link layer (one UDP socket, the address a peer announces) between the overlay and the two ends of the
 * leaf protocol: leaf-protocol datagrams to a superpeer go to {@link #superpeerSide()}, those to a leaf go to
 * {@link #leafSide()}, everything else to {@link #overlay()}. So a peer that changes role keeps its address, and
 * closing one side (an {@code OverlayNode} closes its link layer) leaves the socket to the others.
 */
public final class LinkMux implements AutoCloseable {
    private final LinkLayer link;
    private final Side overlay = new Side();
    private final Side superpeerSide = new Side();
    private final Side leafSide = new Side();

    public LinkMux(LinkLayer link) {
        this.link = link;
        link.setReceiver((from, d, len) -> {
            Side s = !LeafCodec.isLeafDatagram(d, len) ? overlay
                    : LeafCodec.isToSuperpeer(d) ? superpeerSide : leafSide;
            s.receiver.onDatagram(from, d, len);
        });
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
        private volatile Receiver receiver = NONE;

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
            link.send(to, datagram);
        }

        @Override
        public int maxDatagramBytes() {
            return link.maxDatagramBytes();
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
