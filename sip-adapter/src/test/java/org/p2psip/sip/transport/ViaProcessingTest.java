package org.p2psip.sip.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.p2psip.sip.message.SipParser;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.Via;

class ViaProcessingTest {
    static SipRequest withVia(String via) {
        String m = "OPTIONS sip:a@b SIP/2.0\r\nVia: " + via + "\r\nVia: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK2\r\n"
                + "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
        return (SipRequest) new SipParser().parseDatagram(m.getBytes(StandardCharsets.UTF_8));
    }

    static InetSocketAddress src(String ip, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), port);
    }

    @Test
    void sameHostWithoutRportIsLeftAlone() throws Exception {
        SipRequest r = withVia("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1");
        assertSame(r, ViaProcessing.stampReceived(r, src("192.0.2.1", 5060)));
    }

    @Test
    void differentHostGetsReceived() throws Exception {
        SipRequest r = ViaProcessing.stampReceived(withVia("SIP/2.0/UDP phone.example.com;branch=z9hG4bK1"),
                src("198.51.100.7", 4000));
        assertEquals(Optional.of("198.51.100.7"), r.topVia().received());
        assertFalse(r.topVia().hasRport());
        assertEquals(2, r.vias().size(), "only the top Via changes");
        assertEquals("proxy.example.com", r.vias().get(1).host());
    }

    @Test
    void rportIsFilledAndReceivedAddedEvenForTheSameHost() throws Exception {
        SipRequest r = ViaProcessing.stampReceived(withVia("SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bK1"),
                src("192.0.2.1", 61000));
        Via v = r.topVia();
        assertEquals(61000, v.rport().getAsInt());
        assertEquals(Optional.of("192.0.2.1"), v.received());
        assertEquals("SIP/2.0/UDP 192.0.2.1:5060;rport=61000;branch=z9hG4bK1;received=192.0.2.1", v.toString());
    }

    @Test
    void ipv6SourceIsWrittenPlain() throws Exception {
        SipRequest r = ViaProcessing.stampReceived(withVia("SIP/2.0/UDP [2001:db8::1];rport;branch=z9hG4bK1"),
                src("2001:db8::2", 5070));
        assertEquals(Optional.of("2001:db8::2"), r.topVia().received());
        assertEquals(new InetSocketAddress(InetAddress.getByName("2001:db8::2"), 5070),
                ViaProcessing.responseAddress(r.topVia()));
    }

    @Test
    void responseAddressRules() throws Exception {
        assertEquals(src("198.51.100.7", 61000),
                ViaProcessing.responseAddress(Via.parse("SIP/2.0/UDP h.example;received=198.51.100.7;rport=61000")));
        assertEquals(src("198.51.100.7", 5070),
                ViaProcessing.responseAddress(Via.parse("SIP/2.0/UDP h.example:5070;received=198.51.100.7")));
        assertEquals(src("192.0.2.9", 5060), ViaProcessing.responseAddress(Via.parse("SIP/2.0/UDP 192.0.2.9")));
        assertEquals(src("192.0.2.10", 5080),
                ViaProcessing.responseAddress(Via.parse("SIP/2.0/UDP 192.0.2.9:5080;maddr=192.0.2.10")));
    }

    @Test
    void forbiddenDestinations() throws Exception {
        assertTrue(ViaProcessing.forbidden(InetAddress.getByName("255.255.255.255")));
        assertTrue(ViaProcessing.forbidden(InetAddress.getByName("239.1.1.1")));
        assertTrue(ViaProcessing.forbidden(InetAddress.getByName("::")));
        assertFalse(ViaProcessing.forbidden(InetAddress.getByName("192.0.2.1")));
    }
}
