package org.p2psip.nat.stun;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The test vectors of RFC 5769 sections 2.1-2.3, decoded, verified and re-encoded byte for byte. */
class Rfc5769VectorsTest {
    static final String PASSWORD = "VOkJxbRl1RmTxUk/WvJxBt";
    static final TransactionId TID = TransactionId.of(hex("b7e7a701bc34d686fa87dfae"));

    static final byte[] REQUEST = hex("""
            00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
            80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
            00 24 00 04 6e 00 01 ff
            80 29 00 08 93 2f f9 b1 51 26 3b 36
            00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
            00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
            80 28 00 04 e5 7a 3b cf""");

    static final byte[] IPV4_RESPONSE = hex("""
            01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
            80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
            00 20 00 08 00 01 a1 47 e1 12 a6 43
            00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
            80 28 00 04 c0 7d 4c 96""");

    static final byte[] IPV6_RESPONSE = hex("""
            01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
            80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
            00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
            00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
            80 28 00 04 c8 fb 0b 4c""");

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replaceAll("\\s", ""));
    }

    static final StunCodec.EncodeOptions RFC_SIGNING =
            StunCodec.EncodeOptions.signed(StunCodec.shortTermKey(PASSWORD)).withPaddingByte((byte) 0x20);

    @Test
    void sampleRequestDecodesAndVerifies() throws Exception {
        StunMessage m = StunCodec.decode(REQUEST);
        assertEquals(StunMessage.BINDING, m.method());
        assertEquals(StunClass.REQUEST, m.messageClass());
        assertEquals(TID, m.transactionId());
        assertEquals("STUN test client", m.get(StunAttribute.Software.class).orElseThrow().value());
        assertEquals("evtj:h6vY", m.get(StunAttribute.Username.class).orElseThrow().value());
        assertEquals(StunCodec.Integrity.VALID, StunCodec.checkIntegrity(m, StunCodec.shortTermKey(PASSWORD)));
        assertEquals(StunCodec.Integrity.INVALID, StunCodec.checkIntegrity(m, StunCodec.shortTermKey("wrong")));
        // PRIORITY (0x0024) is comprehension-required and not a STUN-server attribute: a server would answer 420.
        assertEquals(List.of(AttributeType.PRIORITY), m.unknownComprehensionRequired());
    }

    @Test
    void sampleRequestReencodesByteExact() {
        StunMessage m = StunMessage.builder(StunMessage.BINDING, StunClass.REQUEST, TID)
                .add(new StunAttribute.Software("STUN test client"))
                .add(new StunAttribute.Raw(AttributeType.PRIORITY, hex("6e0001ff")))
                .add(new StunAttribute.Raw(AttributeType.ICE_CONTROLLED, hex("932ff9b151263b36")))
                .add(new StunAttribute.Username("evtj:h6vY"))
                .build();
        assertArrayEquals(REQUEST, StunCodec.encode(m, RFC_SIGNING));
    }

    @Test
    void ipv4ResponseDecodesAndReencodesByteExact() throws Exception {
        StunMessage m = StunCodec.decode(IPV4_RESPONSE);
        assertEquals(StunClass.SUCCESS_RESPONSE, m.messageClass());
        InetSocketAddress expected = new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 32853);
        assertEquals(expected, m.mappedAddress().orElseThrow());
        assertEquals("test vector", m.get(StunAttribute.Software.class).orElseThrow().value());
        assertEquals(StunCodec.Integrity.VALID, StunCodec.checkIntegrity(m, StunCodec.shortTermKey(PASSWORD)));

        StunMessage built = StunMessage.builder(StunMessage.BINDING, StunClass.SUCCESS_RESPONSE, TID)
                .add(new StunAttribute.Software("test vector"))
                .add(new StunAttribute.XorMappedAddress(expected))
                .build();
        assertArrayEquals(IPV4_RESPONSE, StunCodec.encode(built, RFC_SIGNING));
        // Re-encoding the decoded message (which lists MI and FINGERPRINT) recomputes them to the same bytes.
        assertArrayEquals(IPV4_RESPONSE, StunCodec.encode(m, RFC_SIGNING));
    }

    @Test
    void ipv6ResponseDecodesAndReencodesByteExact() throws Exception {
        StunMessage m = StunCodec.decode(IPV6_RESPONSE);
        InetSocketAddress expected = new InetSocketAddress(
                InetAddress.getByName("2001:db8:1234:5678:11:2233:4455:6677"), 32853);
        assertEquals(expected, m.mappedAddress().orElseThrow());
        assertEquals(StunCodec.Integrity.VALID, StunCodec.checkIntegrity(m, StunCodec.shortTermKey(PASSWORD)));
        StunMessage built = StunMessage.builder(StunMessage.BINDING, StunClass.SUCCESS_RESPONSE, TID)
                .add(new StunAttribute.Software("test vector"))
                .add(new StunAttribute.XorMappedAddress(expected))
                .build();
        assertArrayEquals(IPV6_RESPONSE, StunCodec.encode(built, RFC_SIGNING));
    }

    @Test
    void aFlippedBitIsCaughtByFingerprintOrIntegrity() throws Exception {
        for (byte[] vector : List.of(REQUEST, IPV4_RESPONSE, IPV6_RESPONSE)) {
            // Inside the body (before FINGERPRINT): the fingerprint no longer matches.
            byte[] tampered = vector.clone();
            tampered[30] ^= 0x01;
            StunDecodeException e = assertThrows(StunDecodeException.class, () -> StunCodec.decode(tampered));
            assertEquals("FINGERPRINT does not match the message", e.getMessage());
        }
        // Tamper, then recompute FINGERPRINT as an attacker could: MESSAGE-INTEGRITY still catches it.
        byte[] forged = IPV4_RESPONSE.clone();
        forged[0x28] ^= 0x01; // inside XOR-MAPPED-ADDRESS
        int fpAt = forged.length - 8;
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(forged, 0, fpAt);
        int fp = (int) crc.getValue() ^ StunCodec.FINGERPRINT_XOR;
        java.nio.ByteBuffer.wrap(forged, fpAt + 4, 4).putInt(fp);
        StunMessage m = StunCodec.decode(forged);
        assertEquals(StunCodec.Integrity.INVALID, StunCodec.checkIntegrity(m, StunCodec.shortTermKey(PASSWORD)));
    }
}
