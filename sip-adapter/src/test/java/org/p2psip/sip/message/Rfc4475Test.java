package org.p2psip.sip.message;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 4475: valid messages parse with the right values; invalid ones are refused as the RFC expects. */
class Rfc4475Test {
    static final SipParser PARSER = new SipParser();

    static SipMessage parse(String dir, String name) {
        return PARSER.parseDatagram(Rfc4475.load(dir, name));
    }

    static SipRequest request(String dir, String name) {
        return assertInstanceOf(SipRequest.class, parse(dir, name));
    }

    static SipUri sip(Uri u) {
        return assertInstanceOf(SipUri.class, u);
    }

    // ---- 3.1.1 valid messages ----

    @Test
    void wsinv() {
        SipRequest r = request("valid", "wsinv");
        assertEquals("INVITE", r.method());
        SipUri ruri = sip(r.requestUri());
        assertEquals("vivekg", ruri.user().orElseThrow());
        assertEquals("chair-dnrc.example.com", ruri.host());
        assertEquals(-1, ruri.port());
        assertEquals(Optional.of(""), ruri.param("unknownparam"));
        assertEquals(Optional.of("1918181833n"), r.to().tag());
        assertTrue(r.to().display().isEmpty());
        assertEquals("sip:vivekg@chair-dnrc.example.com", r.to().uri().toString());
        assertEquals("J Rosenberg \\\"", r.from().displayName());
        assertEquals(Optional.of("98asjd8"), r.from().tag());
        assertEquals(68, r.maxForwards().getAsInt());
        assertEquals("wsinv.ndaksdj@192.0.2.1", r.callId());
        assertEquals(150, r.contentLength().getAsLong());
        assertEquals(150, r.bodyLength());
        assertEquals(new CSeq(9, "INVITE"), r.cseq());
        List<Via> vias = r.vias();
        assertEquals(3, vias.size());
        assertEquals("UDP", vias.get(0).transport());
        assertEquals("192.0.2.2", vias.get(0).host());
        assertEquals(Optional.of("390skdjuw"), vias.get(0).branch());
        assertFalse(vias.get(0).hasRfc3261Branch());
        assertEquals("TCP", vias.get(1).transport());
        assertEquals("spindle.example.com", vias.get(1).host());
        assertEquals(Optional.of("z9hG4bK9ikj8"), vias.get(1).branch());
        assertTrue(vias.get(1).hasRfc3261Branch());
        assertEquals("192.168.255.111", vias.get(2).host());
        assertEquals(Optional.of("z9hG4bK30239"), vias.get(2).branch());
        assertEquals(Optional.of(""), r.headers().first("Subject"));
        assertEquals(Optional.of(""), r.headers().first("s"));
        assertEquals(Optional.of("newfangled value continued newfangled value"), r.headers().first("newfangledheader"));
        assertEquals(Optional.of(";;,,;;,;"), r.headers().first("UnknownHeaderWithUnusualValue"));
        assertEquals(Optional.of("application/sdp"), r.contentType());
        Address route = r.routes().get(0);
        SipUri ru = sip(route.uri());
        assertEquals("services.example.com", ru.host());
        assertTrue(ru.looseRouting());
        assertEquals(Optional.of("value"), ru.param("unknownwith"));
        assertEquals(Optional.of(""), ru.param("unknown-no-value"));
        List<Contact> contacts = r.contacts();
        assertEquals(1, contacts.size());
        Address c = contacts.get(0).address();
        assertEquals("Quoted string \"\"", c.displayName());
        assertEquals("sip:jdrosen@example.com", c.uri().toString());
        assertEquals(Optional.of("newvalue"), c.params().get("newparam"));
        assertTrue(c.params().has("secondparam"));
        assertEquals(Optional.of(new BigDecimal("0.33")), contacts.get(0).q());
        assertTrue(r.bodyText().startsWith("v=0\r\n") && r.bodyText().endsWith("a=rtpmap:31 LPC\r\n"));
        assertTrue(SipValidator.checkForUas(r, Set.of()).isEmpty());
    }

