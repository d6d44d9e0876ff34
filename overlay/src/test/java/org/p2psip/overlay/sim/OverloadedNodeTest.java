package org.p2psip.overlay.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtException;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.link.LinkLayer;
import org.p2psip.overlay.runtime.Scheduler;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.Message.Status;
import org.p2psip.overlay.wire.WireCodec;

/**
 * A node of a small overlay that receives nothing for a while, as an overloaded node whose socket buffer overflows
 * (the SIP bench's 3-node overlay under thousands of signed REGISTERs a second): its RPCs all time out. It must not
 * forget its neighbours for that (it then answered every get from its own store alone, and the proxy on it answered
 * 404 for users registered elsewhere), and meanwhile a get must fail rather than report an empty key.
 */
class OverloadedNodeTest {
    /** A simulated link whose inbound datagrams can be dropped, as by a full receive buffer. */
    private static final class Deafened implements LinkLayer {
        final LinkLayer inner;
        volatile boolean deaf;

        Deafened(LinkLayer inner) {
            this.inner = inner;
        }

        @Override
        public InetSocketAddress localAddress() {
            return inner.localAddress();
        }

        @Override
        public Scheduler scheduler() {
            return inner.scheduler();
        }

        @Override
        public void setReceiver(Receiver receiver) {
            inner.setReceiver((from, d, len) -> {
                if (!deaf) {
                    receiver.onDatagram(from, d, len);
                }
            });
        }

        @Override
        public void send(InetSocketAddress to, byte[] datagram) {
            inner.send(to, datagram);
        }

        @Override
        public int maxDatagramBytes() {
            return inner.maxDatagramBytes();
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    private final SimNetwork net = new SimNetwork(11, 5, 20, 0);
    private final Random rnd = new Random(12);
    private final List<OverlayNode> nodes = new ArrayList<>();
    private Deafened first;

    private void threeNodes() {
        for (int i = 0; i < 3; i++) {
            LinkLayer link = net.newLink();
            if (i == 0) {
                first = new Deafened(link);
                link = first;
            }
            OverlayNode n = new OverlayNode(NodeId.random(rnd), link, OverlayConfig.defaults(), new SecretHashPolicy(),
                    new WireCodec(), new Random(rnd.nextLong())).start();
            net.await(n.join(nodes.isEmpty() ? List.of() : List.of(nodes.get(0).contact().address())), 60_000);
            nodes.add(n);
        }
        assertEquals(2, net.await(nodes.get(0).neighbours(), 1_000).size());
    }

    private Throwable failure(CompletableFuture<?> f) {
        try {
            net.await(f, 60_000);
        } catch (CompletionException e) {
            return e.getCause();
        } catch (RuntimeException e) {
            return e;
        }
        return null;
    }

    @Test
    void aNodeThatHeardNothingForAWhileKeepsItsNeighboursAndFindsValuesStoredElsewhere() {
        threeNodes();
        OverlayNode deafNode = nodes.get(0);
        first.deaf = true;
        // stored while the first node hears nothing: only the other two hold it
        DhtValue v = SecretHashPolicy.value(Bytes.utf8("contact of bob"), Bytes.EMPTY, net.now() + 3_600_000);
        NodeId key = NodeId.ofName("sip:bob@example.net");
        assertEquals(2, net.await(nodes.get(1).put(key, v), 60_000).stored());
        // the first node's requests all time out meanwhile (each of these asks both neighbours)
        for (int i = 0; i < 4; i++) {
            failure(deafNode.get(NodeId.ofName("other" + i)));
        }
        first.deaf = false;
        assertEquals(2, net.await(deafNode.neighbours(), 1_000).size(),
                "the first node forgot its neighbours while it heard nothing");
        assertEquals(List.of(v), net.await(deafNode.get(key), 60_000), "a get from the first node once it hears again");
    }

    @Test
    void aGetNobodyAnsweredFailsInsteadOfReportingNothing() {
        threeNodes();
        first.deaf = true;
        Throwable e = failure(nodes.get(0).get(NodeId.ofName("sip:bob@example.net")));
        DhtException d = assertInstanceOf(DhtException.class, e, "a get that no node answered: " + e);
        assertEquals(Status.AGAIN, d.status());
        assertTrue(nodes.get(0).counters().unansweredGets() >= 1);
        first.deaf = false;
        // a key that the nodes answer for but that holds nothing is an empty list, as before
        assertEquals(List.of(), net.await(nodes.get(0).get(NodeId.ofName("nobody")), 60_000));
    }
}
