package org.p2psip.overlay.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.Frame;
import org.p2psip.overlay.wire.Message;
import org.p2psip.overlay.wire.WireCodec;

/**
 * A lying node answers every lookup with made-up contacts (ids close to the target, at addresses where nothing
 * answers). None of those contacts may enter an honest node's routing table, since none of them ever answered;
 * lookups, puts and gets still converge. (A requester still enters a table by its request alone: verifying it with a
 * PING first left 2 of 500 simulated nodes in no table at all, see overlay/README.md.)
 */
class UnverifiedContactsTest {
    @Test
    void fakeContactsNeverEnterRoutingTables() throws Exception {
        try (Cluster c = new Cluster(91).grow(24, Cluster.LOOPBACK);
             Liar liar = new Liar(new Random(92))) {
            Set<NodeId> honest = new HashSet<>();
            for (OverlayNode n : c.nodes) {
                honest.add(n.id());
            }
            // the liar introduces itself to every node
            Random rnd = new Random(93);
            {
                for (OverlayNode n : c.nodes) {
                    liar.send(n.contact().address(), new Frame(false, rnd.nextLong(), liar.id, new Message.Ping()));
                }
                long deadline = System.currentTimeMillis() + 20_000;
                while (knowing(c, liar.id) < c.nodes.size() && System.currentTimeMillis() < deadline) {
                    Thread.sleep(100);
                }
                assertEquals(c.nodes.size(), knowing(c, liar.id), "the liar answered its PINGs, so every node should know it");

                // lookups, puts and gets from every node meet the liar's made-up contacts, and still converge
                Bytes secret = Bytes.utf8("s");
                for (int i = 0; i < 8; i++) {
                    NodeId key = NodeId.ofName("despite the liar " + i);
                    DhtValue v = SecretHashPolicy.value(Bytes.utf8("v" + i), secret, System.currentTimeMillis() + 60_000);
                    OverlayNode writer = c.nodes.get(3 * i);
                    assertTrue(Cluster.await(writer.put(key, v)).stored() >= 1, "put " + i);
                    OverlayNode reader = c.nodes.get((i + 13) % c.nodes.size());
                    assertTrue(Cluster.await(reader.get(key)).contains(v), "get " + i);
                    List<Contact> found = Cluster.await(reader.findClosest(NodeId.random(rnd), 8));
                    assertTrue(found.stream().allMatch(x -> honest.contains(x.id()) || x.id().equals(liar.id)),
                            "a lookup returned a contact that never answered: " + found);
                }
                assertTrue(liar.fakesSent.get() > 0, "the liar should have been asked and have answered with fakes");

                List<String> admitted = new ArrayList<>();
                for (OverlayNode n : c.nodes) {
                    for (Contact x : Cluster.await(n.neighbours())) {
                        if (liar.fakes.contains(x.id())) {
                            admitted.add(x.id().shortHex() + " in " + n.id().shortHex());
                        }
                    }
                }
                System.out.printf("UnverifiedContactsTest: the liar sent %d made-up contacts%n", liar.fakesSent.get());
                assertTrue(admitted.isEmpty(), "made-up contacts entered routing tables: " + admitted);
            }
        }
    }

    private static int knowing(Cluster c, NodeId id) {
        int n = 0;
        for (OverlayNode o : c.nodes) {
            if (Cluster.await(o.neighbours()).stream().anyMatch(x -> x.id().equals(id))) {
                n++;
            }
        }
        return n;
    }

    /** A node that answers PING honestly and every lookup request with made-up contacts close to the target. */
    private static final class Liar implements AutoCloseable {
        final NodeId id;
        final Set<NodeId> fakes = java.util.concurrent.ConcurrentHashMap.newKeySet();
        final AtomicInteger fakesSent = new AtomicInteger();
        private final DatagramSocket socket;
        private final WireCodec codec = new WireCodec();
        private final Random rnd;
        private final List<InetSocketAddress> deadEnds = new ArrayList<>();
        private final Thread thread;
        private volatile boolean closed;

        Liar(Random rnd) throws SocketException {
            this.rnd = rnd;
            this.id = NodeId.random(rnd);
            this.socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
            socket.setSoTimeout(100);
            for (int i = 0; i < 8; i++) {
                try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                    deadEnds.add((InetSocketAddress) s.getLocalSocketAddress()); // closed: nothing answers there
                }
            }
            thread = new Thread(this::serve, "liar");
            thread.setDaemon(true);
            thread.start();
        }

        void send(InetSocketAddress to, Frame f) throws java.io.IOException {
            byte[] d = codec.encode(f);
            socket.send(new DatagramPacket(d, d.length, to));
        }

        /** Contacts that share the target's first 40 bits, at addresses where nothing answers. */
        private List<Contact> madeUp(NodeId target) {
            List<Contact> out = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                NodeId fake = target.randomWithPrefix(40, rnd);
                fakes.add(fake);
                out.add(new Contact(fake, deadEnds.get(i)));
            }
            fakesSent.addAndGet(out.size());
            return out;
        }

        private void serve() {
            byte[] buf = new byte[65_535];
            while (!closed) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    socket.receive(p);
                    Frame f = codec.decode(p.getData(), p.getLength());
                    if (f.reply()) {
                        continue;
                    }
                    InetSocketAddress from = (InetSocketAddress) p.getSocketAddress();
                    Message m = f.message();
                    Message reply;
                    if (m instanceof Message.Ping) {
                        reply = new Message.Pong(from);
                    } else if (m instanceof Message.FindNode fn) {
                        reply = new Message.Nodes(madeUp(fn.target()));
                    } else if (m instanceof Message.Get g) {
                        reply = new Message.GetReply(madeUp(g.key()), List.of(), Bytes.EMPTY);
                    } else if (m instanceof Message.Put put && put.wantCloser()) {
                        reply = new Message.PutReply(Message.Status.NOT_CLOSEST, "lying", madeUp(put.key()));
                    } else {
                        reply = Message.Ack.OK;
                    }
                    send(from, new Frame(true, f.requestId(), id, reply));
                } catch (SocketTimeoutException e) {
                    // poll closed
                } catch (Exception e) {
                    if (!closed) {
                        System.err.println("liar: " + e);
                    }
                }
            }
        }

        @Override
        public void close() {
            closed = true;
            socket.close();
        }
    }
}