    @Test
    void intmeth() {
        SipRequest r = request("valid", "intmeth");
        String method = "!interesting-Method0123456789_*+`.%indeed'~";
        assertEquals(method, r.method());
        assertEquals(method, r.cseq().method());
        assertEquals(139122385, r.cseq().number());
        SipUri u = sip(r.requestUri());
        assertEquals("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", u.user().orElseThrow());
        assertEquals("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)", u.password().orElseThrow());
        assertEquals("example.com", u.host());
        assertEquals(Optional.of("z9hG4bK-.!%66*_+`'~"), r.topVia().branch());
        assertEquals("BEL:\u0007 NUL:\u0000 DEL:\u007f", r.to().displayName());
        assertEquals("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", sip(r.to().uri()).user().orElseThrow());
        assertEquals("token1~` token2'+_ token3*%!.-", r.from().displayName());
        assertEquals(Optional.of("работающий"), r.from().params().unquoted("fromParam''~+*_!.-%"));
        assertEquals(Optional.of("_token~1'+`*%!-."), r.from().tag());
        assertEquals("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{", r.callId());
        assertEquals(255, r.maxForwards().getAsInt());
        assertEquals(Optional.of("\uFEFF大停電"), r.headers().first("extensionHeader-!.%*+_`'~"));
        // An endpoint does not know the method: 501 is the UAS's business; the message itself is fine.
        assertTrue(SipValidator.checkForUas(r, Set.of()).isEmpty());
    }

    @Test
    void esc01() {
        SipRequest r = request("valid", "esc01");
        SipUri u = sip(r.requestUri());
        assertEquals("sips:user@example.com", u.user().orElseThrow());
        assertEquals("example.net", u.host());
        assertEquals(SipUri.parse("sip:user@example.com"), r.to().uri());
        assertEquals("I have spaces", sip(r.from().uri()).user().orElseThrow());
        assertEquals("esc01.239409asdfakjkn23onasd0-3234", r.callId());
        assertEquals(Optional.of("application/sdp"), r.contentType());
        SipUri contact = sip(r.contacts().get(0).address().uri());
        assertEquals("caller", contact.user().orElseThrow());
        assertTrue(contact.looseRouting());
        assertEquals(Optional.of("value%41"), contact.param("name"));
        assertEquals(SipUri.parse("sip:caller@host5.example.net;lr;name=value%2541"), contact);
        assertEquals(150, r.bodyLength());
    }

    @Test
    void escnull() {
        SipRequest r = request("valid", "escnull");
        assertEquals("null-\u0000-null", sip(r.to().uri()).user().orElseThrow());
        assertEquals("null-\u0000-null", sip(r.from().uri()).user().orElseThrow());
        List<Contact> contacts = r.contacts();
        assertEquals(2, contacts.size());
        assertEquals("\u0000", sip(contacts.get(0).address().uri()).user().orElseThrow());
        assertEquals("\u0000\u0000", sip(contacts.get(1).address().uri()).user().orElseThrow());
        assertEquals(0, r.contentLength().getAsLong());
        // The escaped NUL survives re-encoding.
        assertEquals("sip:%00@host5.example.com", SipUri.of("\u0000", "host5.example.com", -1).toString());
    }

    @Test
    void esc02() {
        SipRequest r = request("valid", "esc02");
        assertEquals("RE%47IST%45R", r.method()); // % is not an escape in a method: this is not REGISTER
        assertFalse(r.isMethod(SipRequest.REGISTER));
        assertEquals("%Z%45", r.to().displayName());
        assertEquals("%Z%45", r.from().displayName());
        Via v = r.topVia();
        assertTrue(v.hasRport());
        assertTrue(v.rport().isEmpty());
        assertEquals(Optional.of("z9hG4bK209%fzsnel234"), v.branch());
        List<String> hosts = r.contacts().stream().map(c -> sip(c.address().uri()).host()).toList();
        assertEquals(List.of("host1.example.com", "host3.example.com"), hosts);
        assertEquals(Optional.of("<sip:alias2@host2.example.com>"), r.headers().first("C%6Fntact"));
    }

