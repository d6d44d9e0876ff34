package org.p2psip.sip.registrar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.p2psip.storage.Contact;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.RecordXml;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.ValueContent;

/** A binding survives the trip through the draft's contact record (and its XML) unchanged. */
class SignedContactStoreTest {
    static final String AOR = "sip:bob@p2p.test";

    @Test
    void bindingRoundTripsThroughTheContactRecord() throws Exception {
        ContactBinding b = new ContactBinding(AOR,
                "\"Bob \\\"B\\\"\" <sip:bob@10.0.0.1:5062;transport=tcp>;+sip.instance=\"<urn:uuid:1>\";reg-id=1;q=0.7",
                "0.7", "sip:127.0.0.1:5070;lr", List.of("<sip:10.0.0.9:5060;lr>", "<sip:10.0.0.8;lr>"), 1_800_000_000_000L);
        Contact c = SignedContactStore.toRecord(b);
        assertEquals("sip:bob@10.0.0.1:5062;transport=tcp", c.uri());
        assertEquals(List.of("sip:127.0.0.1:5070;lr", "sip:10.0.0.9:5060;lr", "sip:10.0.0.8;lr"), c.path());
        assertEquals("0.7", c.priority());

        // through the XML the signature covers, and back
        DhtRecord rec = DhtRecord.of(ResourceName.sip("bob@p2p.test"), Instant.ofEpochMilli(b.expiresAtMillis()), "n",
                new ValueContent.Contacts(List.of(c)));
        DhtRecord read = RecordXml.parseRecord(RecordXml.toBytes(rec));
        Contact back = ((ValueContent.Contacts) read.value().content()).contacts().get(0);
        ContactBinding again = SignedContactStore.fromRecord(AOR, back, b.expiresAtMillis());
        assertEquals(b, again);
    }

    @Test
    void contactsWithoutAPeerOrWithABadUriAreNotBindings() {
        assertNull(SignedContactStore.fromRecord(AOR, Contact.of("sip:bob@10.0.0.1"), 1));
        assertNull(SignedContactStore.fromRecord(AOR, new Contact("sip:bob@10.0.0.1>;x", null, null, null, null, null,
                null, List.of("sip:127.0.0.1:5070;lr"), null), 1));
    }
}
