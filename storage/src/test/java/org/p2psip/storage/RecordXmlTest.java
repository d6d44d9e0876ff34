package org.p2psip.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.w3c.dom.Element;

class RecordXmlTest {
    private static final Instant EXP = Instant.parse("2030-12-31T18:00:00Z");
    private static final ResourceName BOB = ResourceName.sip("bob@example.net");

    private static DhtRecord roundTrip(DhtRecord r) throws RecordException {
        return RecordXml.parseRecord(RecordXml.toBytes(r));
    }

    @Test
    void contactsWithTheProxyExtensionRoundTrip() throws Exception {
        Contact c = new Contact("sip:bob@192.168.1.5:5060;transport=tcp;ob", "c1", "sip:bob@example.net", "Bob \"B\" <Wilson> & co",
                Instant.parse("2030-01-01T00:00:00Z"), "0.8", ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1",
                List.of("sip:a1b2@10.0.0.7:5062;lr", "sip:superpeer-a1@203.0.113.9:5062;lr"), "0123456789abcdef0123456789abcdef01234567");
        DhtRecord r = DhtRecord.of(BOB, EXP, "82771583614", new ValueContent.Contacts(List.of(c, Contact.of("sip:bob@192.1.2.3:5060"))));
        DhtRecord back = roundTrip(r);
        assertEquals(r, back);
        assertEquals(BOB.key(), back.key().dhtKey());
        assertEquals(BOB, back.key().resourceName());
    }

    @Test
    void draftsContactExampleParses() throws Exception {
        String doc = "<dhtRecord xmlns='urn:ietf:params:xml:ns:dht'><key>sip:bob@example.net</key>"
                + "<value expires='2006-12-31T18:00:00Z' nonce='82771583614'>\n <contacts xmlns='urn:ietf:params:xml:ns:p2p-sip'>\n"
                + "  <contact displayName='Bob Wilson' expires='2006-12-31T18:00:00Z'>sip:bob@192.1.2.3:5060</contact>\n </contacts>\n</value>"
                + "</dhtRecord>";
        DhtRecord r = RecordXml.parseRecord(doc.getBytes(StandardCharsets.UTF_8));
        ValueContent.Contacts cs = assertInstanceOf(ValueContent.Contacts.class, r.value().content());
        assertEquals("Bob Wilson", cs.contacts().get(0).displayName());
        assertEquals("sip:bob@192.1.2.3:5060", cs.contacts().get(0).uri());
        assertEquals(Instant.parse("2006-12-31T18:00:00Z"), r.value().expires());
        assertNull(r.key().id());
    }

    @Test
    void otherContentsRoundTrip() throws Exception {
        for (ValueContent c : List.of(new ValueContent.Text("sip:alice@192.1.2.3:5060 & <more>"),
                new ValueContent.Binary(Bytes.wrap(new byte[] {0, 1, 2, (byte) 255})),
                new ValueContent.Digest(Namespaces.DIGEST_SHA256, Bytes.wrap(new byte[32])),
                new ValueContent.Watchers(List.of(new Watcher("sip:bob@example.net", null, "presence", "alice@home.com", EXP))))) {
            DhtRecord r = DhtRecord.of(BOB, EXP, "n1", c);
            assertEquals(r, roundTrip(r), c.toString());
        }
    }

    @Test
    void certificateValueRoundTrips() throws Exception {
        TestPki.Ca ca = TestPki.ca("Test CA", TestPki.ec());
        TestPki.Credential bob = ca.issue("bob@example.net", TestPki.ec(), TestPki.email("bob@example.net"));
        ValueContent.Certificates c = new ValueContent.Certificates("CN=bob@example.net,O=P2P Inc.,C=US", List.of(bob.cert(), ca.cert()));
        DhtRecord back = roundTrip(DhtRecord.of(ResourceName.certificate("bob@example.net"), EXP, "c", c));
        assertEquals(c, back.value().content());
    }

    @Test
    void digestKeyRoundTrips() throws Exception {
        ResourceName p = ResourceName.privateData("bob@example.net", "secret");
        DhtRecord r = new DhtRecord(null, RecordKey.digestOf("k", p), new RecordValue("v", EXP, "n", null, new ValueContent.Binary(Bytes.utf8("x"))));
        DhtRecord back = roundTrip(r);
        assertEquals(r, back);
        assertEquals(p.key(), back.key().dhtKey());
        assertEquals(Refusal.BAD_NAME, assertThrows(RecordException.class, () -> back.key().resourceName()).code());
    }

    @Test
    void serviceRoundTrips() throws Exception {
        DhtService s = new DhtService(Namespaces.P2P_SIP, null, "0123456789abcdef0123456789abcdef01234567",
                List.of(new DhtService.ServiceHost("presence", "sip:192.1.2.3:5060", null),
                        new DhtService.ServiceHost("turn", "turn:192.1.2.3:3386", "t1"),
                        new DhtService.ServiceHost("stun", "stun:192.1.2.3:3478", null)));
        assertEquals(s, RecordXml.parseService(RecordXml.toXml(s).getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void dhtRecordsListHoldsRecords() throws Exception {
        String a = RecordXml.toXml(DhtRecord.of(BOB, EXP, "a", new ValueContent.Text("one")));
        String b = RecordXml.toXml(new DhtRecord(null, new RecordKey(null, "sip:bob@example.net", null),
                new RecordValue(null, EXP, "b", null, new ValueContent.Text("two"))));
        String list = RecordXml.dhtRecords(List.of(a, b));
        Element root = RecordXml.rootNamed(SecureXml.defaults().parse(list.getBytes(StandardCharsets.UTF_8)), Namespaces.DHT, "dhtRecords");
        List<Element> recs = RecordXml.recordElements(root);
        assertEquals(2, recs.size());
        assertEquals(new ValueContent.Text("two"), RecordXml.readRecord(recs.get(1)).value().content());
    }

    @Test
    void refusesWhatTheSchemaCannotSay() {
        assertEquals(Refusal.BAD_RECORD, assertThrows(RecordException.class, () -> RecordXml.parseRecord(
                "<dhtRecord xmlns='urn:ietf:params:xml:ns:dht'><key>sip:a@b<string>x</string></key></dhtRecord>".getBytes(StandardCharsets.UTF_8))).code());
        // an expiry without a time zone
        assertEquals(Refusal.BAD_RECORD, assertThrows(RecordException.class, () -> RecordXml.parseRecord(
                "<dhtRecord xmlns='urn:ietf:params:xml:ns:dht'><value expires='2030-01-01T00:00:00'/></dhtRecord>".getBytes(StandardCharsets.UTF_8))).code());
        assertEquals(Refusal.BAD_RECORD, assertThrows(RecordException.class, () -> RecordXml.parseRecord(
                "<dhtService xmlns='urn:ietf:params:xml:ns:dht'/>".getBytes(StandardCharsets.UTF_8))).code());
        assertThrows(IllegalArgumentException.class, () -> RecordXml.toXml(DhtRecord.of(BOB, EXP, "n", new ValueContent.Text("bell\u0007"))));
    }
}