    @Test
    void lwsdisp() {
        SipRequest r = request("valid", "lwsdisp");
        assertEquals("caller", r.from().displayName());
        assertEquals("sip:caller@example.com", r.from().uri().toString());
        assertEquals(Optional.of("323"), r.from().tag());
    }

    @Test
    void longreq() {
        SipRequest r = request("valid", "longreq");
        assertEquals("I have a user name of " + "extreme".repeat(10) + " proportion", r.to().displayName());
        SipUri to = sip(r.to().uri());
        assertEquals(6000, to.port());
        assertEquals(Optional.of("very" + "long".repeat(20) + "value"), to.param("unknownparam1"));
        assertEquals(Optional.of("shortvalue"), to.param("longparam" + "name".repeat(25)));
        assertEquals(Optional.of(""), to.param("very" + "long".repeat(25) + "ParameterNameWithNoValue"));
        assertEquals(Optional.of("12" + "982".repeat(50) + "424"), r.from().tag());
        assertEquals("amazinglylongcallername".repeat(5), sip(r.from().uri()).user().orElseThrow());
        assertEquals("longreq.one" + "really".repeat(20) + "longcallid", r.callId());
        assertEquals(34, r.vias().size());
        assertEquals("sip33.example.com", r.vias().get(0).host());
        assertEquals("sip1.example.com", r.vias().get(32).host());
        Via last = r.vias().get(33);
        assertEquals(Optional.of("192.0.2.5"), last.received());
        assertEquals(Optional.of("z9hG4bKvery" + "long".repeat(50) + "branchvalue"), last.branch());
        assertTrue(r.headers().contains("Unknown-" + "Long".repeat(20) + "-Name"));
        assertEquals("amazinglylongcallername".repeat(5),
                sip(r.contacts().get(0).address().uri()).user().orElseThrow());
        assertEquals(150, r.bodyLength());
    }

    @Test
    void dblreqOverUdpKeepsTheFirstRequestAndDropsTheRest() {
        SipRequest r = request("valid", "dblreq");
        assertEquals("REGISTER", r.method());
        assertEquals("dblreq.0ha0isndaksdj99sdfafnl3lk233412", r.callId());
        assertEquals(0, r.bodyLength());
        assertEquals("sip:j.user@host.example.com", r.contacts().get(0).address().uri().toString());
    }

    @Test
    void dblreqOverAStreamIsTwoRequests() {
        SipStreamFramer f = new SipStreamFramer(PARSER, SipStreamFramer.Role.SERVER);
        List<SipStreamFramer.Frame> frames = f.feed(Rfc4475.load("valid", "dblreq"));
        List<String> methods = frames.stream().map(x -> ((SipRequest) ((SipStreamFramer.Message) x).message()).method())
                .toList();
        assertEquals(List.of("REGISTER", "INVITE"), methods);
        assertEquals(0, f.buffered());
    }

    @Test
    void semiuri() {
        SipRequest r = request("valid", "semiuri");
        SipUri u = sip(r.requestUri());
        assertEquals("user;par=u@example.net", u.user().orElseThrow());
        assertEquals("example.com", u.host());
        assertTrue(u.params().isEmpty());
        assertEquals(List.of("application/sdp", "application/pkcs7-mime", "multipart/mixed", "multipart/signed",
                "message/sip", "message/sipfrag"), r.headers().all("Accept"));
    }

    @Test
    void transports() {
        SipRequest r = request("valid", "transports");
        assertEquals(List.of("UDP", "SCTP", "TLS", "UNKNOWN", "TCP"), r.vias().stream().map(Via::transport).toList());
        assertEquals("transports.kijh4akdnaqjkwendsasfdj", r.callId().strip());
    }

