package org.p2psip.sip.message;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Codec behaviour beyond RFC 4475: header handling, URIs, limits, stream framing and keepalives, encoding. */
class SipCodecTest {
    static final SipParser PARSER = new SipParser();

    static String base(String extra) {
        return "OPTIONS sip:bob@example.com SIP/2.0\r\n"
                + "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
                + "From: <sip:alice@example.com>;tag=a\r\n"
                + "To: <sip:bob@example.com>\r\n"
                + "Call-ID: c1@example.com\r\n"
                + "CSeq: 1 OPTIONS\r\n"
                + extra
                + "Content-Length: 0\r\n\r\n";
    }

    static SipMessage parse(String s) {
        return PARSER.parseDatagram(s.getBytes(StandardCharsets.UTF_8));
    }

    // ---- headers ----

    @Test
    void compactFormsAreTheSameHeaders() {
        String m = "MESSAGE sip:bob@example.com SIP/2.0\r\nv: SIP/2.0/TCP h;branch=z9hG4bK2\r\nf: <sip:a@b>;tag=1\r\n"
                + "t: <sip:bob@example.com>\r\ni: x@y\r\nCSeq: 2 MESSAGE\r\nm: <sip:a@c>\r\nk: path, outbound\r\n"
                + "o: presence\r\nu: presence, dialog\r\nc: text/plain\r\ns: hi\r\ne: gzip\r\nl: 2\r\n\r\nhi";
        SipRequest r = (SipRequest) parse(m);
        assertEquals("TCP", r.topVia().transport());
        assertEquals("x@y", r.callId());
        assertEquals(List.of("path", "outbound"), r.headers().all("Supported"));
        assertEquals(Optional.of("presence"), r.headers().first("Event"));
        assertEquals(List.of("presence", "dialog"), r.headers().all("allow-events"));
        assertEquals(Optional.of("text/plain"), r.contentType());
        assertEquals("hi", r.bodyText());
        String encoded = r.toString();
        assertTrue(encoded.contains("\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK2\r\n"), encoded);
        assertTrue(encoded.contains("\r\nContact: <sip:a@c>\r\n"), encoded);
        assertTrue(encoded.contains("\r\nContent-Length: 2\r\n\r\nhi"), encoded);
    }

    @Test
    void authenticationHeadersAndDateAreNeverSplit() {
        String challenge = "Digest realm=\"p2psip\", nonce=\"abc\", algorithm=SHA-256, qop=\"auth,auth-int\"";
        SipMessage m = parse(base("WWW-Authenticate: " + challenge + "\r\nWWW-Authenticate: Digest realm=\"p2psip\", "
                + "nonce=\"def\", algorithm=MD5\r\nAuthorization: Digest username=\"a\", uri=\"sip:b\"\r\n"
                + "Proxy-Authenticate: Digest realm=\"x\", nonce=\"y\"\r\nDate: Sat, 13 Nov 2010 23:29:00 GMT\r\n"));
        assertEquals(challenge, m.headers().all("www-authenticate").get(0));
        assertEquals(2, m.headers().all("WWW-Authenticate").size());
        assertEquals(1, m.headers().all("Authorization").size());
        assertEquals(1, m.headers().all("Proxy-Authenticate").size());
        assertEquals(List.of("Sat, 13 Nov 2010 23:29:00 GMT"), m.headers().all("Date"));
    }

    @Test
    void listHeadersSplitOutsideQuotesAndAngleBrackets() {
        SipMessage m = parse(base("Contact: \"Doe, John\" <sip:j,k@x;a=1>;expires=30;q=0.5, <sip:k@y>\r\n"
                + "Route: <sip:p1@example.com;lr>,<sip:p2@example.com;lr>\r\nRecord-Route: <sip:rr@example.com;lr>\r\n"
                + "Path: <sip:leaf@sp.example.com;lr>\r\n"));
        List<Contact> c = m.contacts();
        assertEquals(2, c.size());
        assertEquals("Doe, John", c.get(0).address().displayName());
        assertEquals("j,k", ((SipUri) c.get(0).address().uri()).user().orElseThrow(), "a comma inside <> stays");
        assertEquals(30, c.get(0).expires().getAsLong());
        assertEquals(Optional.of(new BigDecimal("0.5")), c.get(0).q());
        assertEquals(List.of("sip:p1@example.com;lr", "sip:p2@example.com;lr"),
                m.routes().stream().map(a -> a.uri().toString()).toList());
        assertEquals(1, m.recordRoutes().size());
        assertEquals("sp.example.com", ((SipUri) m.paths().get(0).uri()).host());
    }

