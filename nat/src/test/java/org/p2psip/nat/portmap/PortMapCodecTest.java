package org.p2psip.nat.portmap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** NAT-PMP and PCP encoding, and decoding of good, refused, truncated, wrong-version and random replies. */
class PortMapCodecTest {
    static final byte[] NONCE = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

    static byte[] natPmpMappingReply(int op, int result, int internal, int external, int lifetime) {
        return ByteBuffer.allocate(16).put((byte) 0).put((byte) (128 + op)).putShort((short) result).putInt(77)
                .putShort((short) internal).putShort((short) external).putInt(lifetime).array();
    }

    static byte[] pcpMapReply(int version, int result, byte[] nonce, int proto, int internal, int external,
            String externalIp, int lifetime) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(60);
        b.put((byte) version).put((byte) 0x81).put((byte) 0).put((byte) result).putInt(lifetime).putInt(99)
                .put(new byte[12]);
        b.put(nonce).put((byte) proto).put(new byte[3]).putShort((short) internal).putShort((short) external);
        b.put(PcpCodec.sixteen(InetAddress.getByName(externalIp)));
        return b.array();
    }

    @Test
    void natPmpRequestsAreLaidOutAsRfc6886Says() {
        assertArrayEquals(new byte[] {0, 0}, NatPmpCodec.externalAddressRequest());
        assertArrayEquals(new byte[] {0, 1, 0, 0, (byte) 0x9c, 0x41, (byte) 0x9c, 0x42, 0, 0, 0x0e, 0x10},
                NatPmpCodec.mappingRequest(Protocol.UDP, 40001, 40002, 3600));
        assertEquals(2, NatPmpCodec.mappingRequest(Protocol.TCP, 1, 0, 0)[1]);
        assertThrows(IllegalArgumentException.class, () -> NatPmpCodec.mappingRequest(Protocol.UDP, 0, 0, 1));
    }

    @Test
    void natPmpRepliesDecodeOrFailClearly() throws Exception {
        byte[] ext = {0, (byte) 128, 0, 0, 0, 0, 0, 5, (byte) 203, 0, 113, 101};
        var a = assertInstanceOf(NatPmpCodec.ExternalAddress.class, NatPmpCodec.decode(ext, 12, 0));
        assertEquals(InetAddress.getByName("203.0.113.101"), a.address());
        var m = assertInstanceOf(NatPmpCodec.MappingReply.class,
                NatPmpCodec.decode(natPmpMappingReply(1, 0, 40001, 40002, 60), 16, 1));
        assertEquals(40002, m.externalPort());
        assertEquals(60, m.lifetimeSeconds());
        var f = assertInstanceOf(NatPmpCodec.Failure.class,
                NatPmpCodec.decode(natPmpMappingReply(1, 2, 40001, 0, 0), 16, 1));
        assertTrue(f.meaning().contains("not authorized"), f.meaning());

        assertMessage("shorter than the 8-byte header", () -> NatPmpCodec.decode(ext, 7, 0));
        assertMessage("shorter than 12", () -> NatPmpCodec.decode(ext, 11, 0));
        assertMessage("shorter than 16", () -> NatPmpCodec.decode(natPmpMappingReply(1, 0, 1, 1, 1), 15, 1));
        byte[] v1 = natPmpMappingReply(1, 0, 1, 1, 1);
        v1[0] = 2;
        assertMessage("version 2, expected 0", () -> NatPmpCodec.decode(v1, 16, 1));
        assertMessage("opcode 130, expected 129", () -> NatPmpCodec.decode(natPmpMappingReply(2, 0, 1, 1, 1), 16, 1));
    }

    @Test
    void pcpMapRequestIsLaidOutAsRfc6887Says() throws Exception {
        byte[] r = PcpCodec.mapRequest(NONCE, Protocol.UDP, InetAddress.getByName("192.0.2.2"), 40001, 40001, null,
                7200);
        assertEquals(60, r.length);
        assertEquals(2, r[0]);
        assertEquals(1, r[1]);
        assertEquals(7200, ByteBuffer.wrap(r, 4, 4).getInt());
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 192, 0, 2, 2},
                Arrays.copyOfRange(r, 8, 24));
        assertArrayEquals(NONCE, Arrays.copyOfRange(r, 24, 36));
        assertEquals(17, r[36]);
        assertEquals(40001, ByteBuffer.wrap(r, 40, 2).getShort() & 0xFFFF);
        assertArrayEquals(PcpCodec.sixteen(InetAddress.getByName("0.0.0.0")), Arrays.copyOfRange(r, 44, 60));
    }

    @Test
    void pcpRepliesDecodeOrFailClearly() throws Exception {
        var g = assertInstanceOf(PcpCodec.Granted.class, PcpCodec.decodeMap(
                pcpMapReply(2, 0, NONCE, 17, 40001, 40001, "203.0.113.101", 120), 60, NONCE, Protocol.UDP, 40001));
        assertEquals(InetAddress.getByName("203.0.113.101"), g.externalAddress());
        assertEquals(120, g.lifetimeSeconds());
        var refused = assertInstanceOf(PcpCodec.Refused.class, PcpCodec.decodeMap(
                pcpMapReply(2, 2, NONCE, 17, 40001, 0, "0.0.0.0", 30), 60, NONCE, Protocol.UDP, 40001));
        assertTrue(refused.meaning().startsWith("NOT_AUTHORIZED"), refused.meaning());
        // A NAT-PMP-only router's answer to version 2: fall back.
        byte[] natPmp = {0, (byte) 129, 0, 1, 0, 0, 0, 9};
        assertEquals(new PcpCodec.UnsupportedVersion(0), PcpCodec.decodeMap(natPmp, 8, NONCE, Protocol.UDP, 1));
        byte[] v1 = pcpMapReply(1, 1, NONCE, 17, 40001, 0, "0.0.0.0", 0);
        assertEquals(new PcpCodec.UnsupportedVersion(1), PcpCodec.decodeMap(v1, 24, NONCE, Protocol.UDP, 40001));

        byte[] ok = pcpMapReply(2, 0, NONCE, 17, 40001, 40001, "203.0.113.101", 120);
        assertMessage("shorter than the 24-byte header", () -> PcpCodec.decodeMap(ok, 20, NONCE, Protocol.UDP, 40001));
        assertMessage("multiple of 4", () -> PcpCodec.decodeMap(Arrays.copyOf(ok, 61), 61, NONCE, Protocol.UDP, 40001));
        assertMessage("at most 1100", () -> PcpCodec.decodeMap(Arrays.copyOf(ok, 1104), 1104, NONCE, Protocol.UDP,
                40001));
        assertMessage("shorter than 60", () -> PcpCodec.decodeMap(ok, 56, NONCE, Protocol.UDP, 40001));
        byte[] otherNonce = NONCE.clone();
        otherNonce[0] = 9;
        assertMessage("another mapping nonce", () -> PcpCodec.decodeMap(ok, 60, otherNonce, Protocol.UDP, 40001));
        assertMessage("we asked for 17 port 40002", () -> PcpCodec.decodeMap(ok, 60, NONCE, Protocol.UDP, 40002));
        byte[] v3 = ok.clone();
        v3[0] = 3;
        assertMessage("version 3, expected 2", () -> PcpCodec.decodeMap(v3, 60, NONCE, Protocol.UDP, 40001));
        byte[] request = ok.clone();
        request[1] = 1;
        assertMessage("without the R (response) bit", () -> PcpCodec.decodeMap(request, 60, NONCE, Protocol.UDP,
                40001));
        byte[] natPmpOther = {0, (byte) 129, 0, 3, 0, 0, 0, 9};
        assertMessage("not 'unsupported version'", () -> PcpCodec.decodeMap(natPmpOther, 8, NONCE, Protocol.UDP, 1));
    }

    /** Seeded mutations of good replies: each decodes to a reply or fails with MalformedReplyException. */
    @Test
    void randomRepliesNeverEscapeAsOtherExceptions() throws Exception {
        Random random = new Random(4);
        byte[][] seeds = {pcpMapReply(2, 0, NONCE, 17, 40001, 40001, "203.0.113.101", 120),
                natPmpMappingReply(1, 0, 40001, 40001, 60), {0, (byte) 128, 0, 0, 0, 0, 0, 5, (byte) 203, 0, 113, 1}};
        int malformed = 0;
        for (int i = 0; i < 30_000; i++) {
            byte[] seed = seeds[i % seeds.length];
            byte[] d = Arrays.copyOf(seed, random.nextInt(seed.length + 8));
            for (int k = random.nextInt(4); k >= 0; k--) {
                if (d.length > 0) {
                    d[random.nextInt(d.length)] = (byte) random.nextInt(256);
                }
            }
            try {
                if (i % 3 == 0) {
                    PcpCodec.decodeMap(d, d.length, NONCE, Protocol.UDP, 40001);
                } else {
                    NatPmpCodec.decode(d, d.length, i % 3 == 1 ? 1 : 0);
                }
            } catch (MalformedReplyException e) {
                malformed++;
            }
        }
        assertTrue(malformed > 1000, "most mutations are refused: " + malformed);
    }

    @Test
    void defaultGatewayFromTheRouteTable() throws Exception {
        String table = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
                + "eth0\t0002000C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
                + "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
        assertEquals(InetAddress.getByName("192.0.2.1"), Gateways.parseRouteTable(table).orElseThrow());
        assertTrue(Gateways.parseRouteTable("Iface\tDestination\n").isEmpty());
    }

    static void assertMessage(String part, org.junit.jupiter.api.function.Executable call) {
        MalformedReplyException e = assertThrows(MalformedReplyException.class, call);
        assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
    }
}
