package org.p2psip.overlay.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.store.SecretHashPolicy;

/**
 * {@link OverlayNode#linkPaths}: a node with a link to another outside the overlay (here a UDP relay on loopback, in
 * the runnable peer an ICE link) sends its lookups' and stores' requests to that node over the link, although every
 * other node reports the node at its own address.
 */
class LinkPathsTest {
    @Test
    void lookupsAndStoresReachANodeOverItsLinkWhateverAddressOthersReport() throws Exception {
        try (Cluster c = new Cluster(71).grow(6, Cluster.LOOPBACK)) {
            OverlayNode a = c.add(NodeId.random(c.rnd), Cluster.LOOPBACK);
            OverlayNode b = c.nodes.get(2);
            try (Relay relay = new Relay(b.contact().address())) {
                a.linkPaths(id -> id.equals(b.id()) ? relay.front() : null);
                // the key is b's own id: b is the closest node, and the others report it at its own address
                List<Contact> closest = Cluster.await(a.findClosest(b.id(), 3));
                assertEquals(b.id(), closest.get(0).id(), "the lookup found b over the link");
                assertTrue(relay.fromFront.get() >= 1, "the lookup's request went over the link");
                int before = relay.fromFront.get();
                DhtValue v = SecretHashPolicy.value(Bytes.utf8("over the link"), Bytes.EMPTY,
                        System.currentTimeMillis() + 60_000);
                assertTrue(Cluster.await(a.put(b.id(), v)).stored() >= 1);
                assertEquals(List.of(v), Cluster.await(b.localValues(b.id())), "b stores the value");
                assertTrue(relay.fromFront.get() > before, "the put's requests to b went over the link too");
                assertTrue(relay.toFront.get() >= 2, "b answered over the link");
            }
        }
    }

    /** A UDP relay on loopback: what reaches its front socket goes to {@code target} from its back socket, and back. */
    private static final class Relay implements AutoCloseable {
        final DatagramSocket frontSocket;
        final DatagramSocket backSocket;
        final AtomicInteger fromFront = new AtomicInteger();
        final AtomicInteger toFront = new AtomicInteger();
        volatile InetSocketAddress client;

        Relay(InetSocketAddress target) throws SocketException {
            InetAddress lo = InetAddress.getLoopbackAddress();
            frontSocket = new DatagramSocket(new InetSocketAddress(lo, 0));
            backSocket = new DatagramSocket(new InetSocketAddress(lo, 0));
            pump(frontSocket, p -> {
                client = (InetSocketAddress) p.getSocketAddress();
                fromFront.incrementAndGet();
                return target;
            }, backSocket);
            pump(backSocket, p -> {
                toFront.incrementAndGet();
                return client;
            }, frontSocket);
        }

        InetSocketAddress front() {
            return (InetSocketAddress) frontSocket.getLocalSocketAddress();
        }

        private static void pump(DatagramSocket in, java.util.function.Function<DatagramPacket, InetSocketAddress> to,
                DatagramSocket out) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[65_536];
                while (!in.isClosed()) {
                    try {
                        DatagramPacket p = new DatagramPacket(buf, buf.length);
                        in.receive(p);
                        InetSocketAddress dest = to.apply(p);
                        if (dest != null) {
                            out.send(new DatagramPacket(p.getData(), p.getLength(), dest));
                        }
                    } catch (java.io.IOException e) {
                        return; // closed
                    }
                }
            }, "relay-" + in.getLocalPort());
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() {
            frontSocket.close();
            backSocket.close();
        }
    }
}