    @Test
    void foldedLinesWithTabsBecomeOneSpace() {
        SipMessage m = parse(base("Subject: first\r\n\tsecond\r\n   third\r\n"));
        assertEquals(Optional.of("first second third"), m.headers().first("subject"));
    }

    @Test
    void contactWildcardExpiresAndQ() {
        assertTrue(Contact.parse(" * ").wildcard());
        Contact big = Contact.parse("<sip:a@b>;expires=99999999999999999999");
        assertEquals(Contact.MAX_DELTA_SECONDS, big.expires().getAsLong());
        assertThrows(SipParseException.class, () -> Contact.parse("<sip:a@b>;q=1.5").q());
        assertThrows(SipParseException.class, () -> Contact.parse("<sip:a@b>;expires=soon").expires());
        SipRequest r = (SipRequest) parse(base("Contact: *\r\nContact: <sip:a@b>\r\n"));
        assertEquals(400, SipValidator.checkForUas(r, java.util.Set.of()).orElseThrow().status());
    }

    @Test
    void maxForwardsCSeqAndCallIdBounds() {
        assertEquals(255, parse(base("Max-Forwards: 255\r\n")).maxForwards().getAsInt());
        assertThrows(SipParseException.class, () -> parse(base("Max-Forwards: 256\r\n")));
        assertThrows(SipParseException.class, () -> parse(base("Max-Forwards: 1\r\nMax-Forwards: 2\r\n")));
        assertThrows(SipParseException.class, () -> parse(base("").replace("CSeq: 1 OPTIONS", "CSeq: 2147483648 OPTIONS")));
        assertEquals(CSeq.MAX, ((SipRequest) parse(base("").replace("CSeq: 1", "CSeq: 2147483647"))).cseq().number());
        assertThrows(SipParseException.class, () -> parse(base("").replace("Call-ID: c1@example.com", "Call-ID: a b")));
        assertThrows(SipParseException.class, () -> parse(base("").replace("Call-ID: c1@example.com", "Call-ID: a@b@c")));
    }

    @Test
    void duplicateOrEmptyParametersAreErrors() {
        assertThrows(SipParseException.class, () -> Address.parse("<sip:a@b>;tag=1;tag=2", "From"));
        assertThrows(SipParseException.class, () -> Address.parse("<sip:a@b>;tag=", "From"));
        assertThrows(SipParseException.class, () -> Via.parse("SIP/2.0/UDP h;branch"));
    }

    @Test
    void responsesAndStatusLines() {
        String r = "SIP/2.0 180\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\n"
                + "Call-ID: x\r\nCSeq: 1 INVITE\r\n\r\n";
        SipResponse s = assertInstanceOf(SipResponse.class, parse(r));
        assertEquals(180, s.status());
        assertEquals("", s.reason());
        assertThrows(SipParseException.class, () -> parse(r.replace("SIP/2.0 180", "SIP/2.0 099 Low")));
        assertThrows(SipParseException.class, () -> parse(r.replace("SIP/2.0 180", "SIP/2.0 18x Bad")));
        SipParseException e = assertThrows(SipParseException.class, () -> parse(r.replace("SIP/2.0 180", "SIP/3.0 180 Hi")));
        assertTrue(e.answerable().isEmpty(), "responses are never answered");
    }

