package org.p2psip.nat.stun;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of the decoder: mutated valid messages, attribute soups with lying lengths, and random bytes. The
 * decoder must either return a message or throw {@link StunDecodeException}; any other throwable fails the test.
 * Whatever decodes must also survive integrity checking and re-encoding.
 */
class StunFuzzTest {
    private static final long SEED = 0x5354554EL;
    private static final int ROUNDS = 60_000;

    @Test
    void decoderThrowsOnlyDecodeErrors() throws Exception {
        Random r = new Random(SEED);
        List<byte[]> seeds = seeds();
        int decoded = 0;
        int rejected = 0;
        for (int i = 0; i < ROUNDS; i++) {
            byte[] input = switch (i % 4) {
                case 0 -> mutate(r, seeds.get(r.nextInt(seeds.size())));
                case 1 -> soup(r);
                case 2 -> randomBytes(r);
                default -> mutate(r, soup(r));
            };
            StunMessage m;
            try {
                m = StunCodec.decode(input, 0, input.length, (i & 8) == 0
                        ? StunCodec.DecodeOptions.strict() : StunCodec.DecodeOptions.lenient());
            } catch (StunDecodeException e) {
                rejected++;
                continue;
            } catch (Throwable t) {
                throw new AssertionError("round " + i + ": decoder threw " + t + " on "
                        + java.util.HexFormat.of().formatHex(input), t);
            }
            decoded++;
            try {
                StunCodec.checkIntegrity(m, new byte[] {1, 2, 3});
                m.mappedAddress();
                StunCodec.decode(StunCodec.encode(m, StunCodec.EncodeOptions.fingerprinted()), 0,
                        StunCodec.encode(m, StunCodec.EncodeOptions.fingerprinted()).length,
                        StunCodec.DecodeOptions.lenient());
            } catch (IllegalArgumentException e) {
                // Re-encoding may refuse what decodes (e.g. an over-long message after adding FINGERPRINT).
            } catch (Throwable t) {
                fail("round " + i + ": a decoded message broke " + t, t);
            }
        }
        // The generator must exercise both outcomes substantially.
        assertTrue(decoded > ROUNDS / 50, "decoded " + decoded);
        assertTrue(rejected > ROUNDS / 2, "rejected " + rejected);
    }

    private static List<byte[]> seeds() throws Exception {
        List<byte[]> s = new ArrayList<>(List.of(Rfc5769VectorsTest.REQUEST, Rfc5769VectorsTest.IPV4_RESPONSE,
                Rfc5769VectorsTest.IPV6_RESPONSE));
        s.add(StunCodec.encode(StunMessage.bindingRequest()
                .add(new StunAttribute.ChangeRequest(true, true))
                .add(new StunAttribute.ResponsePort(7))
                .add(new StunAttribute.Padding(5))
                .add(new StunAttribute.ErrorCode(420, "x"))
                .add(new StunAttribute.UnknownAttributes(List.of(1, 2, 3)))
                .add(new StunAttribute.OtherAddress(new InetSocketAddress(InetAddress.getByName("2001:db8::2"), 9)))
                .build(), StunCodec.EncodeOptions.signed(new byte[] {9}).withIntegrity(new byte[] {9}, true, true)));
        return s;
    }

    private static byte[] mutate(Random r, byte[] seed) {
        byte[] b = seed.clone();
        int n = 1 + r.nextInt(4);
        for (int k = 0; k < n; k++) {
            switch (r.nextInt(5)) {
                case 0 -> b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                case 1 -> b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                case 2 -> b = Arrays.copyOf(b, Math.max(0, b.length - 1 - r.nextInt(8)));
                case 3 -> b = Arrays.copyOf(b, b.length + 1 + r.nextInt(8));
                default -> {
                    if (b.length >= 4) { // rewrite the length field to match the new size, or nearly
                        ByteBuffer.wrap(b, 2, 2).putShort((short) (b.length - 20 + (r.nextBoolean() ? 0 : 4)));
                    }
                }
            }
            if (b.length == 0) {
                return b;
            }
        }
        return b;
    }

    /** A well-framed header followed by attributes whose types are known and whose lengths are plausible or not. */
    private static byte[] soup(Random r) {
        int[] types = {1, 3, 6, 8, 9, 10, 0x1c, 0x20, 0x24, 0x26, 0x27, 0x8022, 0x8028, 0x802b, 0x802c, 0x7fff, 0xffff};
        ByteBuffer b = ByteBuffer.allocate(2048);
        b.putShort((short) 0x0001).putShort((short) 0).putInt(StunMessage.MAGIC_COOKIE);
        byte[] tid = new byte[12];
        r.nextBytes(tid);
        b.put(tid);
        int attrs = r.nextInt(12);
        for (int i = 0; i < attrs && b.remaining() > 100; i++) {
            int len = r.nextInt(4) == 0 ? r.nextInt(70) : new int[] {0, 2, 4, 8, 20, 32}[r.nextInt(6)];
            b.putShort((short) types[r.nextInt(types.length)]).putShort((short) len);
            byte[] v = new byte[(len + 3) & ~3];
            r.nextBytes(v);
            if (v.length >= 2 && r.nextBoolean()) {
                v[1] = (byte) (1 + r.nextInt(2)); // a valid address family half the time
            }
            b.put(v, 0, Math.min(v.length, b.remaining()));
        }
        byte[] out = Arrays.copyOf(b.array(), b.position());
        ByteBuffer.wrap(out, 2, 2).putShort((short) (out.length - 20));
        return out;
    }

    private static byte[] randomBytes(Random r) {
        byte[] b = new byte[r.nextInt(120)];
        r.nextBytes(b);
        if (b.length >= 8 && r.nextBoolean()) {
            b[0] &= 0x3f;
            ByteBuffer.wrap(b, 4, 4).putInt(StunMessage.MAGIC_COOKIE);
        }
        return b;
    }
}