    @Test
    void mpart01() {
        SipRequest r = request("valid", "mpart01");
        assertEquals("MESSAGE", r.method());
        assertEquals(Optional.of("multipart/mixed;boundary=7a9cbec02ceef655"), r.contentType());
        assertTrue(r.topVia().hasRport());
        assertEquals(284, r.bodyLength());
        byte[] body = r.body();
        assertTrue(new String(body, StandardCharsets.ISO_8859_1).endsWith("--7a9cbec02ceef655--\r\n"));
        assertTrue(indexOf(body, new byte[] {0x0d, 0x0a, 0x00, 0x0d, 0x0a}) > 0, "binary part kept byte for byte");
        assertTrue(r.headers().first("Identity").orElseThrow().startsWith("r5mwreLuyDRYBi/0TiPwEsY3rEVsk"));
        assertTrue(SipValidator.checkForUas(r, Set.of()).isEmpty(), "its Date is a valid GMT date");
    }

    @Test
    void unreason() {
        SipResponse s = assertInstanceOf(SipResponse.class, parse("valid", "unreason"));
        assertEquals(200, s.status());
        assertEquals("= 2**3 * 5**2 но сто девяносто девять - простое", s.reason());
        assertEquals(154, s.bodyLength());
    }

    @Test
    void noreason() {
        SipResponse s = assertInstanceOf(SipResponse.class, parse("valid", "noreason"));
        assertEquals(100, s.status());
        assertEquals("", s.reason());
        assertEquals(Optional.of("902jndnke3"), s.to().tag());
    }

    @ParameterizedTest
    @ValueSource(strings = {"wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp", "longreq", "dblreq", "semiuri",
        "transports", "mpart01", "unreason", "noreason"})
    void validMessagesSurviveEncodeAndReparse(String name) {
        SipMessage m = parse("valid", name);
        SipMessage again = PARSER.parseDatagram(m.encode());
        assertEquals(m.headers().remove("Content-Length"), again.headers().remove("Content-Length"));
        assertArrayEquals(m.body(), again.body());
        assertEquals(m.vias(), again.vias());
        assertEquals(m.from(), again.from());
        assertEquals(m.to(), again.to());
        assertEquals(m.cseq(), again.cseq());
        if (m instanceof SipRequest r) {
            assertEquals(r.requestUri(), ((SipRequest) again).requestUri());
        }
    }

    // ---- 3.1.2 invalid messages ----

    /** Requests the parser refuses, the status and a word of the reason the server answers with. */
    @ParameterizedTest(name = "{0} -> {1} {2}")
    @CsvSource({
        "badinv01, 400, Bad",
        "clerr, 400, Content-Length larger",
        "ncl, 400, Content-Length",
        "scalar02, 400, CSeq",
        "quotbal, 400, quoted string",
        "ltgtruri, 400, URI",
        "lwsruri, 400, Request-Line",
        "lwsstart, 400, Request-Line",
        "trws, 400, Request-Line",
        "escruri, 400, Request-URI must not contain headers",
        "badaspec, 400, whitespace inside <>",
        "baddn, 400, display name",
        "badvers, 505, Version Not Supported",
        "mismatch01, 400, CSeq method",
        "mismatch02, 400, CSeq method",
    })
    void invalidRequestsAreAnswered(String name, int status, String reasonPart) {
        SipParseException e = assertThrows(SipParseException.class, () -> parse("invalid", name));
        assertEquals(status, e.status(), e.reason());
        assertTrue(e.reason().contains(reasonPart), e.reason());
        SipRequest partial = e.answerable().orElseThrow(() -> new AssertionError(name + " should be answerable"));
        SipResponse answer = SipResponse.forRequest(partial, e.status(), e.reason());
        assertFalse(answer.headers().all("Via").isEmpty());
        assertTrue(answer.toString().startsWith("SIP/2.0 " + status + " "));
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalarlg", "bigcode"})
    void invalidResponsesAreDropped(String name) {
        SipParseException e = assertThrows(SipParseException.class, () -> parse("invalid", name));
        assertTrue(e.answerable().isEmpty());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "baddate, Bad Date",
        "regbadct, must be enclosed in <>",
    })
    void errorsInHeadersAProxyNeedNotReadAreFoundByTheUasChecks(String name, String reasonPart) {
        SipRequest r = request("invalid", name); // a proxy may forward it unchanged
        SipValidator.Rejection rej = SipValidator.checkForUas(r, Set.of()).orElseThrow();
        assertEquals(400, rej.status());
        assertTrue(rej.reason().contains(reasonPart), rej.reason());
    }