    @Test
    void forRequestCopiesTheRightHeadersAndAddsATag() {
        SipRequest req = (SipRequest) parse(base("Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp\r\n"));
        SipResponse ok = SipResponse.forRequest(req, 200, "OK", "t1");
        assertEquals(req.headers().all("Via"), ok.headers().all("Via"));
        assertEquals(Optional.of("t1"), ok.to().tag());
        assertEquals(req.cseq(), ok.cseq());
        assertEquals(req.callId(), ok.callId());
        assertTrue(SipResponse.forRequest(req, 100, "Trying").to().tag().isEmpty());
        SipResponse again = (SipResponse) PARSER.parseDatagram(ok.encode());
        assertEquals(ok.headers().remove("Content-Length"), again.headers().remove("Content-Length"));
    }

    // ---- URIs ----

    @Test
    void sipUriParts() {
        SipUri u = SipUri.parse("sips:alice:secret@[2001:DB8::10]:5071;transport=TCP;lr;maddr=239.1.1.1?Subject=hi%20there&Priority=urgent");
        assertTrue(u.secure());
        assertEquals("alice", u.user().orElseThrow());
        assertEquals("secret", u.password().orElseThrow());
        assertEquals("[2001:db8::10]", u.host());
        assertEquals(5071, u.port());
        assertEquals(Optional.of("tcp"), u.transport());
        assertTrue(u.looseRouting());
        assertEquals("hi there", u.headers().get("Subject"));
        assertEquals("urgent", u.headers().get("Priority"));
        SipUri noUser = SipUri.parse("sip:example.com");
        assertTrue(noUser.user().isEmpty());
        assertEquals(-1, noUser.port());
        assertEquals("sip:bob@example.com", SipUri.parse("sip:bob@example.com:5060;transport=udp?x=y").aor().toString());
    }

    @Test
    void uriEscapingRoundTrips() {
        SipUri built = SipUri.of("a b@c", "Example.COM", 5060).withParam("name", "v;w");
        assertEquals("sip:a%20b%40c@example.com:5060;name=v%3Bw", built.toString());
        SipUri back = SipUri.parse(built.toString());
        assertEquals("a b@c", back.user().orElseThrow());
        assertEquals(Optional.of("v;w"), back.param("name"));
        assertEquals(built, back);
        assertEquals("sip:[::1]:5060", SipUri.of(null, "::1", 5060).toString());
    }

