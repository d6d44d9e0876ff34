package org.p2psip.overlay.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.OverlayStats;
import org.p2psip.overlay.link.UdpLinkLayer;
import org.p2psip.overlay.store.StoragePolicy;
import org.p2psip.overlay.wire.Fragmenter;
import org.p2psip.overlay.wire.Frame;
import org.p2psip.overlay.wire.Message;
import org.p2psip.overlay.wire.WireCodec;

/**
 * A storing node on a real UDP socket, and a requester that is a raw socket sending the same STORE twice (its
 * retransmission): the policy (at a real storing node, an XML parse and a signature check) runs once, and both
 * answers are the same bytes; also for a STORE large enough to travel in fragments, whose retransmission is a new
 * fragment stream.
 */
class DuplicateRequestTest {
    private final WireCodec codec = new WireCodec();

    /** Accepts everything, counting the checks. */
    private static final class CountingPolicy implements StoragePolicy {
        final AtomicInteger puts = new AtomicInteger();

        @Override
        public Decision checkPut(NodeId key, DhtValue value, DhtValue existing, long nowMillis) {
            puts.incrementAndGet();
            return Decision.ACCEPT;
        }

        @Override
        public Decision checkRemove(NodeId key, RemoveRequest request, DhtValue existing, long nowMillis) {
            return Decision.ACCEPT;
        }
    }

    @Test
    void aRetransmittedStoreIsCheckedOnceAndAnsweredWithTheSameReply() throws Exception {
        CountingPolicy policy = new CountingPolicy();
        try (Cluster cluster = new Cluster(5); DatagramSocket sock = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            OverlayConfig cfg = Cluster.LOOPBACK;
            UdpLinkLayer link = UdpLinkLayer.bind(cluster.group, new InetSocketAddress("127.0.0.1", 0),
                    cfg.maxDatagramBytes()).get(10, TimeUnit.SECONDS);
            OverlayNode node = new OverlayNode(NodeId.random(new Random(1)), link, cfg, policy, codec, new Random(2)).start();
            try {
                // the node sets its receiver on its thread after start(): until then datagrams to it are dropped
                node.status().get(30, TimeUnit.SECONDS);
                sock.setSoTimeout(30_000);
                InetSocketAddress to = node.contact().address();
                NodeId me = NodeId.random(new Random(3));
                long expires = System.currentTimeMillis() + 600_000;

                // a STORE in one datagram, sent twice with the same request id
                DhtValue small = new DhtValue(Bytes.utf8("owner"), Bytes.utf8("n1"), Bytes.utf8("contact"), expires);
                byte[] put = codec.encode(new Frame(false, 1001, me, new Message.Put(NodeId.ofName("k1"), small, false, false)));
                byte[] r1 = exchange(sock, to, 1001, List.of(put));
                byte[] r2 = exchange(sock, to, 1001, List.of(put));
                assertArrayEquals(r1, r2, "the retransmission's answer differs from the first");
                Frame reply = codec.decode(r1, r1.length);
                assertEquals(1001, reply.requestId());
                assertTrue(reply.message() instanceof Message.PutAck a && a.status().ok(), reply.toString());
                // the answer says what the key holds after the store: this one value, with its expiry
                assertEquals(new org.p2psip.overlay.HeldValues(List.of(new org.p2psip.overlay.HeldValues.Held(
                        small.owner(), small.nonce(), expires)), true), ((Message.PutAck) reply.message()).held());
                assertEquals(1, policy.puts.get(), "the retransmitted STORE was checked again");

                // a 20 kB STORE travels as fragments; its retransmission is a new fragment stream
                byte[] data = new byte[20_000];
                new Random(4).nextBytes(data);
                DhtValue big = new DhtValue(Bytes.utf8("owner"), Bytes.utf8("n2"), Bytes.of(data), expires);
                byte[] bigPut = codec.encode(new Frame(false, 1002, me, new Message.Put(NodeId.ofName("k2"), big, false, false)));
                List<byte[]> first = Fragmenter.split(bigPut, cfg.maxDatagramBytes(), 77);
                List<byte[]> again = Fragmenter.split(bigPut, cfg.maxDatagramBytes(), 78);
                assertTrue(first.size() > 10, first.size() + " fragments");
                byte[] b1 = exchange(sock, to, 1002, first);
                byte[] b2 = exchange(sock, to, 1002, again);
                assertArrayEquals(b1, b2);
                assertEquals(2, policy.puts.get(), "the retransmitted fragmented STORE was checked again");

                // the same request id with other content is another request: executed
                DhtValue other = new DhtValue(Bytes.utf8("owner"), Bytes.utf8("n3"), Bytes.utf8("other"), expires);
                byte[] reuse = codec.encode(new Frame(false, 1001, me, new Message.Put(NodeId.ofName("k1"), other, false, false)));
                exchange(sock, to, 1001, List.of(reuse));
                assertEquals(3, policy.puts.get());

                OverlayStats.Snapshot c = node.counters();
                assertEquals(2, c.duplicateRequests());
                assertEquals(1, c.requestIdReused());
                assertEquals(3, c.requestsServed(), "duplicates are answered, not served again");
                assertEquals(2, node.localValues(NodeId.ofName("k1")).get(10, TimeUnit.SECONDS).size());
            } finally {
                node.close();
            }
        }
    }

    /**
     * Sends the datagrams and returns the answer to {@code requestId} (one datagram), skipping the node's own
     * requests to this socket (it learned the socket as a contact, and may hand it values or ping it).
     */
    private byte[] exchange(DatagramSocket sock, InetSocketAddress to, long requestId, List<byte[]> datagrams)
            throws Exception {
        for (byte[] d : datagrams) {
            sock.send(new DatagramPacket(d, d.length, to));
        }
        while (true) {
            byte[] buf = new byte[65_536];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            sock.receive(p);
            if (buf[3] == Frame.KIND_REPLY && codec.decode(buf, p.getLength()).requestId() == requestId) {
                return Arrays.copyOf(buf, p.getLength());
            }
        }
    }
}