    @Test
    void clerrOverAStreamWaitsForTheMissingOctets() {
        SipStreamFramer f = new SipStreamFramer(PARSER, SipStreamFramer.Role.SERVER);
        assertTrue(f.feed(Rfc4475.load("invalid", "clerr")).isEmpty());
        assertTrue(f.buffered() > 0);
    }

    @Test
    void nclOverAStreamLosesTheFraming() {
        SipStreamFramer f = new SipStreamFramer(PARSER, SipStreamFramer.Role.SERVER);
        List<SipStreamFramer.Frame> frames = f.feed(Rfc4475.load("invalid", "ncl"));
        SipParseException e = ((SipStreamFramer.Error) frames.get(0)).error();
        assertTrue(e.framingLost());
        assertTrue(e.answerable().isPresent());
    }

    // ---- 3.2, 3.3, 3.4: transaction and application layer ----

    @Test
    void badbranchParsesButHasNoRfc3261TransactionId() {
        SipRequest r = request("semantic", "badbranch");
        assertEquals(Optional.of("z9hG4bK"), r.topVia().branch());
        assertFalse(r.topVia().hasRfc3261Branch());
    }

    @Test
    void insufIsAnswered400() {
        SipParseException e = assertThrows(SipParseException.class, () -> parse("semantic", "insuf"));
        assertEquals(400, e.status());
        assertTrue(e.reason().startsWith("Missing"), e.reason());
        assertTrue(e.answerable().isPresent());
    }

    @ParameterizedTest
    @ValueSource(strings = {"multi01", "mcl01"})
    void multipleSingleValueHeadersAre400(String name) {
        SipParseException e = assertThrows(SipParseException.class, () -> parse("semantic", name));
        assertEquals(400, e.status());
        assertTrue(e.reason().startsWith("Multiple"), e.reason());
        assertTrue(e.answerable().isPresent());
    }

    @ParameterizedTest
    @CsvSource({"unkscm, nobodyknowsthisscheme", "novelsc, soap.beep"})
    void unknownRequestUriSchemesParseAndGet416(String name, String scheme) {
        SipRequest r = request("semantic", name);
        assertEquals(scheme, assertInstanceOf(GenericUri.class, r.requestUri()).scheme());
        assertEquals(416, SipValidator.checkForUas(r, Set.of()).orElseThrow().status());
    }

    @Test
    void unksm2() {
        SipRequest r = request("semantic", "unksm2");
        assertEquals("isbn", r.to().uri().scheme());
        assertEquals("2983792873", ((GenericUri) r.to().uri()).schemeSpecificPart());
        assertEquals("http", r.from().uri().scheme());
        assertEquals("name:John_Smith", r.contacts().get(0).address().uri().toString());
        assertEquals(400, SipValidator.checkForUas(r, Set.of()).orElseThrow().status(), "a registrar refuses it");
    }

    @Test
    void bext01() {
        SipRequest r = request("semantic", "bext01");
        SipValidator.Rejection rej = SipValidator.checkForUas(r, Set.of("timer")).orElseThrow();
        assertEquals(420, rej.status());
        assertEquals(List.of("nothingSupportsThis", "nothingSupportsThisEither"), rej.unsupported());
        assertEquals(List.of("noProxiesSupportThis", "norDoAnyProxiesSupportThis"),
                SipValidator.unsupported(r.headers().all("Proxy-Require"), Set.of()));
        assertEquals("TLS", r.topVia().transport());
    }

