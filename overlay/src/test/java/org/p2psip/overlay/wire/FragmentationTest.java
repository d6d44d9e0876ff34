package org.p2psip.overlay.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.wire.Message.Put;

class FragmentationTest {
    private static final InetSocketAddress A = new InetSocketAddress("127.0.0.1", 1000);
    private final WireCodec codec = new WireCodec();

    private static byte[] fragment(long stream, int index, int count, byte[] chunk) {
        byte[] d = new byte[Frame.FRAGMENT_HEADER_BYTES + chunk.length];
        d[0] = Frame.MAGIC0;
        d[1] = Frame.MAGIC1;
        d[2] = Frame.VERSION;
        d[3] = Frame.KIND_FRAGMENT;
        for (int b = 0; b < 8; b++) {
            d[4 + b] = (byte) (stream >>> (56 - 8 * b));
        }
        d[12] = (byte) (index >>> 8);
        d[13] = (byte) index;
        d[14] = (byte) (count >>> 8);
        d[15] = (byte) count;
        System.arraycopy(chunk, 0, d, Frame.FRAGMENT_HEADER_BYTES, chunk.length);
        return d;
    }

    private static byte[] accept(Reassembler r, InetSocketAddress from, byte[] d, long now) throws MalformedFrameException {
        return r.accept(from, d, d.length, now);
    }

    @Test
    void largestPutRoundTripsThroughFragmentsInAnyOrder() throws Exception {
        Random rnd = new Random(1);
        Frame put = new Frame(false, 42, NodeId.random(rnd), new Put(NodeId.random(rnd), WireSamples.largest(rnd), false));
        byte[] frame = codec.encode(put);
        assertTrue(frame.length > 64 * 1024);
        for (int maxDatagram : new int[] {576, 600, 1200, 1500, 9000, 65_507}) {
            List<byte[]> parts = Fragmenter.split(frame, maxDatagram, 7);
            int chunk = maxDatagram - Frame.FRAGMENT_HEADER_BYTES;
            assertEquals((frame.length + chunk - 1) / chunk, parts.size(), "at " + maxDatagram);
            for (byte[] p : parts) {
                assertTrue(p.length <= maxDatagram);
                assertEquals(Frame.KIND_FRAGMENT, p[3]);
            }
            List<byte[]> shuffled = new ArrayList<>(parts);
            shuffled.addAll(parts.subList(0, parts.size() / 2)); // duplicates
            Collections.shuffle(shuffled, rnd);
            Reassembler r = new Reassembler(4 << 20, 8, 5_000);
            byte[] whole = null;
            int completions = 0;
            for (byte[] p : shuffled) {
                byte[] out = accept(r, A, p, 0);
                if (out != null) {
                    whole = out;
                    completions++;
                }
            }
            assertEquals(1, completions, "a frame completes once even with duplicate fragments");
            assertArrayEquals(frame, whole);
            assertEquals(put, codec.decode(whole, whole.length));
            // in order and without duplicates nothing stays behind
            Reassembler clean = new Reassembler(4 << 20, 8, 5_000);
            for (int i = 0; i < parts.size(); i++) {
                byte[] out = accept(clean, A, parts.get(i), 0);
                assertEquals(i == parts.size() - 1, out != null);
            }
            assertEquals(0, clean.pendingStreams());
            assertEquals(0, clean.bufferedBytes());
        }
    }

    @Test
    void smallFrameIsNotFragmented() {
        byte[] f = new byte[1200];
        assertEquals(1, Fragmenter.split(f, 1200, 1).size());
        assertEquals(2, Fragmenter.split(new byte[1201], 1200, 1).size());
    }

