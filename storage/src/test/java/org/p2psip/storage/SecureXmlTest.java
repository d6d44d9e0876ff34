package org.p2psip.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

class SecureXmlTest {
    private static final String D = "urn:ietf:params:xml:ns:dht";
    private final SecureXml xml = SecureXml.defaults();

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private Refusal refusal(String doc) {
        return assertThrows(RecordException.class, () -> xml.parse(b(doc))).code();
    }

    @Test
    void acceptsTheDraftsExamplesOnceCorrected() throws Exception {
        Document d = xml.parse(b("<dhtRecord xmlns='" + D + "'><key Id='One'>sip:alice@example.net</key>"
                + "<value Id='Two' expires='2006-12-31T18:00:00Z' nonce='82771583613'><string>sip:alice@192.1.2.3:5060</string></value>"
                + "</dhtRecord>"));
        assertEquals("dhtRecord", d.getDocumentElement().getLocalName());
        xml.parse(b("<dhtRecord xmlns='" + D + "'><key Id='One'><DigestMethod xmlns='http://www.w3.org/2000/09/xmldsig#'"
                + " Algorithm='http://www.w3.org/2000/09/xmldsig#sha1'/><DigestValue xmlns='http://www.w3.org/2000/09/xmldsig#'>"
                + "Y8eVClzbJ8Wk315al7pW6/RZsvM=</DigestValue></key></dhtRecord>"));
        xml.parse(b("<dhtRecord xmlns='" + D + "'><key>sip:bob@example.net</key><value expires='2006-12-31T18:00:00Z' nonce='82771583614'>"
                + "<contacts xmlns='urn:ietf:params:xml:ns:p2p-sip'><contact displayName='Bob Wilson' expires='2006-12-31T18:00:00Z'"
                + " priority='0.5'>sip:bob@192.1.2.3:5060</contact></contacts></value></dhtRecord>"));
        xml.parse(b("<watchers xmlns='urn:ietf:params:xml:ns:p2p-sip'><watcher event='presence' entity='alice@home.com'"
                + " expires='2006-12-31T18:00:00Z'>sip:bob@example.net</watcher></watchers>"));
        xml.parse(b("<dhtService xmlns='" + D + "'><namespace>urn:ietf:params:xml:ns:p2p-sip</namespace><serviceHosts>"
                + "<serviceHost service='presence'>sip:192.1.2.3:5060</serviceHost><serviceHost service='turn'>turn:192.1.2.3:3386</serviceHost>"
                + "</serviceHosts></dhtService>"));
    }

    @Test
    void schemaViolationsAreInvalid() {
        // priority outside the q-value pattern
        assertEquals(Refusal.INVALID, refusal("<contacts xmlns='urn:ietf:params:xml:ns:p2p-sip'><contact priority='1.5'>sip:a@b</contact></contacts>"));
        // unknown element in the dht namespace
        assertEquals(Refusal.INVALID, refusal("<dhtRecord xmlns='" + D + "'><bogus/></dhtRecord>"));
        // expires is not a dateTime
        assertEquals(Refusal.INVALID, refusal("<dhtRecord xmlns='" + D + "'><value expires='tomorrow'/></dhtRecord>"));
        // an unknown root element
        assertEquals(Refusal.INVALID, refusal("<foo/>"));
        // an Id that is not an NCName
        assertEquals(Refusal.INVALID, refusal("<dhtRecord xmlns='" + D + "'><key Id='1 2'>x</key></dhtRecord>"));
    }

    @Test
    void nonAsciiInBase64IsInvalidNotACrash() {
        // JDK 17's Xerces Base64 decoder throws ArrayIndexOutOfBoundsException here (found by RecordFuzzTest)
        assertEquals(Refusal.INVALID, refusal("<dhtRecord xmlns='" + D + "'><key>sip:a@example.net</key><value><base64>AAé=</base64></value></dhtRecord>"));
        assertEquals(Refusal.INVALID, refusal("<dhtRecord xmlns='" + D + "'><key><DigestValue xmlns='http://www.w3.org/2000/09/xmldsig#'>ÿÿÿÿ</DigestValue></key></dhtRecord>"));
    }

