package org.p2psip.overlay.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Output;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.NodeId;

/**
 * Datagrams an attacker or a broken peer may send: each must be refused with
 * {@link MalformedFrameException} and nothing else, and nothing may allocate what a length field claims.
 */
class HostileInputTest {
    private final WireCodec codec = new WireCodec();

    /** A frame header (request or reply) followed by a body written by {@code body}. */
    static byte[] frame(boolean reply, Consumer<Output> body) {
        Output o = new Output(256, -1);
        o.writeByte(Frame.MAGIC0);
        o.writeByte(Frame.MAGIC1);
        o.writeByte(Frame.VERSION);
        o.writeByte(reply ? Frame.KIND_REPLY : Frame.KIND_REQUEST);
        o.writeLong(77);
        o.writeBytes(new byte[NodeId.BYTES]);
        body.accept(o);
        return o.toBytes();
    }

    /** Kryo's tag for the message registered with wire id {@code id}. */
    static void tag(Output o, int id) {
        o.writeVarInt(id + 2, true);
    }

    static void id(Output o) {
        o.writeBytes(new byte[NodeId.BYTES]);
    }

    /** A varint holding the 32 bits of {@code v} as Kryo writes them (2^31 comes out negative). */
    static void varint(Output o, long v) {
        o.writeVarInt((int) v, true);
    }

    private void assertMalformed(String what, byte[] d) {
        assertMalformed(what, d, d.length);
    }

    private void assertMalformed(String what, byte[] d, int len) {
        try {
            Frame f = codec.decode(d, len);
            fail(what + ": decoded as " + f);
        } catch (MalformedFrameException expected) {
            // the only acceptable outcome
        } catch (Throwable t) {
            throw new AssertionError(what + ": threw " + t + " instead of MalformedFrameException", t);
        }
    }

    @Test
    void randomBytes() {
        Random rnd = new Random(1);
        for (int i = 0; i < 50_000; i++) {
            byte[] d = new byte[rnd.nextInt(i % 10 == 0 ? 70_000 : 200)];
            rnd.nextBytes(d);
            if (i % 2 == 0 && d.length >= 4) { // get past the prelude to reach the body decoder
                d[0] = Frame.MAGIC0;
                d[1] = Frame.MAGIC1;
                d[2] = Frame.VERSION;
                d[3] = (byte) rnd.nextInt(2);
            }
            try {
                codec.decode(d, d.length);
                // a random body decoding is astronomically unlikely but not wrong in itself
            } catch (MalformedFrameException expected) {
                // fine
            } catch (Throwable t) {
                throw new AssertionError("random datagram #" + i + " threw " + t, t);
            }
        }
    }

    @Test
    void everyTruncationOfEveryValidFrame() throws Exception {
        Random rnd = new Random(2);
        for (Frame f : WireSamples.frames(rnd)) {
            byte[] b = codec.encode(f);
            assertEquals(f, codec.decode(b, b.length));
            for (int len = 0; len < b.length; len++) {
                if (b.length > 4096 && len > 512 && len < b.length - 512 && len % 61 != 0) {
                    continue;
                }
                assertMalformed(f.message().getClass().getSimpleName() + " cut to " + len, b, len);
            }
        }
    }