    @Test
    void invutAndSdp01ParseForTheUasToRefuse() {
        SipRequest invut = request("semantic", "invut");
        assertEquals(Optional.of("application/unknownformat"), invut.contentType());
        assertEquals(40, invut.bodyLength());
        SipRequest sdp01 = request("semantic", "sdp01");
        assertEquals(List.of("text/nobodyKnowsThis"), sdp01.headers().all("Accept"));
    }

    @Test
    void regaut01KeepsTheUnknownAuthorizationWhole() {
        SipRequest r = request("semantic", "regaut01");
        assertEquals(List.of("NoOneKnowsThisScheme opaque-data=here"), r.headers().all("Authorization"));
    }

    @Test
    void bcastParses() {
        SipResponse s = assertInstanceOf(SipResponse.class, parse("semantic", "bcast"));
        assertEquals("255.255.255.255", s.vias().get(1).host());
    }

    @Test
    void zeromf() {
        SipRequest r = request("semantic", "zeromf");
        assertEquals(0, r.maxForwards().getAsInt());
    }

    @Test
    void cparam01ParamIsAContactParameter() {
        Contact c = request("semantic", "cparam01").contacts().get(0);
        assertEquals("sip:+19725552222@gw1.example.net", c.address().uri().toString());
        assertTrue(c.address().params().has("unknownparam"));
        assertTrue(sip(c.address().uri()).params().isEmpty());
    }

    @Test
    void cparam02ParamIsAUriParameter() {
        Contact c = request("semantic", "cparam02").contacts().get(0);
        assertTrue(sip(c.address().uri()).hasParam("unknownparam"));
        assertTrue(c.address().params().isEmpty());
    }

    @Test
    void regescrt() {
        SipRequest r = request("semantic", "regescrt");
        SipUri u = sip(r.contacts().get(0).address().uri());
        assertEquals("<sip:sip.example.com>", u.headers().get("Route"));
        assertTrue(SipValidator.checkForUas(r, Set.of()).isEmpty());
    }

    @Test
    void inv2543() {
        SipRequest r = request("semantic", "inv2543");
        assertTrue(r.topVia().branch().isEmpty());
        assertTrue(r.from().tag().isEmpty());
        assertTrue(r.maxForwards().isEmpty());
        assertTrue(r.contentLength().isEmpty());
        // In an addr-spec (no <>) everything after the first ';' is a header parameter (RFC 3261 §20.10).
        assertEquals(Optional.of("phone"), r.to().params().get("user"));
        assertEquals(Optional.of("phone"), sip(r.from().uri()).param("user"));
        assertEquals(Optional.of("ss1.example.com"), sip(r.recordRoutes().get(0).uri()).param("maddr"));
        assertTrue(r.bodyText().endsWith("m=audio 49217 RTP/AVP 0\r\n"));
    }

    @Test
    void everyResourceIsCovered() {
        Set<String> tested = Set.of("wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp", "longreq", "dblreq",
                "semiuri", "transports", "mpart01", "unreason", "noreason", "badinv01", "clerr", "ncl", "scalar02",
                "scalarlg", "quotbal", "ltgtruri", "lwsruri", "lwsstart", "trws", "escruri", "baddate", "regbadct",
                "badaspec", "baddn", "badvers", "mismatch01", "mismatch02", "bigcode", "badbranch", "insuf", "unkscm",
                "novelsc", "unksm2", "bext01", "invut", "regaut01", "multi01", "mcl01", "bcast", "zeromf", "cparam01",
                "cparam02", "regescrt", "sdp01", "inv2543");
        assertEquals(49, tested.size());
        for (String dir : List.of("valid", "invalid", "semantic")) {
            java.io.File d = new java.io.File(Rfc4475.class.getResource("/rfc4475/" + dir).getFile());
            Set<String> files = java.util.Arrays.stream(d.list()).map(f -> f.replace(".dat", ""))
                    .collect(Collectors.toSet());
            assertTrue(tested.containsAll(files), dir + ": " + files);
        }
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