    @Test
    void malformedIsRefused() {
        assertEquals(Refusal.MALFORMED, refusal("<dhtRecord xmlns='" + D + "'><key>"));
        assertEquals(Refusal.MALFORMED, refusal("not xml"));
        assertEquals(Refusal.MALFORMED, refusal("<dhtRecord xmlns='" + D + "'><key>&undeclared;</key></dhtRecord>"));
    }

    @Test
    void xxeIsRefused(@TempDir Path dir) throws Exception {
        Path secret = dir.resolve("secret.txt");
        Files.writeString(secret, "TOP-SECRET");
        String doc = "<?xml version='1.0'?><!DOCTYPE dhtRecord [<!ENTITY xxe SYSTEM '" + secret.toUri() + "'>]>"
                + "<dhtRecord xmlns='" + D + "'><key>&xxe;</key></dhtRecord>";
        RecordException e = assertThrows(RecordException.class, () -> xml.parse(b(doc)));
        assertEquals(Refusal.DTD_REFUSED, e.code());
        assertTrue(e.getMessage().startsWith("DTD_REFUSED: "), e.getMessage());
        // also without validation, nothing of the file comes through
        assertEquals(Refusal.DTD_REFUSED, assertThrows(RecordException.class, () -> xml.parseUnvalidated(b(doc))).code());
    }

    @Test
    void externalParameterEntityAndExternalDtdAreRefused() {
        assertEquals(Refusal.DTD_REFUSED, refusal("<!DOCTYPE r [<!ENTITY % p SYSTEM 'http://127.0.0.1:1/x.dtd'> %p;]><r/>"));
        assertEquals(Refusal.DTD_REFUSED, refusal("<!DOCTYPE r SYSTEM 'http://127.0.0.1:1/x.dtd'><r/>"));
        assertEquals(Refusal.DTD_REFUSED, refusal("<!DOCTYPE dhtRecord><dhtRecord xmlns='" + D + "'/>"));
    }

    @Test
    void billionLaughsIsRefused() {
        StringBuilder s = new StringBuilder("<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>");
        s.append("<!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>");
        for (int i = 2; i <= 9; i++) {
            s.append("<!ENTITY lol").append(i).append(" '");
            for (int j = 0; j < 10; j++) {
                s.append("&lol").append(i - 1).append(';');
            }
            s.append("'>");
        }
        s.append("]><dhtRecord xmlns='" + D + "'><key>&lol9;</key></dhtRecord>");
        long t = System.nanoTime();
        assertEquals(Refusal.DTD_REFUSED, refusal(s.toString()));
        assertTrue(System.nanoTime() - t < 2_000_000_000L, "refused quickly");
    }

