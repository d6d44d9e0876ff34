package org.p2psip.sip.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.p2psip.sip.message.SipMessage;
import org.p2psip.sip.message.SipParser;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.Via;

class SipTransportTest {
    static final InetAddress LO = InetAddress.getLoopbackAddress();

    record Received(SipMessage message, Source source) {
    }

    final LinkedBlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
    SipTransport transport;

    @BeforeEach
    void start() throws Exception {
        transport = SipTransport.start(SipTransport.Config.of(new InetSocketAddress(LO, 0)),
                (m, s) -> inbox.add(new Received(m, s)));
    }

    @AfterEach
    void stop() {
        transport.close();
    }

    static String options(String via, String callId, String extraHeaders, String body) {
        return "OPTIONS sip:uas@127.0.0.1 SIP/2.0\r\n"
                + "Via: " + via + "\r\n"
                + "From: <sip:uac@127.0.0.1>;tag=1\r\n"
                + "To: <sip:uas@127.0.0.1>\r\n"
                + "Call-ID: " + callId + "\r\n"
                + "CSeq: 1 OPTIONS\r\n"
                + "Max-Forwards: 70\r\n"
                + extraHeaders
                + (body.isEmpty() ? "" : "Content-Type: text/plain\r\n")
                + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    Received next() throws InterruptedException {
        Received r = inbox.poll(5, TimeUnit.SECONDS);
        assertNotNull(r, "nothing received");
        return r;
    }

    static String receive(DatagramSocket s) throws Exception {
        DatagramPacket p = new DatagramPacket(new byte[70_000], 70_000);
        s.setSoTimeout(5000);
        s.receive(p);
        return new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
    }

    @Test
    void stunBindingKeepalivesAreAnsweredOnTheSipPort() throws Exception {
        try (DatagramSocket phone = new DatagramSocket(0, LO)) {
            phone.setSoTimeout(5000);
            org.p2psip.nat.stun.StunMessage req = org.p2psip.nat.stun.StunMessage.bindingRequest().build();
            byte[] wire = org.p2psip.nat.stun.StunCodec.encode(req,
                    org.p2psip.nat.stun.StunCodec.EncodeOptions.fingerprinted());
            phone.send(new DatagramPacket(wire, wire.length, transport.localAddress()));
            DatagramPacket p = new DatagramPacket(new byte[1500], 1500);
            phone.receive(p);
            org.p2psip.nat.stun.StunMessage resp = org.p2psip.nat.stun.StunCodec.decode(
                    java.util.Arrays.copyOf(p.getData(), p.getLength()));
            assertEquals(org.p2psip.nat.stun.StunClass.SUCCESS_RESPONSE, resp.messageClass());
            assertEquals(req.transactionId(), resp.transactionId());
            assertEquals(new InetSocketAddress(LO, phone.getLocalPort()),
                    resp.get(org.p2psip.nat.stun.StunAttribute.XorMappedAddress.class).orElseThrow().address(),
                    "the phone learns its address as the registrar sees it");

            // junk that starts like STUN is dropped and counted, and SIP on the port still works
            byte[] junk = {0, 1, 0, 4, 1, 2, 3, 4};
            phone.send(new DatagramPacket(junk, junk.length, transport.localAddress()));
            byte[] sip = options("SIP/2.0/UDP 127.0.0.1:" + phone.getLocalPort() + ";branch=z9hG4bKafterstun",
                    "stun@test", "", "").getBytes(StandardCharsets.UTF_8);
            phone.send(new DatagramPacket(sip, sip.length, transport.localAddress()));
            assertEquals("stun@test", next().message().callId());
            assertEquals(1, transport.stats().stunAnswered());
            assertEquals(1, transport.stats().nonSip());
        }
    }

    @Test
    void aTenKibDatagramIsReadWhole() throws Exception {
        String body = "x".repeat(10 * 1024);
        byte[] bytes = options("SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKbig", "big@test", "", body)
                .getBytes(StandardCharsets.UTF_8);
        assertTrue(bytes.length > 10 * 1024);
        try (DatagramSocket s = new DatagramSocket(0, LO)) {
            s.send(new DatagramPacket(bytes, bytes.length, transport.localAddress()));
            Received r = next();
            assertEquals(10 * 1024, r.message().bodyLength());
            assertEquals(body, r.message().bodyText());
        }
    }

    @Test
    void ourOwnTransportSendsAndReceivesTenKib() throws Exception {
        LinkedBlockingQueue<SipMessage> other = new LinkedBlockingQueue<>();
        try (SipTransport b = SipTransport.start(SipTransport.Config.of(new InetSocketAddress(LO, 0)),
                (m, s) -> other.add(m))) {
            SipRequest req = (SipRequest) new SipParser().parseDatagram(options(
                    "SIP/2.0/UDP 127.0.0.1:" + transport.localAddress().getPort() + ";branch=z9hG4bKx;rport", "own@test",
                    "", "y".repeat(10_240)).getBytes(StandardCharsets.UTF_8));
            transport.sendRequest(req, new Target(Transport.UDP, b.localAddress())).get(5, TimeUnit.SECONDS);
            SipMessage got = other.poll(5, TimeUnit.SECONDS);
            assertNotNull(got);
            assertEquals(10_240, got.bodyLength());
        }
    }

    @Test
    void rportGetsTheSourcePortAndTheResponseGoesThere() throws Exception {
        try (DatagramSocket s = new DatagramSocket(0, LO)) {
            // sent-by names a host and port where nobody listens: only rport gets the answer back to us.
            byte[] bytes = options("SIP/2.0/UDP phone.invalid:5999;branch=z9hG4bKrport;rport", "rport@test", "", "")
                    .getBytes(StandardCharsets.UTF_8);
            s.send(new DatagramPacket(bytes, bytes.length, transport.localAddress()));
            Received r = next();
            Via top = ((SipRequest) r.message()).topVia();
            assertEquals(Optional.of("127.0.0.1"), top.received());
            assertEquals(s.getLocalPort(), top.rport().getAsInt());
            assertEquals(s.getLocalPort(), r.source().remote().getPort());
            SipResponse ok = SipResponse.forRequest((SipRequest) r.message(), 200, "OK");
            transport.sendResponse(ok, r.source()).get(5, TimeUnit.SECONDS);
            String answer = receive(s);
            assertTrue(answer.startsWith("SIP/2.0 200 OK\r\n"), answer);
            assertTrue(answer.contains(";rport=" + s.getLocalPort() + ";received=127.0.0.1"), answer);
        }
    }

    @Test
    void withoutRportTheResponseGoesToTheSentByPort() throws Exception {
        try (DatagramSocket sender = new DatagramSocket(0, LO); DatagramSocket sentBy = new DatagramSocket(0, LO)) {
            byte[] bytes = options("SIP/2.0/UDP 127.0.0.1:" + sentBy.getLocalPort() + ";branch=z9hG4bKnorport",
                    "norport@test", "", "").getBytes(StandardCharsets.UTF_8);
            sender.send(new DatagramPacket(bytes, bytes.length, transport.localAddress()));
            Received r = next();
            Via top = ((SipRequest) r.message()).topVia();
            assertTrue(top.received().isEmpty(), "sent-by host is the source address: no received");
            transport.sendResponse(SipResponse.forRequest((SipRequest) r.message(), 200, "OK"), r.source())
                    .get(5, TimeUnit.SECONDS);
            assertTrue(receive(sentBy).startsWith("SIP/2.0 200 OK"));
        }
    }

    @Test
    void malformedUdpRequestIsAnswered400AndAResponseIsDropped() throws Exception {
        try (DatagramSocket s = new DatagramSocket(0, LO)) {
            byte[] bad = options("SIP/2.0/UDP 127.0.0.1:" + 1 + ";branch=z9hG4bKbad;rport", "bad@test", "", "")
                    .replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE").getBytes(StandardCharsets.UTF_8);
            s.send(new DatagramPacket(bad, bad.length, transport.localAddress()));
            String answer = receive(s);
            assertTrue(answer.startsWith("SIP/2.0 400 CSeq method does not match the Request-Line\r\n"), answer);
            byte[] badResponse = "SIP/2.0 4294967301 nope\r\nVia: SIP/2.0/UDP 127.0.0.1\r\n\r\n"
                    .getBytes(StandardCharsets.UTF_8);
            s.send(new DatagramPacket(badResponse, badResponse.length, transport.localAddress()));
            byte[] ping = "\r\n\r\n".getBytes(StandardCharsets.UTF_8);
            s.send(new DatagramPacket(ping, ping.length, transport.localAddress()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (transport.stats().keepalives() < 1 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(2, transport.stats().malformed());
            assertEquals(1, transport.stats().answeredMalformed());
            assertEquals(1, transport.stats().keepalives());
            assertTrue(inbox.isEmpty());
        }
    }

    @Test
    void tcpFramesBackToBackMessagesAnswersPingsAndRespondsOnTheConnection() throws Exception {
        try (Socket s = new Socket(LO, transport.localAddress().getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            String a = options("SIP/2.0/TCP client.invalid:5060;branch=z9hG4bKt1", "tcp1@test", "", "hello");
            String b = options("SIP/2.0/TCP client.invalid:5060;branch=z9hG4bKt2", "tcp2@test", "", "");
            byte[] all = (a + b + "\r\n\r\n").getBytes(StandardCharsets.UTF_8);
            // Dribble the bytes in small pieces to exercise the framer across reads.
            for (int i = 0; i < all.length; i += 37) {
                out.write(all, i, Math.min(37, all.length - i));
                out.flush();
            }
            Received r1 = next();
            Received r2 = next();
            assertEquals("tcp1@test", r1.message().callId());
            assertEquals("hello", r1.message().bodyText());
            assertEquals("tcp2@test", r2.message().callId());
            assertEquals(Transport.TCP, r1.source().transport());
            InputStream in = s.getInputStream();
            assertEquals('\r', in.read());
            assertEquals('\n', in.read()); // the pong
            transport.sendResponse(SipResponse.forRequest((SipRequest) r2.message(), 200, "OK"), r2.source())
                    .get(5, TimeUnit.SECONDS);
            byte[] buf = new byte[4096];
            int n = in.read(buf);
            assertTrue(new String(buf, 0, n, StandardCharsets.UTF_8).startsWith("SIP/2.0 200 OK\r\n"));
        }
    }

    /** RFC 5626 §4.4.1: every double-CRLF ping gets one CRLF pong, even split across segments; none is a message. */
    @Test
    void tcpCrlfPingsAreAnsweredWithOnePongEachAndNeverParsed() throws Exception {
        try (Socket s = new Socket(LO, transport.localAddress().getPort())) {
            s.setSoTimeout(5000);
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (int i = 0; i < 3; i++) {
                out.write("\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                assertEquals('\r', in.read());
                assertEquals('\n', in.read());
            }
            // a ping split in two segments: still one ping, answered once the second half arrives
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(100);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals('\r', in.read());
            assertEquals('\n', in.read());
            // then a message on the same connection is framed as usual
            out.write(options("SIP/2.0/TCP client.invalid:5060;branch=z9hG4bKafterping", "ping@test", "", "")
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            assertEquals("ping@test", next().message().callId());
            s.setSoTimeout(300);
            assertThrows(java.net.SocketTimeoutException.class, in::read, "one pong per ping, nothing more");
            assertEquals(4, transport.stats().keepalives());
            assertEquals(0, transport.stats().malformed());
            assertEquals(0, transport.stats().answeredMalformed());
        }
    }

    /** STUN keepalives on UDP (RFC 5626 §4.4.2) never reach the SIP parser: no 400, no malformed count. */
    @Test
    void stunOnTheSipUdpPortIsNeverParsedAsSip() throws Exception {
        try (DatagramSocket phone = new DatagramSocket(0, LO)) {
            phone.setSoTimeout(5000);
            for (int i = 0; i < 3; i++) {
                byte[] wire = org.p2psip.nat.stun.StunCodec.encode(org.p2psip.nat.stun.StunMessage.bindingRequest()
                        .build(), org.p2psip.nat.stun.StunCodec.EncodeOptions.fingerprinted());
                phone.send(new DatagramPacket(wire, wire.length, transport.localAddress()));
                DatagramPacket p = new DatagramPacket(new byte[1500], 1500);
                phone.receive(p);
                assertTrue(org.p2psip.nat.stun.StunCodec.looksLikeStun(p.getData(), 0, p.getLength()));
            }
            // a STUN indication (no answer due) and a UDP CRLF keepalive: dropped silently
            byte[] indication = org.p2psip.nat.stun.StunCodec.encode(org.p2psip.nat.stun.StunMessage.bindingRequest()
                    .build(), org.p2psip.nat.stun.StunCodec.EncodeOptions.fingerprinted());
            indication[0] = 0x00;
            indication[1] = 0x11; // Binding indication
            phone.send(new DatagramPacket(indication, indication.length, transport.localAddress()));
            byte[] crlf = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            phone.send(new DatagramPacket(crlf, crlf.length, transport.localAddress()));
            byte[] sip = options("SIP/2.0/UDP 127.0.0.1:" + phone.getLocalPort() + ";branch=z9hG4bKafterkeepalives",
                    "after@test", "", "").getBytes(StandardCharsets.UTF_8);
            phone.send(new DatagramPacket(sip, sip.length, transport.localAddress()));
            assertEquals("after@test", next().message().callId());
            phone.setSoTimeout(300);
            assertThrows(java.net.SocketTimeoutException.class,
                    () -> phone.receive(new DatagramPacket(new byte[1500], 1500)), "no answer to the indication or CRLF");
            assertEquals(3, transport.stats().stunAnswered());
            assertEquals(0, transport.stats().malformed());
            assertEquals(0, transport.stats().answeredMalformed());
        }
    }

    @Test
    void tcpWithLostFramingIsAnsweredAndClosed() throws Exception {
        try (Socket s = new Socket(LO, transport.localAddress().getPort())) {
            s.setSoTimeout(5000);
            String bad = options("SIP/2.0/TCP client.invalid;branch=z9hG4bKncl", "ncl@test", "", "")
                    .replace("Content-Length: 0", "Content-Length: -999");
            s.getOutputStream().write(bad.getBytes(StandardCharsets.UTF_8));
            byte[] all = s.getInputStream().readAllBytes(); // returns when the server closes
            assertTrue(new String(all, StandardCharsets.UTF_8).startsWith("SIP/2.0 400 Bad Content-Length"));
        }
    }

    @Test
    void tcpRequestToANewPeerOpensAConnection() throws Exception {
        LinkedBlockingQueue<SipMessage> other = new LinkedBlockingQueue<>();
        try (SipTransport b = SipTransport.start(SipTransport.Config.of(new InetSocketAddress(LO, 0)),
                (m, s) -> other.add(m))) {
            SipRequest req = (SipRequest) new SipParser().parseDatagram(options(
                    "SIP/2.0/TCP 127.0.0.1:" + transport.localAddress().getPort() + ";branch=z9hG4bKtc", "tc@test", "",
                    "").getBytes(StandardCharsets.UTF_8));
            transport.sendRequest(req, new Target(Transport.TCP, b.localAddress())).get(5, TimeUnit.SECONDS);
            assertNotNull(other.poll(5, TimeUnit.SECONDS));
            // The connection is registered from its event loop; on a loaded machine that may trail the delivery.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (transport.stats().connections() != 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1, transport.stats().connections());
        }
    }

    @Test
    void broadcastAndMulticastAreRefused() throws Exception {
        SipRequest req = (SipRequest) new SipParser().parseDatagram(options(
                "SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKbc", "bc@test", "", "").getBytes(StandardCharsets.UTF_8));
        for (String a : new String[] {"255.255.255.255", "224.0.0.1", "0.0.0.0"}) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> transport
                    .sendRequest(req, new Target(Transport.UDP, new InetSocketAddress(InetAddress.getByName(a), 5060)))
                    .get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().startsWith("refusing"), a);
        }
    }
}