    @Test
    void lyingLengthFields() {
        long[] lies = {1L << 31, (1L << 32) - 1, Integer.MAX_VALUE, 1_000_000_000, 65_537, 1 << 20};
        for (long lie : lies) {
            // a value's data declaring a huge length
            assertMalformed("put data " + lie, frame(false, o -> {
                tag(o, 26);
                id(o);
                varint(o, 0);
                varint(o, 0);
                varint(o, lie);
                o.writeBytes(new byte[100]);
            }));
            // owner longer than allowed
            assertMalformed("put owner " + lie, frame(false, o -> {
                tag(o, 26);
                id(o);
                varint(o, lie);
                o.writeBytes(new byte[100]);
            }));
            // a values list declaring 10^9 entries
            assertMalformed("get reply values " + lie, frame(true, o -> {
                tag(o, 25);
                varint(o, 0);
                varint(o, lie);
                o.writeBytes(new byte[40]);
            }));
            assertMalformed("notify values " + lie, frame(false, o -> {
                tag(o, 29);
                id(o);
                o.writeLong(1);
                varint(o, 0);
                varint(o, lie);
            }));
            assertMalformed("nodes " + lie, frame(true, o -> {
                tag(o, 23);
                varint(o, lie);
                o.writeBytes(new byte[27]);
            }));
            assertMalformed("remove proof " + lie, frame(false, o -> {
                tag(o, 27);
                id(o);
                varint(o, 0);
                varint(o, 0);
                varint(o, lie);
                o.writeLong(0);
            }));
            assertMalformed("ack reason " + lie, frame(true, o -> {
                tag(o, 30);
                o.writeByte(0);
                varint(o, lie);
            }));
            assertMalformed("get placemark " + lie, frame(false, o -> {
                tag(o, 24);
                id(o);
                varint(o, 0);
                varint(o, lie);
            }));
            assertMalformed("get maxValues " + lie + " then nothing", frame(false, o -> {
                tag(o, 24);
                id(o);
                varint(o, lie);
            }));
        }
        // within the limits but longer than the datagram
        assertMalformed("data longer than the frame", frame(false, o -> {
            tag(o, 26);
            id(o);
            varint(o, 0);
            varint(o, 0);
            varint(o, 60_000);
            o.writeBytes(new byte[10]);
        }));
        assertMalformed("4096 values in a short frame", frame(true, o -> {
            tag(o, 25);
            varint(o, 0);
            varint(o, WireCodec.MAX_VALUES);
        }));
        assertMalformed("address of 255 bytes", frame(true, o -> {
            tag(o, 21);
            o.writeByte(255);
            o.writeBytes(new byte[300]);
        }));
        assertMalformed("address of 5 bytes", frame(true, o -> {
            tag(o, 21);
            o.writeByte(5);
            o.writeBytes(new byte[7]);
        }));
        assertMalformed("unknown status", frame(true, o -> {
            tag(o, 30);
            o.writeByte(200);
            varint(o, 0);
        }));
        assertMalformed("varint longer than 5 bytes", frame(true, o -> {
            tag(o, 23);
            o.writeBytes(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1});
        }));
    }

    /** A PUT_REPLY's or PUT_ACK's summary of what the key holds: counts, flags and entries are bounded. */
    @Test
    void hostileHeldValues() {
        long[] counts = {org.p2psip.overlay.HeldValues.MAX_ENTRIES + 1, 1000, 1L << 31, (1L << 32) - 1, Integer.MAX_VALUE};
        for (long n : counts) {
            assertMalformed("put ack with " + n + " held values", frame(true, o -> {
                tag(o, 34);
                o.writeByte(0);
                varint(o, 0);
                o.writeByte(1);
                varint(o, n);
                for (int i = 0; i < 40; i++) { // entries enough for the claimed count not to run out first
                    varint(o, 0);
                    varint(o, 0);
                    o.writeLong(i);
                }
            }));
            assertMalformed("put reply with " + n + " held values", frame(true, o -> {
                tag(o, 31);
                o.writeByte(0);
                varint(o, 0);
                varint(o, 0);
                o.writeByte(1);
                varint(o, n);
                o.writeBytes(new byte[400]);
            }));
            assertMalformed("held owner of " + n + " bytes", frame(true, o -> {
                tag(o, 34);
                o.writeByte(0);
                varint(o, 0);
                o.writeByte(1);
                varint(o, 1);
                varint(o, n);
                o.writeBytes(new byte[100]);
            }));
        }
        assertMalformed("held nonce of 65 bytes", frame(true, o -> {
            tag(o, 34);
            o.writeByte(0);
            varint(o, 0);
            o.writeByte(1);
            varint(o, 1);
            varint(o, 0);
            varint(o, 65);
            o.writeBytes(new byte[73]);
        }));
        for (int flags : new int[] {2, 3, 0x80, 0xff}) {
            assertMalformed("held flags " + flags, frame(true, o -> {
                tag(o, 34);
                o.writeByte(0);
                varint(o, 0);
                o.writeByte(flags);
                varint(o, 0);
            }));
        }
        assertMalformed("held entry cut short", frame(true, o -> {
            tag(o, 34);
            o.writeByte(0);
            varint(o, 0);
            o.writeByte(1);
            varint(o, 2);
            varint(o, 0);
            varint(o, 0);
            o.writeLong(5);
            varint(o, 0);
            varint(o, 0);
            o.writeInt(5);
        }));
        assertMalformed("put ack without its summary", frame(true, o -> {
            tag(o, 34);
            o.writeByte(0);
            varint(o, 0);
        }));
        assertMalformed("put ack with an unknown status", frame(true, o -> {
            tag(o, 34);
            o.writeByte(Message.Status.values().length);
            varint(o, 0);
            o.writeByte(0);
            varint(o, 0);
        }));
        assertMalformed("put ack in a request frame", frame(false, o -> {
            tag(o, 34);
            o.writeByte(0);
            varint(o, 0);
            o.writeByte(0);
            varint(o, 0);
        }));
    }

    @Test
    void unknownClassIds() {
        for (int t = 0; t < 400; t++) {
            if (t >= 22 && t <= 32) {
                continue;
            }
            int tagValue = t;
            for (boolean reply : new boolean[] {false, true}) {
                assertMalformed("tag " + t, frame(reply, o -> {
                    o.writeVarInt(tagValue, true);
                    o.writeBytes(new byte[64]);
                }));
            }
        }
        assertMalformed("negative tag", frame(false, o -> o.writeVarInt(-5, true)));
        assertMalformed("no body", frame(false, o -> { }));
    }

    @Test
    void kryoDefaultRegistrationsAndClassNamesAreRefused() {
        Kryo plain = new Kryo();
        List<Class<?>> defaults = List.of(String.class, int.class, long.class, byte.class, char.class, short.class,
                float.class, double.class, boolean.class);
        for (Class<?> c : defaults) {
            int kryoId = plain.getRegistration(c).getId();
            assertTrue(kryoId + 2 < 22, c + " is registered by default with id " + kryoId);
            for (long lie : new long[] {Integer.MAX_VALUE, 1L << 31, 100}) {
                assertMalformed("default " + c.getSimpleName() + " declaring " + lie, frame(false, o -> {
                    o.writeVarInt(kryoId + 2, true);
                    o.writeVarInt((int) lie, true);
                    o.writeBytes(new byte[16]);
                }));
            }
            // a String with a huge declared length in Kryo's own string encoding
            assertMalformed("string bomb", frame(true, o -> {
                o.writeVarInt(kryoId + 2, true);
                o.writeVarIntFlag(false, Integer.MAX_VALUE, true);
            }));
        }
        // class by name (Kryo's tag 1): must never load a class
        assertMalformed("class by name", frame(false, o -> {
            o.writeVarInt(1, true);
            o.writeVarInt(1, true);
            o.writeString("java.util.ArrayList");
        }));
        // a correctly framed Kryo String as the whole body
        Output ko = new Output(64, -1);
        plain.writeClassAndObject(ko, "hello");
        byte[] kb = ko.toBytes();
        assertMalformed("kryo string", frame(true, o -> o.writeBytes(kb)));
    }

    @Test
    void framesFromTheWrongVersionOrKind() throws Exception {
        Random rnd = new Random(3);
        byte[] good = codec.encode(WireSamples.frames(rnd).get(0));
        for (int v = 0; v < 256; v++) {
            if (v == Frame.VERSION) {
                continue;
            }
            byte[] b = good.clone();
            b[2] = (byte) v;
            assertMalformed("version " + v, b);
        }
        for (int k = 2; k < 256; k++) {
            byte[] b = good.clone();
            b[3] = (byte) k;
            assertMalformed("kind " + k, b);
        }
        byte[] tooLong = new byte[Frame.MAX_FRAME_BYTES + 1];
        System.arraycopy(good, 0, tooLong, 0, good.length);
        assertMalformed("over the frame limit", tooLong);
    }

    static final InetSocketAddress SRC = new InetSocketAddress("127.0.0.1", 5);

    /**
     * Mutated valid frames and fragments, with a fixed seed: every outcome is a decoded frame or
     * MalformedFrameException. The iteration count is a system property for longer runs.
     */
    @Test
    void fuzzMutatedFrames() throws Exception {
        int iterations = Integer.getInteger("p2psip.fuzz.iterations", 200_000);
        Random rnd = new Random(4);
        List<byte[]> seeds = new ArrayList<>();
        for (Frame f : WireSamples.frames(rnd)) {
            seeds.add(codec.encode(f));
        }
        Reassembler reassembler = new Reassembler(4 << 20, 8, 5_000);
        int decoded = 0;
        int malformed = 0;
        for (int i = 0; i < iterations; i++) {
            byte[] seed = seeds.get(rnd.nextInt(seeds.size()));
            if (seed.length > 4096 && rnd.nextInt(8) != 0) {
                seed = seeds.get(0);
            }
            byte[] d = mutate(seed, seeds, rnd);
            try {
                if (i % 16 == 0 && seed.length > 1200) {
                    // fragment path: mutate one fragment of a large frame
                    List<byte[]> parts = Fragmenter.split(seed, 1200, i);
                    int victim = rnd.nextInt(parts.size());
                    byte[] whole = null;
                    for (int p = 0; p < parts.size(); p++) {
                        byte[] part = p == victim ? mutate(parts.get(p), parts, rnd) : parts.get(p);
                        try {
                            byte[] out = reassembler.accept(SRC, part, part.length, i);
                            if (out != null) {
                                whole = out;
                            }
                        } catch (MalformedFrameException e) {
                            malformed++;
                        }
                    }
                    if (whole != null) {
                        codec.decode(whole, whole.length);
                    }
                } else {
                    codec.decode(d, d.length);
                }
                decoded++;
            } catch (MalformedFrameException e) {
                malformed++;
            } catch (Throwable t) {
                throw new AssertionError("iteration " + i + " threw " + t, t);
            }
        }
        assertTrue(malformed > iterations / 2, "mutations should mostly break frames: " + malformed);
        assertTrue(decoded > 0, "some mutations (e.g. in ids or payload bytes) still decode");
    }

    static byte[] mutate(byte[] seed, List<byte[]> pool, Random rnd) {
        byte[] d = seed.clone();
        int rounds = 1 + rnd.nextInt(3);
        for (int r = 0; r < rounds; r++) {
            if (d.length == 0) {
                return d;
            }
            int pos = rnd.nextInt(d.length);
            switch (rnd.nextInt(9)) {
                case 0 -> d[pos] ^= (byte) (1 << rnd.nextInt(8));
                case 1 -> d[pos] = (byte) rnd.nextInt(256);
                case 2 -> d[pos] = new byte[] {0, -1, 0x7f, (byte) 0x80, 1}[rnd.nextInt(5)];
                case 3 -> d = java.util.Arrays.copyOf(d, rnd.nextInt(d.length + 1));
                case 4 -> { // delete a range
                    int len = 1 + rnd.nextInt(Math.min(16, d.length - pos));
                    byte[] n = new byte[d.length - len];
                    System.arraycopy(d, 0, n, 0, pos);
                    System.arraycopy(d, pos + len, n, pos, d.length - pos - len);
                    d = n;
                }
                case 5 -> { // insert random bytes
                    byte[] ins = new byte[1 + rnd.nextInt(8)];
                    rnd.nextBytes(ins);
                    byte[] n = new byte[d.length + ins.length];
                    System.arraycopy(d, 0, n, 0, pos);
                    System.arraycopy(ins, 0, n, pos, ins.length);
                    System.arraycopy(d, pos, n, pos + ins.length, d.length - pos);
                    d = n;
                }
                case 6 -> { // a huge varint
                    byte[] big = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07};
                    for (int b = 0; b < big.length && pos + b < d.length; b++) {
                        d[pos + b] = big[b];
                    }
                }
                case 7 -> { // splice the tail of another frame
                    byte[] other = pool.get(rnd.nextInt(pool.size()));
                    int from = rnd.nextInt(other.length);
                    byte[] n = new byte[pos + other.length - from];
                    System.arraycopy(d, 0, n, 0, pos);
                    System.arraycopy(other, from, n, pos, other.length - from);
                    d = n;
                }
                default -> { // duplicate a range
                    int len = Math.min(1 + rnd.nextInt(32), d.length - pos);
                    byte[] n = new byte[d.length + len];
                    System.arraycopy(d, 0, n, 0, pos + len);
                    System.arraycopy(d, pos, n, pos + len, d.length - pos);
                    d = n;
                }
            }
        }
        return d;
    }
}