    @Test
    void uriComparisonFollowsRfc3261() {
        assertEquals(SipUri.parse("sip:%61lice@atlanta.com;transport=TCP"), SipUri.parse("sip:alice@AtLanTa.CoM;Transport=tcp"));
        assertNotEquals(SipUri.parse("sip:alice@atlanta.com"), SipUri.parse("sip:ALICE@atlanta.com"));
        assertNotEquals(SipUri.parse("sip:bob@biloxi.com"), SipUri.parse("sip:bob@biloxi.com:5060"));
        assertNotEquals(SipUri.parse("sip:bob@biloxi.com"), SipUri.parse("sip:bob@biloxi.com;transport=udp"));
        assertEquals(SipUri.parse("sip:carol@chicago.com"), SipUri.parse("sip:carol@chicago.com;newparam=5"));
        assertNotEquals(SipUri.parse("sip:carol@chicago.com;security=on"), SipUri.parse("sip:carol@chicago.com;security=off"));
        assertNotEquals(SipUri.parse("sip:carol@chicago.com"), SipUri.parse("sip:carol@chicago.com?Subject=next"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"sip:", "sip:user@", "sip:[::1", "sip:a@b:99999", "sip:a b@c", "sip:%G1@c", "sip:a@b;;x",
        "sip:a@b;x=1;X=2", "sip:a@-b", "sip:a@b?noequals", "sip:a@b:port"})
    void badSipUris(String s) {
        assertThrows(SipParseException.class, () -> SipUri.parse(s));
    }

    @Test
    void viaForms() {
        Via v = Via.parse("SIP / 2.0 / TCP [2001:db8::1] : 5070 ; branch=z9hG4bKx ; rport=1234 ; received=2001:db8::9");
        assertEquals("[2001:db8::1]", v.host());
        assertEquals(5070, v.port());
        assertEquals(1234, v.rport().getAsInt());
        assertEquals(Optional.of("2001:db8::9"), v.received());
        assertTrue(v.reliable());
        assertEquals("SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bKx;rport=1234;received=2001:db8::9", v.toString());
        assertEquals(v, Via.parse(v.toString()));
        assertEquals(5061, Via.parse("SIP/2.0/TLS h").portOrDefault());
        for (String bad : new String[] {"SIP/2.0 UDP h", "SIP/2.0/UDP", "SIP/2.0/UDP h;rport=x", "SIP/2.0/UDP h;received=1234",
            "SIP/2.0/UDP h;ttl=300", "HTTP/1.1/TCP h"}) {
            assertThrows(SipParseException.class, () -> Via.parse(bad), bad);
        }
    }

    // ---- limits ----

    @Test
    void tooManyHeadersTooLongLinesAndTooLargeMessagesAre513() {
        SipParser small = new SipParser(new SipLimits(4096, 16, 256));
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            many.append("X-H").append(i).append(": v\r\n");
        }
        assertEquals(513, assertThrows(SipParseException.class,
                () -> small.parseDatagram(base(many.toString()).getBytes(StandardCharsets.UTF_8))).status());
        String longLine = "X-Long: " + "a".repeat(300) + "\r\n";
        SipParseException e = assertThrows(SipParseException.class,
                () -> small.parseDatagram(base(longLine).getBytes(StandardCharsets.UTF_8)));
        assertEquals(513, e.status());
        assertTrue(e.answerable().isEmpty(), "input over the header limits is dropped (and counted), not answered");
        String folded = "X-Folded: " + "a\r\n ".repeat(200) + "b\r\n"; // short lines, long unfolded value
        assertEquals(513, assertThrows(SipParseException.class,
                () -> small.parseDatagram(base(folded).getBytes(StandardCharsets.UTF_8))).status());
        byte[] huge = new byte[70_000];
        assertEquals(513, assertThrows(SipParseException.class, () -> PARSER.parseDatagram(huge)).status());
    }

    @Test
    void garbageIsRefused() {
        assertThrows(SipParseException.class, () -> parse("\r\n\r\n"));
        assertThrows(SipParseException.class, () -> parse("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"));
        assertThrows(SipParseException.class, () -> parse("hello world\r\n\r\n"));
        SipParseException e = assertThrows(SipParseException.class,
                () -> parse(base("this line has no colon\r\n")));
        assertEquals("Malformed header line", e.reason());
        assertTrue(e.answerable().isPresent());
    }

    @Test
    void leadingCrlfsAreIgnoredOnDatagrams() {
        assertEquals("c1@example.com", parse("\r\n\r\n" + base("")).callId());
    }

    // ---- stream framing and keepalives ----

    @Test
    void pingsPongsAndStrayCrlfs() {
        SipStreamFramer server = new SipStreamFramer(PARSER, SipStreamFramer.Role.SERVER);
        assertTrue(server.feed(bytes("\r\n")).isEmpty(), "half a ping: wait");
        assertInstanceOf(SipStreamFramer.Ping.class, server.feed(bytes("\r\n")).get(0));
        List<SipStreamFramer.Frame> f = server.feed(bytes("\r\n" + base("")));
        assertEquals(1, f.size());
        assertInstanceOf(SipStreamFramer.Message.class, f.get(0));
        SipStreamFramer client = new SipStreamFramer(PARSER, SipStreamFramer.Role.CLIENT);
        assertInstanceOf(SipStreamFramer.Pong.class, client.feed(bytes("\r\n")).get(0));
        assertEquals(0, client.buffered());
    }