    @Test
    void interleavedStreamsFromSeveralSources() throws Exception {
        Random rnd = new Random(2);
        Reassembler r = new Reassembler(4 << 20, 8, 5_000);
        List<byte[]> frames = new ArrayList<>();
        List<InetSocketAddress> from = new ArrayList<>();
        List<byte[]> all = new ArrayList<>();
        List<InetSocketAddress> allFrom = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            byte[] f = codec.encode(new Frame(false, i, NodeId.random(rnd), new Put(NodeId.random(rnd), WireSamples.value(rnd, 5000 + i), false)));
            frames.add(f);
            InetSocketAddress src = new InetSocketAddress("127.0.0.1", 2000 + i % 3);
            from.add(src);
            for (byte[] p : Fragmenter.split(f, 1200, i / 3)) { // same stream ids from different sources
                all.add(p);
                allFrom.add(src);
            }
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, rnd);
        List<byte[]> done = new ArrayList<>();
        for (int i : order) {
            byte[] out = accept(r, allFrom.get(i), all.get(i), 0);
            if (out != null) {
                done.add(out);
            }
        }
        assertEquals(6, done.size());
        for (byte[] f : frames) {
            assertTrue(done.stream().anyMatch(d -> java.util.Arrays.equals(d, f)));
        }
    }

    @Test
    void manyPartialStreamsFromOneSourceStayWithinItsLimit() throws Exception {
        Reassembler r = new Reassembler(4 << 20, 8, 5_000);
        InetSocketAddress other = new InetSocketAddress("127.0.0.1", 2);
        accept(r, other, fragment(1, 0, 2, new byte[1000]), 0);
        for (int s = 0; s < 10_000; s++) {
            accept(r, A, fragment(s, 0, 100, new byte[1100]), 0);
            assertTrue(r.pendingStreams() <= 8 + 1);
        }
        assertEquals(9, r.pendingStreams());
        assertTrue(r.bufferedBytes() >= 8 * 1100 + 1000 && r.bufferedBytes() < 8 * 1100 + 1000 + 9 * 4096, "buffered " + r.bufferedBytes());
        assertEquals(10_000 - 8, r.droppedStreams());
        // the other source's partial frame survived the flood and completes
        byte[] done = accept(r, other, fragment(1, 1, 2, new byte[5]), 1);
        assertNotNull(done);
        assertEquals(1005, done.length);
    }

    @Test
    void totalBufferedBytesAreBounded() throws Exception {
        int max = 256 * 1024;
        Reassembler r = new Reassembler(max, 8, 5_000);
        for (int s = 0; s < 5_000; s++) {
            InetSocketAddress src = new InetSocketAddress("127.0.0.1", 1 + s % 1000);
            accept(r, src, fragment(s, s % 3, 60, new byte[1184]), 0);
            assertTrue(r.bufferedBytes() <= max, "buffered " + r.bufferedBytes());
        }
        assertTrue(r.droppedStreams() > 0);
    }

    /**
     * Partial frames cost memory beyond their chunks (a slot per declared fragment, the bookkeeping), so
     * a flood of tiny fragments from many addresses (one IPv6 /64 has plenty) must not hold much more
     * memory than the byte budget promises.
     */
    @Test
    void tinyFragmentsFromManySourcesCannotExhaustMemory() throws Exception {
        int max = 1 << 20;
        Reassembler r = new Reassembler(max, 8, 60_000);
        byte[] prefix = InetAddress.getByName("2001:db8::").getAddress();
        for (int s = 0; s < 200_000; s++) {
            byte[] ip = prefix.clone();
            ip[12] = (byte) (s >>> 24);
            ip[13] = (byte) (s >>> 16);
            ip[14] = (byte) (s >>> 8);
            ip[15] = (byte) s;
            InetSocketAddress src = new InetSocketAddress(InetAddress.getByAddress(ip), 5000);
            accept(r, src, fragment(s, 0, Fragmenter.MAX_FRAGMENTS, new byte[1]), 0);
        }
        // Each partial frame holds at least an array of MAX_FRAGMENTS references (4 bytes each even with
        // compressed pointers): the partials kept must fit the budget with that counted.
        long slots = (long) r.pendingStreams() * Fragmenter.MAX_FRAGMENTS * 4;
        assertTrue(slots <= max, r.pendingStreams() + " partial frames hold at least " + slots
                + " bytes of slots, over the " + max + "-byte budget");
    }

    @Test
    void opensStreamTellsTheFirstFragmentOfAFrame() throws Exception {
        Reassembler r = new Reassembler(4 << 20, 8, 5_000);
        byte[] f1 = fragment(5, 2, 3, new byte[10]);
        assertTrue(r.opensStream(A, f1, f1.length));
        accept(r, A, f1, 0);
        byte[] f2 = fragment(5, 0, 3, new byte[10]);
        assertFalse(r.opensStream(A, f2, f2.length), "a later fragment of a buffered frame");
        assertTrue(r.opensStream(new InetSocketAddress("127.0.0.1", 3), f2, f2.length), "the same stream id from elsewhere");
        accept(r, A, f2, 0);
        byte[] f3 = fragment(5, 1, 3, new byte[10]);
        assertNotNull(accept(r, A, f3, 0));
        assertTrue(r.opensStream(A, f3, f3.length), "a completed frame is no longer buffered");
    }

    @Test
    void timeoutDropsPartials() throws Exception {
        Reassembler r = new Reassembler(4 << 20, 8, 5_000);
        accept(r, A, fragment(1, 0, 2, new byte[100]), 0);
        accept(r, A, fragment(2, 0, 2, new byte[100]), 3_000);
        assertEquals(2, r.pendingStreams());
        // stream 1's last fragment comes too late: the partial has expired, so it starts a new one
        assertNull(accept(r, A, fragment(1, 1, 2, new byte[100]), 5_000));
        assertEquals(1, r.droppedStreams());
        assertEquals(2, r.pendingStreams());
        // stream 2 completes within its time
        assertNotNull(accept(r, A, fragment(2, 1, 2, new byte[100]), 7_999));
        // any later fragment sweeps the expired rest
        accept(r, new InetSocketAddress("127.0.0.1", 9), fragment(9, 0, 2, new byte[1]), 20_000);
        assertEquals(1, r.pendingStreams());
        assertEquals(2, r.droppedStreams());
        assertTrue(r.bufferedBytes() > 0 && r.bufferedBytes() < 1024);
    }

    @Test
    void bogusFragmentsAreMalformed() throws Exception {
        Reassembler r = new Reassembler(4 << 20, 8, 5_000);
        byte[] chunk = new byte[10];
        assertThrows(MalformedFrameException.class, () -> accept(r, A, fragment(1, 0, 1, chunk), 0), "count 1");
        assertThrows(MalformedFrameException.class, () -> accept(r, A, fragment(1, 0, 0, chunk), 0), "count 0");
        assertThrows(MalformedFrameException.class, () -> accept(r, A, fragment(1, 5, 5, chunk), 0), "index = count");
        assertThrows(MalformedFrameException.class, () -> accept(r, A, fragment(1, 0, 65535, chunk), 0), "count 65535");
        assertThrows(MalformedFrameException.class, () -> accept(r, A, fragment(1, 0, Fragmenter.MAX_FRAGMENTS + 1, chunk), 0));
        assertThrows(MalformedFrameException.class, () -> accept(r, A, fragment(1, 0, 2, new byte[0]), 0), "empty chunk");
        byte[] bad = fragment(1, 0, 2, chunk);
        bad[0] = 'X';
        assertThrows(MalformedFrameException.class, () -> accept(r, A, bad, 0), "magic");
        byte[] v = fragment(1, 0, 2, chunk);
        v[2] = 9;
        assertThrows(MalformedFrameException.class, () -> accept(r, A, v, 0), "version");
        // count changing within a stream drops the stream
        accept(r, A, fragment(3, 0, 4, chunk), 0);
        assertThrows(MalformedFrameException.class, () -> accept(r, A, fragment(3, 1, 5, chunk), 0));
        assertEquals(0, r.pendingStreams());
        // a stream whose fragments add up to more than a frame is dropped
        for (int i = 0; i < 61; i++) {
            assertNull(accept(r, A, fragment(4, i, Fragmenter.MAX_FRAGMENTS, new byte[1200]), 0));
        }
        assertThrows(MalformedFrameException.class, () -> accept(r, A, fragment(4, 61, Fragmenter.MAX_FRAGMENTS, new byte[1200]), 0));
        assertEquals(0, r.pendingStreams());
        assertEquals(0, r.bufferedBytes());
    }
}
