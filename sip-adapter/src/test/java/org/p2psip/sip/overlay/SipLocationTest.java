package org.p2psip.sip.overlay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.NodeId;
import org.p2psip.sip.message.SipUri;

/** The overlay location in peer URIs: written, read back, hostile values refused, and which hops need the overlay. */
class SipLocationTest {
    final Random rnd = new Random(5);
    final NodeId a = NodeId.random(rnd);
    final NodeId b = NodeId.random(rnd);

    @Test
    void aLocationRoundTripsThroughAPeerUri() {
        SipLocation leaf = new SipLocation("198.51.100.23", List.of(a, b), new InetSocketAddress("127.0.0.1", 5060));
        SipUri uri = SipUri.parse("sip:198.51.100.205:5060;lr" + leaf.uriParams());
        SipLocation read = SipLocation.of(uri).orElseThrow();
        assertEquals("198.51.100.23", read.site());
        assertEquals(List.of(a, b), read.gateways());
        assertTrue(read.routesItself(), "what a URI names has no outbound");
        assertEquals("", SipLocation.DIRECT.uriParams(), "a peer reached directly writes nothing");
        assertEquals("", new SipLocation(null, List.of(a), null).uriParams(), "no site, nothing written");
        SipUri v6 = SipUri.parse("sip:[2001:db8::1]:5060;lr" + new SipLocation("2001:db8::9", List.of(a), null)
                .uriParams());
        assertEquals("2001:db8::9", SipLocation.of(v6).orElseThrow().site());
    }

    @Test
    void malformedLocationsAreOrdinaryUris() {
        String hex = a.toHex();
        for (String params : List.of(";p2p-site=x", ";p2p-node=" + hex, ";p2p-site=x;p2p-node=zz",
                ";p2p-site=x;p2p-node=" + hex.substring(2), ";p2p-site=x;p2p-node=" + hex + "." + hex + "." + hex
                        + "." + hex + "." + hex, ";p2p-site=x;p2p-node=" + hex + ".", ";p2p-site=a%2Cb;p2p-node=" + hex,
                ";p2p-site=" + "s".repeat(65) + ";p2p-node=" + hex, ";p2p-site;p2p-node=" + hex)) {
            SipUri u = SipUri.parse("sip:192.0.2.1:5060;lr" + params);
            assertTrue(SipLocation.of(u).isEmpty(), params);
        }
        assertThrows(IllegalArgumentException.class, () -> new SipLocation("bad site", List.of(a), null));
    }

    @Test
    void onlyAnotherSitesPeerNeedsTheOverlay() {
        SipLocation home = new SipLocation("198.51.100.21", List.of(a), null);
        SipLocation office = new SipLocation("198.51.100.23", List.of(b), null);
        SipLocation officeLeaf = new SipLocation("198.51.100.23", List.of(b), null);
        SipLocation publicPeer = new SipLocation(null, List.of(b), null);
        assertTrue(home.needsOverlayTo(office));
        assertFalse(office.needsOverlayTo(officeLeaf), "same site: the LAN");
        assertFalse(home.needsOverlayTo(publicPeer), "no site: reached directly");
        assertTrue(SipLocation.DIRECT.needsOverlayTo(office), "a public peer reaches a NATed one over the overlay");
        assertFalse(home.needsOverlayTo(new SipLocation("198.51.100.23", List.of(), null)), "nothing delivers to it");
        SipLocation superpeerUnknownSite = new SipLocation(null, List.of(b), null);
        assertTrue(superpeerUnknownSite.delivers(officeLeaf), "a superpeer reaches its own leaves on the LAN");
        assertFalse(home.delivers(officeLeaf));
        assertFalse(new SipLocation("198.51.100.23", List.of(b), new InetSocketAddress("127.0.0.1", 5060))
                .delivers(officeLeaf), "a leaf delivers nothing itself");
    }
}
