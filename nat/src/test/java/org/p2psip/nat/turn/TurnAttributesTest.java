package org.p2psip.nat.turn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.p2psip.nat.stun.AttributeType;
import org.p2psip.nat.stun.StunAttribute;
import org.p2psip.nat.stun.StunClass;
import org.p2psip.nat.stun.StunCodec;
import org.p2psip.nat.stun.StunMessage;
import org.p2psip.nat.stun.TransactionId;

class TurnAttributesTest {
    static InetSocketAddress addr(String ip, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), port);
    }

    @Test
    void turnAttributesSurviveTheStunCodec() throws Exception {
        TransactionId tid = TransactionId.random();
        InetSocketAddress v4 = addr("192.0.2.1", 32853);
        InetSocketAddress v6 = addr("2001:db8::1", 40000);
        byte[] token = HexFormat.of().parseHex("0102030405060708");
        StunMessage m = StunMessage.builder(StunMessage.ALLOCATE, StunClass.REQUEST, tid)
                .add(TurnAttributes.requestedTransport(TurnAttributes.TRANSPORT_UDP))
                .add(TurnAttributes.lifetime(3600))
                .add(TurnAttributes.xorPeerAddress(v4, tid))
                .add(TurnAttributes.xorPeerAddress(v6, tid))
                .add(TurnAttributes.xorRelayedAddress(v4, tid))
                .add(TurnAttributes.channelNumber(0x4001))
                .add(TurnAttributes.data(new byte[] {1, 2, 3}))
                .add(TurnAttributes.evenPort(true))
                .add(TurnAttributes.reservationToken(token))
                .add(TurnAttributes.dontFragment())
                .add(TurnAttributes.realm("example.org"))
                .add(TurnAttributes.nonce("abc"))
                .add(new StunAttribute.Username("u"))
                .build();
        byte[] key = StunCodec.longTermKey("u", "example.org", "p");
        StunMessage d = StunCodec.decode(StunCodec.encode(m, StunCodec.EncodeOptions.signed(key)));
        assertEquals(StunMessage.ALLOCATE, d.method());
        assertEquals(StunCodec.Integrity.VALID, StunCodec.checkIntegrity(d, key));
        assertEquals(17, TurnAttributes.requestedTransport(d).orElseThrow());
        assertEquals(3600L, TurnAttributes.lifetime(d).orElseThrow());
        assertEquals(List.of(v4, v6), TurnAttributes.xorPeerAddresses(d));
        assertEquals(v4, TurnAttributes.xorRelayedAddress(d).orElseThrow());
        assertEquals(0x4001, TurnAttributes.channelNumber(d).orElseThrow());
        assertArrayEquals(new byte[] {1, 2, 3}, TurnAttributes.data(d).orElseThrow());
        assertTrue(TurnAttributes.evenPort(d).orElseThrow());
        assertArrayEquals(token, TurnAttributes.reservationToken(d).orElseThrow());
        assertTrue(TurnAttributes.has(d, AttributeType.DONT_FRAGMENT));
        assertEquals("example.org", TurnAttributes.realm(d).orElseThrow());
        assertEquals("abc", TurnAttributes.nonce(d).orElseThrow());
        assertEquals(List.of(), TurnAttributes.unknownComprehensionRequired(d), "TURN types are understood");
        // ...but a plain STUN server still sees them as unknown comprehension-required types (it answers 420).
        assertTrue(d.unknownComprehensionRequired().contains(AttributeType.LIFETIME));
    }

    @Test
    void xorPeerAddressMatchesRfc8656Encoding() throws Exception {
        // The port is XORed with the cookie's top 16 bits, an IPv4 address with the cookie.
        TransactionId tid = TransactionId.of(new byte[12]);
        byte[] v = ((StunAttribute.Raw) TurnAttributes.xorPeerAddress(addr("192.0.2.1", 32853), tid)).value();
        assertArrayEquals(HexFormat.of().parseHex("0001a147e112a643"), v);
    }

    @Test
    void malformedTurnValuesAreFormatErrors() throws Exception {
        TransactionId tid = TransactionId.random();
        for (StunAttribute bad : List.of(
                new StunAttribute.Raw(AttributeType.LIFETIME, new byte[3]),
                new StunAttribute.Raw(AttributeType.REQUESTED_TRANSPORT, new byte[8]),
                new StunAttribute.Raw(AttributeType.CHANNEL_NUMBER, new byte[2]),
                new StunAttribute.Raw(AttributeType.XOR_PEER_ADDRESS, new byte[] {0, 1, 0, 0}),
                new StunAttribute.Raw(AttributeType.XOR_PEER_ADDRESS, new byte[] {0, 3, 0, 0, 1, 2, 3, 4}),
                new StunAttribute.Raw(AttributeType.XOR_PEER_ADDRESS, new byte[] {0, 2, 0, 0, 1, 2, 3, 4}),
                new StunAttribute.Raw(AttributeType.EVEN_PORT, new byte[4]),
                new StunAttribute.Raw(AttributeType.RESERVATION_TOKEN, new byte[4]),
                new StunAttribute.Raw(AttributeType.REALM, new byte[] {(byte) 0xC3, 0x28}))) {
            StunMessage m = StunCodec.decode(StunCodec.encode(
                    StunMessage.builder(StunMessage.ALLOCATE, StunClass.REQUEST, tid).add(bad).build()));
            assertThrows(TurnFormatException.class, () -> {
                TurnAttributes.lifetime(m);
                TurnAttributes.requestedTransport(m);
                TurnAttributes.channelNumber(m);
                TurnAttributes.xorPeerAddresses(m);
                TurnAttributes.evenPort(m);
                TurnAttributes.reservationToken(m);
                TurnAttributes.realm(m);
            }, bad.toString());
        }
    }

    @Test
    void channelDataFraming() throws Exception {
        ChannelData cd = new ChannelData(0x4000, new byte[] {9, 8, 7});
        byte[] wire = cd.encode();
        assertArrayEquals(new byte[] {0x40, 0, 0, 3, 9, 8, 7}, wire);
        assertEquals(cd, ChannelData.decode(wire));
        byte[] padded = java.util.Arrays.copyOf(wire, 8);
        assertEquals(cd, ChannelData.decode(padded), "padding to 4 bytes is allowed");
        assertThrows(TurnFormatException.class, () -> ChannelData.decode(new byte[] {0x40, 0, 0, 9, 1}));
        assertThrows(TurnFormatException.class, () -> ChannelData.decode(new byte[] {0x40, 0, 0, 0, 0, 0, 0, 0}));
        assertThrows(TurnFormatException.class, () -> ChannelData.decode(new byte[] {0x00, 1, 0, 0}));
        assertThrows(TurnFormatException.class, () -> ChannelData.decode(new byte[] {0x40, 1}));
        assertThrows(IllegalArgumentException.class, () -> new ChannelData(0x3FFF, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> new ChannelData(0x8000, new byte[0]));
    }

    @Test
    void peerFilter() throws Exception {
        PeerFilter f = PeerFilter.denying("10.0.0.0/8", "192.0.2.128/25", "fc00::/7")
                .withTransport(addr("127.0.0.1", 3478));
        assertFalse(f.allowsIp(InetAddress.getByName("10.200.1.1")));
        assertTrue(f.allowsIp(InetAddress.getByName("11.0.0.1")));
        assertFalse(f.allowsIp(InetAddress.getByName("192.0.2.200")));
        assertTrue(f.allowsIp(InetAddress.getByName("192.0.2.127")));
        assertFalse(f.allowsIp(InetAddress.getByName("fd00::1")));
        assertTrue(f.allowsIp(InetAddress.getByName("2001:db8::1")));
        assertFalse(f.allowsIp(InetAddress.getByName("0.0.0.0")), "unspecified is never a peer");
        assertFalse(f.allowsIp(InetAddress.getByName("224.0.0.1")), "multicast is never a peer");
        assertFalse(f.allowsIp(InetAddress.getByName("255.255.255.255")), "broadcast is never a peer");
        assertTrue(f.allowsIp(InetAddress.getByName("127.0.0.1")), "a permission is per IP");
        assertFalse(f.allows(addr("127.0.0.1", 3478)), "the listening address itself is refused");
        assertTrue(f.allows(addr("127.0.0.1", 3479)));
        assertFalse(f.allows(addr("127.0.0.1", 0)), "port 0 is never a peer");
        PeerFilter p = PeerFilter.privateNetworks();
        for (String ip : List.of("127.0.0.1", "10.1.1.1", "172.16.5.5", "192.168.1.1", "169.254.1.1", "100.64.0.1",
                "::1", "fe80::1")) {
            assertFalse(p.allowsIp(InetAddress.getByName(ip)), ip);
        }
        assertTrue(p.allowsIp(InetAddress.getByName("203.0.113.5")));
        assertThrows(IllegalArgumentException.class, () -> PeerFilter.Network.parse("example.com/8"));
        assertThrows(IllegalArgumentException.class, () -> PeerFilter.Network.parse("10.0.0.0/33"));
    }
}
