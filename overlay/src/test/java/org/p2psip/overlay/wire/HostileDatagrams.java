package org.p2psip.overlay.wire;

import com.esotericsoftware.kryo.Kryo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.p2psip.overlay.NodeId;

/** A source of hostile datagrams for flood tests: every kind {@link HostileInputTest} checks one by one. */
public final class HostileDatagrams {
    private final Random rnd;
    private final List<byte[]> valid = new ArrayList<>();
    private final List<byte[]> lies = new ArrayList<>();
    private final byte[] selfSent;

    /** Kinds of datagram, in the order {@link #next()} cycles through them. */
    public static final int KINDS = 10;

    /** @param victim the node attacked: frames claiming its own id are among the datagrams */
    public HostileDatagrams(long seed, NodeId victim) {
        this.rnd = new Random(seed);
        WireCodec codec = new WireCodec();
        for (Frame f : WireSamples.frames(new Random(seed + 1))) {
            byte[] b = codec.encode(f);
            if (b.length <= 1400) {
                valid.add(b);
            }
        }
        selfSent = codec.encode(new Frame(false, 1, victim, new Message.Ping()));
        for (long lie : new long[] {1L << 31, Integer.MAX_VALUE, 1_000_000_000, 65_537}) {
            lies.add(HostileInputTest.frame(false, o -> {
                HostileInputTest.tag(o, 26);
                HostileInputTest.id(o);
                HostileInputTest.varint(o, 0);
                HostileInputTest.varint(o, 0);
                HostileInputTest.varint(o, lie);
                o.writeBytes(new byte[64]);
            }));
            lies.add(HostileInputTest.frame(true, o -> {
                HostileInputTest.tag(o, 25);
                HostileInputTest.varint(o, 0);
                HostileInputTest.varint(o, lie);
            }));
            lies.add(HostileInputTest.frame(false, o -> {
                HostileInputTest.tag(o, 29);
                HostileInputTest.id(o);
                o.writeLong(1);
                HostileInputTest.varint(o, lie);
            }));
            lies.add(HostileInputTest.frame(true, o -> {
                HostileInputTest.tag(o, 23);
                HostileInputTest.varint(o, lie);
            }));
        }
        int stringTag = new Kryo().getRegistration(String.class).getId() + 2;
        lies.add(HostileInputTest.frame(false, o -> {
            o.writeVarInt(stringTag, true);
            o.writeVarIntFlag(false, Integer.MAX_VALUE, true);
        }));
        lies.add(HostileInputTest.frame(false, o -> {
            o.writeVarInt(1, true);
            o.writeVarInt(1, true);
            o.writeString("java.lang.Runtime");
        }));
    }

    private static byte[] fragmentHeader(long stream, int index, int count, int chunk) {
        byte[] d = new byte[Frame.FRAGMENT_HEADER_BYTES + chunk];
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
        return d;
    }

    /** Datagram number {@code i}: kind {@code i % KINDS}. */
    public byte[] next(int i) {
        switch (i % KINDS) {
            case 0: { // random bytes
                byte[] d = new byte[rnd.nextInt(1400)];
                rnd.nextBytes(d);
                return d;
            }
            case 1: { // random body behind a valid prelude
                byte[] d = new byte[4 + rnd.nextInt(1400)];
                rnd.nextBytes(d);
                d[0] = Frame.MAGIC0;
                d[1] = Frame.MAGIC1;
                d[2] = Frame.VERSION;
                d[3] = (byte) rnd.nextInt(2);
                return d;
            }
            case 2: { // truncated valid frame
                byte[] v = valid.get(rnd.nextInt(valid.size()));
                return Arrays.copyOf(v, rnd.nextInt(v.length));
            }
            case 3: // lying length fields, Kryo size bombs, class by name
                return lies.get(rnd.nextInt(lies.size()));
            case 4: { // unknown message type
                int t = rnd.nextInt(300);
                if (t >= 22 && t <= 32) {
                    t += 20;
                }
                int tag = t;
                return HostileInputTest.frame(rnd.nextBoolean(), o -> {
                    o.writeVarInt(tag, true);
                    o.writeBytes(new byte[rnd.nextInt(100)]);
                });
            }
            case 5: { // fragment with a bogus count or index
                int[][] bogus = {{0, 0}, {0, 1}, {5, 5}, {0, 65_535}, {200, 129}, {1, 0}};
                int[] b = bogus[rnd.nextInt(bogus.length)];
                return fragmentHeader(rnd.nextLong(), b[0], b[1], 1 + rnd.nextInt(1000));
            }
            case 6: // a fragment opening a stream that never completes
                return fragmentHeader(rnd.nextLong(), rnd.nextInt(100), 100, 1 + rnd.nextInt(1184));
            case 7: // a frame claiming to come from the victim itself
                return selfSent;
            case 8: { // a mutated valid frame: most break, some decode
                byte[] v = valid.get(rnd.nextInt(valid.size()));
                return HostileInputTest.mutate(v, valid, rnd);
            }
            default: { // a whole valid frame with a broken tail
                byte[] v = valid.get(rnd.nextInt(valid.size())).clone();
                byte[] d = Arrays.copyOf(v, v.length + 1 + rnd.nextInt(8));
                return d;
            }
        }
    }
}
