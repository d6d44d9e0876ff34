package org.p2psip.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.p2psip.overlay.NodeId;

class ResourceNameTest {
    @Test
    void parsesAndFormatsTheDraftsFiveForms() throws Exception {
        for (String s : new String[] {"sip:bob@example.net", "certificate:bob@example.net", "private:bob@example.net:s3cr3t:with:colons",
                "subscribe:presence:bob@example.net", "offline:bob@example.net"}) {
            ResourceName n = ResourceName.parse(s);
            assertEquals(s, n.format());
            assertEquals(NodeId.ofName(s), n.key());
            assertEquals("bob@example.net", n.user());
            assertEquals("example.net", n.domain());
        }
        ResourceName p = ResourceName.parse("private:bob@example.net:s3cr3t:with:colons");
        assertEquals("s3cr3t:with:colons", p.secret());
        assertFalse(p.toString().contains("s3cr3t"), "toString hides the secret");
        ResourceName w = ResourceName.parse("subscribe:presence:bob@example.net");
        assertEquals("presence", w.event());
        assertEquals(ResourceName.Kind.SUBSCRIBE, w.kind());
        assertFalse(w.kind().ownedByUser());
        assertTrue(ResourceName.sip("bob@example.net").kind().ownedByUser());
    }

    @Test
    void factoriesMatchParsing() throws Exception {
        assertEquals(ResourceName.parse("sip:bob@example.net"), ResourceName.sip("bob@example.net"));
        assertEquals(ResourceName.parse("certificate:bob@example.net"), ResourceName.certificate("bob@example.net"));
        assertEquals(ResourceName.parse("private:bob@example.net:x"), ResourceName.privateData("bob@example.net", "x"));
        assertEquals(ResourceName.parse("subscribe:presence:bob@example.net"), ResourceName.subscribe("presence", "bob@example.net"));
        assertEquals(ResourceName.parse("offline:bob@example.net"), ResourceName.offline("bob@example.net"));
    }

    @Test
    void hostIsCanonicallyLowerCase() throws Exception {
        ResourceName n = ResourceName.parse("sip:Bob@Example.NET");
        assertEquals("sip:Bob@example.net", n.format());
        assertEquals(NodeId.ofName("sip:Bob@example.net"), n.key());
    }

    @Test
    void refusesEverythingElse() {
        for (String s : new String[] {"", "bob@example.net", "http://example.net/", "sip:", "sip:bob", "sip:bob@", "sip:bob@exa mple.net",
                "sip:bob@example.net:5060", "private:bob@example.net", "private:bob@example.net:", "subscribe:bob@example.net",
                "subscribe::bob@example.net", "offline:<script>@x", "sip:" + "a".repeat(600) + "@x"}) {
            RecordException e = assertThrows(RecordException.class, () -> ResourceName.parse(s), s);
            assertEquals(Refusal.BAD_NAME, e.code());
            assertTrue(e.getMessage().startsWith("BAD_NAME"), e.getMessage());
        }
    }
}