    @Test
    void deepNestingIsRefused() {
        int depth = SecureXml.DEFAULT_LIMITS.maxDepth() + 1;
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < depth; i++) {
            s.append("<a>");
        }
        for (int i = 0; i < depth; i++) {
            s.append("</a>");
        }
        RecordException e = assertThrows(RecordException.class, () -> xml.parse(b(s.toString())));
        assertEquals(Refusal.TOO_DEEP, e.code(), e.getMessage());
        // a very deep document (stack-overflow style) is refused the same way
        String deep = "<a>".repeat(9_000) + "</a>".repeat(9_000);
        assertEquals(Refusal.TOO_DEEP, refusal(deep));
    }

    @Test
    void oversizedDocumentIsRefusedBeforeParsing() {
        String big = "<dhtRecord xmlns='" + D + "'><key>" + "x".repeat(SecureXml.DEFAULT_LIMITS.maxBytes()) + "</key></dhtRecord>";
        RecordException e = assertThrows(RecordException.class, () -> xml.parse(b(big)));
        assertEquals(Refusal.TOO_LARGE, e.code());
        assertTrue(e.getMessage().contains("exceeds the limit"), e.getMessage());
    }

    @Test
    void tooManyAttributesIsRefused() {
        StringBuilder s = new StringBuilder("<dhtRecord xmlns='" + D + "'><key");
        for (int i = 0; i <= SecureXml.DEFAULT_LIMITS.maxAttributes(); i++) {
            s.append(" a").append(i).append("='v'");
        }
        s.append(">x</key></dhtRecord>");
        RecordException e = assertThrows(RecordException.class, () -> xml.parse(b(s.toString())));
        assertEquals(Refusal.TOO_MANY_ATTRIBUTES, e.code(), e.getMessage());
    }

    @Test
    void limitsAreConfigurable() throws Exception {
        SecureXml small = new SecureXml(new SecureXml.Limits(100, 3, 2));
        assertEquals(Refusal.TOO_DEEP, assertThrows(RecordException.class,
                () -> small.parseUnvalidated(b("<a><b><c><d/></c></b></a>"))).code());
        small.parseUnvalidated(b("<a><b><c/></b></a>"));
        assertEquals(Refusal.TOO_MANY_ATTRIBUTES, assertThrows(RecordException.class,
                () -> small.parseUnvalidated(b("<a x='1' y='2' z='3'/>"))).code());
    }
    /**
     * Parsers are reused per thread without {@code DocumentBuilder.reset()} (which put back the builder's original,
     * non-throwing error handler and dropped the refusing entity resolver after the first parse): a refused document
     * leaves nothing behind, each hostile input is refused with the same code on every parse of the thread, and valid
     * and signed records in between still parse and verify.
     */
    @Test
    void everyParseOfAThreadRefusesAlike() throws Exception {
        java.security.KeyPair kp = TestPki.ec();
        SigningIdentity writer = SigningIdentity.of(kp, java.util.List.of(TestPki.selfSigned("bob@example.net", kp).cert()), "bob@example.net");
        byte[] signed = SignedValues.put(RecordBench.contact(ResourceName.sip("bob@example.net"),
                java.time.Instant.now().plusSeconds(3600), "n1"), writer).data().unsafeArray();
        java.util.Map<String, Refusal> hostile = new java.util.LinkedHashMap<>();
        hostile.put("<!DOCTYPE dhtRecord [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><dhtRecord xmlns='" + D + "'><key>&x;</key></dhtRecord>",
                Refusal.DTD_REFUSED);
        hostile.put("<dhtRecord xmlns='" + D + "'><key>&undeclared;</key></dhtRecord>", Refusal.MALFORMED);
        hostile.put("<dhtRecord xmlns='" + D + "'><key>", Refusal.MALFORMED);
        hostile.put("<a>".repeat(30) + "</a>".repeat(30), Refusal.TOO_DEEP);
        hostile.put("<a b0='' b1='' b2='' b3='' b4='' b5='' b6='' b7='' b8='' b9='' c0='' c1='' c2='' c3='' c4='' c5='' c6=''/>",
                Refusal.TOO_MANY_ATTRIBUTES);
        hostile.put("<dhtRecord xmlns='" + D + "'><bogus/></dhtRecord>", Refusal.INVALID);
        hostile.put("<dhtRecord xmlns='" + D + "'><key>sip:a@example.net</key><value><base64>AA\u00e9=</base64></value></dhtRecord>",
                Refusal.INVALID);
        hostile.put("<dhtRecord xmlns='" + D + "'/><trailing/>", Refusal.MALFORMED);
        java.util.List<String> failures = new java.util.ArrayList<>();
        Thread t = new Thread(() -> {
            try {
                RecordVerifier verifier = new RecordVerifier();
                for (int round = 0; round < 3; round++) {
                    for (var e : hostile.entrySet()) {
                        Refusal got = assertThrows(RecordException.class, () -> xml.parse(b(e.getKey()))).code();
                        if (got != e.getValue()) {
                            failures.add("round " + round + ": " + e.getKey() + " gave " + got + ", expected " + e.getValue());
                        }
                        // a valid and a signed record right after each refusal, on the same parser
                        xml.parse(b("<dhtRecord xmlns='" + D + "'><key>sip:alice@example.net</key></dhtRecord>"));
                        verifier.verify(RecordXml.rootNamed(xml.parse(signed), Namespaces.DHT, "dhtRecord"));
                    }
                }
            } catch (Throwable ex) {
                failures.add(ex.toString());
            }
        });
        t.start();
        t.join(60_000);
        assertTrue(failures.isEmpty(), failures.toString());
    }
}
