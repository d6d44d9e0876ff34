package org.p2psip.overlay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NodeIdTest {
    private static final String ZERO = "0000000000000000000000000000000000000000";

    private static BigInteger distance(NodeId a, NodeId b) {
        return new BigInteger(1, a.xor(b).toBytes());
    }

    @Test
    void xorDistanceIsSymmetricZeroOnSelfAndMatchesBigInteger() {
        Random rnd = new Random(1);
        for (int i = 0; i < 1000; i++) {
            NodeId a = NodeId.random(rnd);
            NodeId b = NodeId.random(rnd);
            assertEquals(a.xor(b), b.xor(a));
            assertEquals(NodeId.fromHex(ZERO), a.xor(a));
            BigInteger expected = new BigInteger(1, a.toBytes()).xor(new BigInteger(1, b.toBytes()));
            assertEquals(expected, distance(a, b));
        }
        NodeId x = NodeId.fromHex("ff00000000000000000000000000000000000001");
        NodeId y = NodeId.fromHex("0f00000000000000000000000000000000000003");
        assertEquals(NodeId.fromHex("f000000000000000000000000000000000000002"), x.xor(y));
    }

    @Test
    void commonPrefixLengthOnKnownValues() {
        NodeId zero = NodeId.fromHex(ZERO);
        assertEquals(160, zero.commonPrefixLength(zero));
        assertEquals(0, zero.commonPrefixLength(NodeId.fromHex("8000000000000000000000000000000000000000")));
        assertEquals(1, zero.commonPrefixLength(NodeId.fromHex("4000000000000000000000000000000000000000")));
        assertEquals(7, zero.commonPrefixLength(NodeId.fromHex("0100000000000000000000000000000000000000")));
        assertEquals(8, zero.commonPrefixLength(NodeId.fromHex("0080000000000000000000000000000000000000")));
        assertEquals(159, zero.commonPrefixLength(NodeId.fromHex("0000000000000000000000000000000000000001")));
        // every single-bit difference, against a non-zero base
        Random rnd = new Random(2);
        NodeId base = NodeId.random(rnd);
        for (int bit = 0; bit < NodeId.BITS; bit++) {
            byte[] b = base.toBytes();
            b[bit / 8] ^= (byte) (0x80 >>> (bit % 8));
            NodeId flipped = NodeId.of(b);
            assertEquals(bit, base.commonPrefixLength(flipped), "bit " + bit);
            assertEquals(bit, flipped.commonPrefixLength(base), "bit " + bit);
        }
    }

    @Test
    void commonPrefixLengthAgreesWithDistanceBitLength() {
        Random rnd = new Random(3);
        for (int i = 0; i < 1000; i++) {
            NodeId a = NodeId.random(rnd);
            NodeId b = a.randomWithPrefix(rnd.nextInt(161), rnd);
            BigInteger d = distance(a, b);
            assertEquals(160 - d.bitLength(), a.commonPrefixLength(b));
        }
    }

    @Test
    void compareDistanceOrdersByXorMetric() {
        Random rnd = new Random(4);
        for (int i = 0; i < 5000; i++) {
            NodeId t = NodeId.random(rnd);
            NodeId a = NodeId.random(rnd);
            // b is sometimes near a, so close calls in low bytes are exercised
            NodeId b = rnd.nextBoolean() ? NodeId.random(rnd) : a.randomWithPrefix(120 + rnd.nextInt(40), rnd);
            int expected = Integer.signum(distance(t, a).compareTo(distance(t, b)));
            assertEquals(expected, Integer.signum(t.compareDistance(a, b)));
            assertEquals(-expected, Integer.signum(t.compareDistance(b, a)));
            assertEquals(0, t.compareDistance(a, a));
        }
        NodeId t = NodeId.fromHex(ZERO);
        // unsigned bytes: 0x80 is farther than 0x7f
        assertTrue(t.compareDistance(NodeId.fromHex("7f00000000000000000000000000000000000000"),
                NodeId.fromHex("8000000000000000000000000000000000000000")) < 0);
    }

    @Test
    void randomWithPrefixSharesExactlyThatManyBits() {
        Random rnd = new Random(5);
        NodeId self = NodeId.random(rnd);
        for (int p = 0; p <= NodeId.BITS; p++) {
            for (int rep = 0; rep < 5; rep++) {
                NodeId r = self.randomWithPrefix(p, rnd);
                assertEquals(p, self.commonPrefixLength(r), "prefix " + p);
            }
        }
        assertEquals(self, self.randomWithPrefix(160, rnd));
        // the bits after the prefix are random: different draws differ
        assertNotEquals(self.randomWithPrefix(10, rnd), self.randomWithPrefix(10, rnd));
    }

    @Test
    void constructionAndEncoding() {
        assertThrows(IllegalArgumentException.class, () -> NodeId.of(new byte[19]));
        byte[] raw = new byte[20];
        raw[0] = 1;
        NodeId id = NodeId.of(raw);
        raw[0] = 2; // defensive copy
        assertEquals("01", id.toHex().substring(0, 2));
        assertArrayEquals(id.toBytes(), NodeId.fromHex(id.toHex()).toBytes());
        assertEquals(NodeId.ofName("sip:bob@example.net"), NodeId.ofName("sip:bob@example.net"));
        // SHA-1("abc")
        assertEquals("a9993e364706816aba3e25717850c26c9cd0d89d", NodeId.ofName("abc").toHex());
        assertEquals(8, id.shortHex().length());
    }
}