    @Test
    void streamWithoutContentLengthIsAnsweredAndTheStreamGoesOn() {
        SipStreamFramer f = new SipStreamFramer(PARSER, SipStreamFramer.Role.SERVER);
        String noLength = base("").replace("Content-Length: 0\r\n", "");
        List<SipStreamFramer.Frame> frames = f.feed(bytes(noLength + base("")));
        SipParseException e = ((SipStreamFramer.Error) frames.get(0)).error();
        assertEquals("Missing Content-Length", e.reason());
        assertFalse(e.framingLost());
        assertTrue(e.answerable().isPresent());
        assertInstanceOf(SipStreamFramer.Message.class, frames.get(1));
    }

    @Test
    void streamMessagesOneByteAtATime() {
        SipStreamFramer f = new SipStreamFramer(PARSER, SipStreamFramer.Role.SERVER);
        String body = "x".repeat(5000);
        byte[] all = bytes(base("").replace("Content-Length: 0", "Content-Length: 5000") + body + base(""));
        int messages = 0;
        for (byte b : all) {
            for (SipStreamFramer.Frame fr : f.feed(new byte[] {b})) {
                assertInstanceOf(SipStreamFramer.Message.class, fr);
                messages++;
            }
        }
        assertEquals(2, messages);
        assertEquals(0, f.buffered());
    }

    @Test
    void oversizedStreamInputLosesFramingOnce() {
        SipStreamFramer f = new SipStreamFramer(new SipParser(new SipLimits(1024, 16, 256)), SipStreamFramer.Role.SERVER);
        List<SipStreamFramer.Frame> frames = f.feed(bytes("OPTIONS sip:a@b SIP/2.0\r\nX: " + "y".repeat(2000)));
        SipParseException e = ((SipStreamFramer.Error) frames.get(0)).error();
        assertEquals(513, e.status());
        assertTrue(e.framingLost());
        assertTrue(f.feed(bytes(base(""))).isEmpty(), "a dead framer reads nothing more");
        SipStreamFramer g = new SipStreamFramer(new SipParser(new SipLimits(1024, 16, 256)), SipStreamFramer.Role.SERVER);
        frames = g.feed(bytes(base("").replace("Content-Length: 0", "Content-Length: 100000")));
        assertTrue(((SipStreamFramer.Error) frames.get(0)).error().framingLost());
    }

    // ---- encoding ----

    @Test
    void encoderFixesContentLengthAndBuildersWork() {
        SipRequest r = SipRequest.builder("MESSAGE", SipUri.parse("sip:bob@example.com"))
                .header("Via", Via.of("UDP", "192.0.2.1", 5060, "z9hG4bKb"))
                .header("From", Address.of(SipUri.parse("sip:alice@example.com")).withTag("x"))
                .header("To", Address.of(SipUri.parse("sip:bob@example.com")))
                .header("Call-ID", "b@c").header("CSeq", new CSeq(1, "MESSAGE")).header("Max-Forwards", 70)
                .header("Content-Length", 999)
                .body("text/plain", "héllo").build();
        SipRequest back = (SipRequest) PARSER.parseDatagram(r.encode());
        assertEquals("héllo", back.bodyText());
        assertEquals(6, back.contentLength().getAsLong());
        assertEquals(Optional.of("x"), back.from().tag());
        assertEquals(List.of("6"), back.headers().all("l"));
    }

    @Test
    void headersApi() {
        Headers h = Headers.EMPTY.add("Via", "a").add("To", "t").add("v", "b");
        assertEquals(List.of("a", "b"), h.all("VIA"));
        assertEquals(List.of("x", "a", "b"), h.prepend("Via", "x").all("via"));
        assertEquals(List.of("b"), h.removeFirst("Via").all("Via"));
        assertEquals(List.of("z"), h.set("Via", "z").all("Via"));
        assertEquals("Via", h.set("Via", "z").asList().get(0).name(), "set keeps the position of the first");
        assertFalse(h.remove("via").contains("Via"));
        assertThrows(IllegalArgumentException.class, () -> h.add("Bad Name", "x"));
        assertThrows(IllegalArgumentException.class, () -> h.add("X", "a\r\nInjected: yes"));
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
