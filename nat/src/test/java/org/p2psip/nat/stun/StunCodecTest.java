package org.p2psip.nat.stun;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class StunCodecTest {
    static InetSocketAddress addr(String ip, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), port);
    }

    @Test
    void everyAttributeKindRoundTrips() throws Exception {
        TransactionId tid = TransactionId.random();
        StunMessage m = StunMessage.builder(StunMessage.BINDING, StunClass.ERROR_RESPONSE, tid)
                .add(new StunAttribute.MappedAddress(addr("192.0.2.7", 1)))
                .add(new StunAttribute.XorMappedAddress(addr("2001:db8::1", 65535)))
                .add(new StunAttribute.ResponseOrigin(addr("203.0.113.1", 3478)))
                .add(new StunAttribute.OtherAddress(addr("203.0.113.2", 3479)))
                .add(new StunAttribute.Username("ユーザー"))
                .add(new StunAttribute.Software("p2psip"))
                .add(new StunAttribute.ErrorCode(420, "Unknown Attribute"))
                .add(new StunAttribute.UnknownAttributes(List.of(0x0024, 0x7fff, 0x0001)))
                .add(new StunAttribute.ChangeRequest(true, false))
                .add(new StunAttribute.ResponsePort(40000))
                .add(new StunAttribute.Padding(13))
                .add(new StunAttribute.Raw(0x8055, new byte[] {1, 2, 3}))
                .build();
        byte[] wire = StunCodec.encode(m, StunCodec.EncodeOptions.fingerprinted());
        assertEquals(0, wire.length % 4);
        StunMessage d = StunCodec.decode(wire);
        assertEquals(StunClass.ERROR_RESPONSE, d.messageClass());
        assertEquals(tid, d.transactionId());
        assertEquals(m.attributes(), d.attributes().subList(0, m.attributes().size()));
        assertTrue(d.get(StunAttribute.Fingerprint.class).isPresent());
        assertEquals(StunCodec.Integrity.ABSENT, StunCodec.checkIntegrity(d, new byte[] {1}));
        assertEquals(List.of(), d.unknownComprehensionRequired());
    }

    @Test
    void messageTypeBitsAreInterleaved() throws Exception {
        // RFC 8489: Binding request 0x0001, success 0x0101, error 0x0111, indication 0x0011.
        assertEquals(0x0001, StunCodec.messageType(1, StunClass.REQUEST));
        assertEquals(0x0101, StunCodec.messageType(1, StunClass.SUCCESS_RESPONSE));
        assertEquals(0x0111, StunCodec.messageType(1, StunClass.ERROR_RESPONSE));
        assertEquals(0x0011, StunCodec.messageType(1, StunClass.INDICATION));
        for (int method : new int[] {0x001, 0x003, 0x00A, 0xFFF, 0x080, 0x555}) {
            for (StunClass c : StunClass.values()) {
                StunMessage msg = StunMessage.builder(method, c, TransactionId.random()).build();
                StunMessage back = StunCodec.decode(StunCodec.encode(msg));
                assertEquals(method, back.method());
                assertEquals(c, back.messageClass());
            }
        }
    }

    @Test
    void sha256IntegrityAndBothTogether() throws Exception {
        byte[] key = StunCodec.shortTermKey("secret");
        StunMessage m = StunMessage.bindingRequest().add(new StunAttribute.Username("a:b")).build();
        for (StunCodec.EncodeOptions o : List.of(
                StunCodec.EncodeOptions.fingerprinted().withIntegrity(key, false, true),
                StunCodec.EncodeOptions.fingerprinted().withIntegrity(key, true, true),
                StunCodec.EncodeOptions.plain().withIntegrity(key, false, true).withSha256Length(16))) {
            StunMessage d = StunCodec.decode(StunCodec.encode(m, o));
            assertEquals(StunCodec.Integrity.VALID, StunCodec.checkIntegrity(d, key));
            assertEquals(StunCodec.Integrity.INVALID, StunCodec.checkIntegrity(d, StunCodec.shortTermKey("other")));
        }
    }

    @Test
    void longTermKeyIsMd5OfUserRealmPassword() {
        // MD5("user:realm:pass")
        assertArrayEquals(java.util.HexFormat.of().parseHex("8493fbc53ba582fb4c044c456bdc40eb"),
                StunCodec.longTermKey("user", "realm", "pass"));
    }

    @Test
    void attributesAfterIntegrityAreIgnoredButStillLengthChecked() throws Exception {
        byte[] key = {1, 2, 3};
        byte[] signed = StunCodec.encode(StunMessage.bindingRequest().build(), StunCodec.EncodeOptions.plain()
                .withIntegrity(key, true, false));
        // Append SOFTWARE after MESSAGE-INTEGRITY and fix the length field: ignored, integrity still valid.
        byte[] extra = {(byte) 0x80, 0x22, 0, 4, 'a', 'b', 'c', 'd'};
        byte[] longer = java.util.Arrays.copyOf(signed, signed.length + extra.length);
        System.arraycopy(extra, 0, longer, signed.length, extra.length);
        ByteBuffer.wrap(longer, 2, 2).putShort((short) (longer.length - 20));
        StunMessage d = StunCodec.decode(longer);
        assertFalse(d.has(StunAttribute.Software.class));
        assertEquals(StunCodec.Integrity.VALID, StunCodec.checkIntegrity(d, key));
    }

    @Test
    void classicMessagesOnlyWhenLenient() throws Exception {
        byte[] wire = StunCodec.encode(StunMessage.bindingRequest().build());
        wire[4] = 0x11; // break the magic cookie: an RFC 3489 transaction id
        StunDecodeException e = assertThrows(StunDecodeException.class, () -> StunCodec.decode(wire));
        assertTrue(e.getMessage().startsWith("magic cookie is 0x11"), e.getMessage());
        StunMessage d = StunCodec.decode(wire, 0, wire.length, StunCodec.DecodeOptions.lenient());
        assertTrue(d.isClassic());
        // A response to it echoes the whole 16-byte transaction id.
        byte[] resp = StunCodec.encode(StunMessage.responseTo(d, StunClass.SUCCESS_RESPONSE).build());
        assertArrayEquals(java.util.Arrays.copyOfRange(wire, 4, 20), java.util.Arrays.copyOfRange(resp, 4, 20));
    }

    @Test
    void encoderRefusesOversizedValues() {
        assertThrows(IllegalArgumentException.class, () -> StunCodec.encode(
                StunMessage.bindingRequest().add(new StunAttribute.Username("x".repeat(514))).build()));
        assertThrows(IllegalArgumentException.class, () -> StunCodec.encode(
                StunMessage.bindingRequest().add(new StunAttribute.Software("x".repeat(764))).build()));
        assertThrows(IllegalArgumentException.class,
                () -> StunMessage.bindingRequest().add(new StunAttribute.Fingerprint(0)));
        StunMessage.Builder big = StunMessage.bindingRequest();
        for (int i = 0; i < 20; i++) {
            big.add(new StunAttribute.Padding(4000));
        }
        StunMessage tooBig = big.build();
        assertThrows(IllegalArgumentException.class, () -> StunCodec.encode(tooBig));
    }

    // ---------------------------------------------------------------- hostile input: each rule has its own message

    static byte[] header(int type, int length) {
        ByteBuffer b = ByteBuffer.allocate(20 + length);
        b.putShort((short) type).putShort((short) length).putInt(StunMessage.MAGIC_COOKIE).put(new byte[12]);
        return b.array();
    }

    static byte[] withAttribute(int type, byte[] value) {
        int padded = (value.length + 3) & ~3;
        byte[] m = header(0x0001, 4 + padded);
        ByteBuffer.wrap(m, 20, 4 + value.length).putShort((short) type).putShort((short) value.length).put(value);
        return m;
    }

    static String error(byte[] wire) {
        return assertThrows(StunDecodeException.class, () -> StunCodec.decode(wire)).getMessage();
    }

    @Test
    void hostileHeadersGiveClearErrors() {
        assertTrue(error(new byte[19]).contains("shorter than the 20-byte STUN header"));
        byte[] topBits = header(0x0001, 0);
        topBits[0] = (byte) 0x80;
        assertTrue(error(topBits).contains("first two bits"));
        byte[] odd = header(0x0001, 0);
        odd[3] = 2;
        assertTrue(error(odd).contains("not a multiple of 4"));
        byte[] lying = header(0x0001, 0);
        lying[3] = 8;
        assertTrue(error(lying).contains("message length field says 8"));
        byte[] trailing = java.util.Arrays.copyOf(header(0x0001, 0), 24);
        assertTrue(error(trailing).contains("datagram carries 4"));
    }

    @Test
    void hostileAttributesGiveClearErrors() {
        // Attribute length running past the end.
        byte[] overrun = header(0x0001, 8);
        ByteBuffer.wrap(overrun, 20, 4).putShort((short) 0x8022).putShort((short) 200);
        assertTrue(error(overrun).contains("claims 200 bytes"));
        // Value fits, but not its padding.
        byte[] noPad = header(0x0001, 8);
        ByteBuffer.wrap(noPad, 20, 4).putShort((short) 0x8022).putShort((short) 5);
        assertTrue(error(noPad).contains("claims 5 bytes (8 padded)"));
        // Wrong sizes for fixed-size attributes.
        assertTrue(error(withAttribute(AttributeType.XOR_MAPPED_ADDRESS, new byte[] {0, 1, 0, 0, 1, 2, 3}))
                .contains("must be 8"));
        assertTrue(error(withAttribute(AttributeType.MAPPED_ADDRESS, new byte[] {0, 3, 0, 0, 1, 2, 3, 4}))
                .contains("unknown address family 3"));
        assertTrue(error(withAttribute(AttributeType.MAPPED_ADDRESS, new byte[] {0, 1}))
                .contains("address shorter than 4 bytes"));
        assertTrue(error(withAttribute(AttributeType.MESSAGE_INTEGRITY, new byte[19])).contains("must be 20"));
        assertTrue(error(withAttribute(AttributeType.MESSAGE_INTEGRITY_SHA256, new byte[12])).contains("16..32"));
        assertTrue(error(withAttribute(AttributeType.FINGERPRINT, new byte[8])).contains("must be 4"));
        assertTrue(error(withAttribute(AttributeType.CHANGE_REQUEST, new byte[8])).contains("must be 4"));
        assertTrue(error(withAttribute(AttributeType.RESPONSE_PORT, new byte[2])).contains("must be 4"));
        assertTrue(error(withAttribute(AttributeType.ERROR_CODE, new byte[] {0, 0, 7, 0})).contains("out of range"));
        assertTrue(error(withAttribute(AttributeType.ERROR_CODE, new byte[] {0, 0, 4, 100})).contains("out of range"));
        assertTrue(error(withAttribute(AttributeType.ERROR_CODE, new byte[] {0, 0})).contains("shorter than 4"));
        assertTrue(error(withAttribute(AttributeType.UNKNOWN_ATTRIBUTES, new byte[3])).contains("odd length"));
        assertTrue(error(withAttribute(AttributeType.USERNAME, new byte[514])).contains("longer than 513"));
        assertTrue(error(withAttribute(AttributeType.SOFTWARE, new byte[] {(byte) 0xC3, 0x28})).contains("UTF-8"));
        assertTrue(error(withAttribute(AttributeType.FINGERPRINT, new byte[4])).contains("FINGERPRINT does not match"));
    }

    @Test
    void attributeCountIsBounded() {
        byte[] many = header(0x0001, 4 * 65);
        for (int i = 0; i < 65; i++) {
            ByteBuffer.wrap(many, 20 + 4 * i, 4).putShort((short) 0x8055).putShort((short) 0);
        }
        assertTrue(error(many).contains("more than 64 attributes"));
        byte[] ok = java.util.Arrays.copyOf(many, 20 + 4 * 64);
        ByteBuffer.wrap(ok, 2, 2).putShort((short) (4 * 64));
        assertEquals(64, assertDoesNotThrow(ok).attributes().size());
    }

    @Test
    void nothingMayFollowFingerprint() throws Exception {
        byte[] fp = StunCodec.encode(StunMessage.bindingRequest().build(), StunCodec.EncodeOptions.fingerprinted());
        byte[] more = java.util.Arrays.copyOf(fp, fp.length + 4);
        ByteBuffer.wrap(more, fp.length, 4).putShort((short) 0x8055).putShort((short) 0);
        ByteBuffer.wrap(more, 2, 2).putShort((short) (more.length - 20));
        // Recompute the CRC for the new length field, so that only the trailing attribute is wrong.
        int fpAt = fp.length - 8;
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(more, 0, fpAt);
        ByteBuffer.wrap(more, fpAt + 4, 4).putInt((int) crc.getValue() ^ StunCodec.FINGERPRINT_XOR);
        assertTrue(error(more).contains("follows FINGERPRINT"), error(more));
    }

    @Test
    void unknownComprehensionRequiredTypesAreReported() throws Exception {
        StunMessage d = StunCodec.decode(withAttribute(0x7ABC, new byte[] {1}));
        assertEquals(List.of(0x7ABC), d.unknownComprehensionRequired());
        StunMessage opt = StunCodec.decode(withAttribute(0xFABC, new byte[] {1}));
        assertEquals(List.of(), opt.unknownComprehensionRequired());
    }

    static StunMessage assertDoesNotThrow(byte[] wire) {
        try {
            return StunCodec.decode(wire);
        } catch (StunDecodeException e) {
            throw new AssertionError("unexpected: " + e.getMessage(), e);
        }
    }
}
