package org.p2psip.overlay.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.StoragePolicy;
import org.p2psip.overlay.store.ValueStore;
import org.p2psip.overlay.wire.Message.Ack;
import org.p2psip.overlay.wire.Message.GetReply;
import org.p2psip.overlay.wire.Message.Get;
import org.p2psip.overlay.wire.Message.Nodes;
import org.p2psip.overlay.wire.Message.Status;

class WireCodecTest {
    private final WireCodec codec = new WireCodec();

    private Frame roundTrip(Frame f) throws MalformedFrameException {
        byte[] b = codec.encode(f);
        assertTrue(b.length <= Frame.MAX_FRAME_BYTES);
        assertEquals(Frame.MAGIC0, b[0]);
        assertEquals(Frame.MAGIC1, b[1]);
        assertEquals(Frame.VERSION, b[2]);
        assertEquals(f.reply() ? Frame.KIND_REPLY : Frame.KIND_REQUEST, b[3]);
        return codec.decode(b, b.length);
    }

    @Test
    void everyMessageTypeRoundTrips() throws Exception {
        Random rnd = new Random(1);
        Set<Class<?>> types = new HashSet<>();
        for (Frame f : WireSamples.frames(rnd)) {
            assertEquals(f, roundTrip(f), f.message().getClass().getSimpleName());
            types.add(f.message().getClass());
        }
        // every permitted message record is covered
        Set<Class<?>> all = new HashSet<>();
        for (Class<?> c : Message.class.getPermittedSubclasses()) {
            for (Class<?> sub : c.isSealed() ? c.getPermittedSubclasses() : new Class<?>[] {c}) {
                all.add(sub);
            }
        }
        assertEquals(all, types);
        assertEquals(15, types.size());
    }

    @Test
    void decodingHonoursTheGivenLength() throws Exception {
        Random rnd = new Random(2);
        for (Frame f : WireSamples.frames(rnd)) {
            byte[] b = codec.encode(f);
            byte[] padded = new byte[b.length + 100];
            System.arraycopy(b, 0, padded, 0, b.length);
            assertEquals(f, codec.decode(padded, b.length));
            // trailing garbage within the length is refused
            assertThrows(MalformedFrameException.class, () -> codec.decode(padded, b.length + 1));
        }
    }

    @Test
    void ackReasonIsTruncatedAndStatusesSurvive() throws Exception {
        Random rnd = new Random(3);
        String longReason = "x".repeat(1000);
        Frame f = new Frame(true, 1, NodeId.random(rnd), new Ack(Status.CAPACITY, longReason));
        Ack a = (Ack) roundTrip(f).message();
        assertEquals(Status.CAPACITY, a.status());
        assertEquals(WireCodec.MAX_REASON_CHARS, a.reason().length());
        Set<Status> seen = EnumSet.noneOf(Status.class);
        for (Status s : Status.values()) {
            seen.add(((Ack) roundTrip(new Frame(true, 1, NodeId.random(rnd), new Ack(s, "r"))).message()).status());
        }
        assertEquals(EnumSet.allOf(Status.class), seen);
    }

    @Test
    void kindMustMatchTheMessage() {
        Random rnd = new Random(4);
        for (Frame f : WireSamples.frames(rnd)) {
            Frame lying = new Frame(!f.reply(), f.requestId(), f.sender(), f.message());
            byte[] b = codec.encode(lying);
            assertThrows(MalformedFrameException.class, () -> codec.decode(b, b.length));
        }
    }

    @Test
    void tooManyContactsAreRefusedOnDecode() {
        Random rnd = new Random(5);
        Frame f = new Frame(true, 1, NodeId.random(rnd), new Nodes(WireSamples.contacts(rnd, WireCodec.MAX_CONTACTS + 1)));
        byte[] b = codec.encode(f);
        MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> codec.decode(b, b.length));
        assertTrue(e.getMessage().contains("contacts"), e.getMessage());
    }

    /**
     * The store's placemarks hold an owner and a nonce of up to 64 bytes each plus two length bytes; the
     * GET and GET reply codecs must carry the largest of them, or paging over such values breaks.
     */
    @Test
    void largestPlacemarkTravels() throws Exception {
        ValueStore store = new ValueStore(new StoragePolicy() {
            @Override
            public Decision checkPut(NodeId key, DhtValue value, DhtValue existing, long nowMillis) {
                return Decision.ACCEPT;
            }

            @Override
            public Decision checkRemove(NodeId key, RemoveRequest request, DhtValue existing, long nowMillis) {
                return Decision.ACCEPT;
            }
        }, 1L << 30, 1L << 30, 1024, Long.MAX_VALUE / 4);
        Random rnd = new Random(6);
        NodeId key = NodeId.random(rnd);
        for (int i = 0; i < 3; i++) {
            byte[] o = new byte[DhtValue.MAX_ID_BYTES];
            byte[] n = new byte[DhtValue.MAX_ID_BYTES];
            rnd.nextBytes(o);
            rnd.nextBytes(n);
            store.put(key, new DhtValue(Bytes.wrap(o), Bytes.wrap(n), Bytes.utf8("v" + i), 2_000_000_000_000L), "s", 0);
        }
        ValueStore.Page page = store.page(key, 1, Bytes.EMPTY, 1 << 20, 0);
        assertEquals(2 + 2 * DhtValue.MAX_ID_BYTES, page.placemark().length());
        NodeId sender = NodeId.random(rnd);
        Frame reply = new Frame(true, 7, sender, new GetReply(List.of(), page.values(), page.placemark()));
        assertEquals(reply, roundTrip(reply));
        Frame next = new Frame(false, 8, sender, new Get(key, 0, page.placemark()));
        assertEquals(next, roundTrip(next));
        // and the full listing pages through to the end over the wire
        List<DhtValue> all = new ArrayList<>();
        Bytes placemark = Bytes.EMPTY;
        do {
            Get g = (Get) roundTrip(new Frame(false, 9, sender, new Get(key, 1, placemark))).message();
            ValueStore.Page p = store.page(key, g.maxValues(), g.placemark(), 1 << 20, 0);
            GetReply r = (GetReply) roundTrip(new Frame(true, 9, sender, new GetReply(List.of(), p.values(), p.placemark()))).message();
            all.addAll(r.values());
            placemark = r.placemark();
        } while (!placemark.isEmpty());
        assertEquals(store.get(key, 0), all);
    }

    @Test
    void encodeRefusesOversizedFrames() {
        Random rnd = new Random(7);
        List<DhtValue> many = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            many.add(WireSamples.largest(rnd));
        }
        Frame f = new Frame(true, 1, NodeId.random(rnd), new GetReply(List.of(), many, Bytes.EMPTY));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(f));
    }
}
