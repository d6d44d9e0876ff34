package org.p2psip.sip.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.registrar.DigestAccounts;
import org.p2psip.sip.testing.RawPhone;

/**
 * An INVITE whose DHT lookup no storing node answered is 480 (try again later), not 404: the user may well have a
 * record on the nodes that did not answer (the SIP bench's failed calls were 404s from such lookups).
 */
class UnansweredLookupTest {
    static final String DOMAIN = "example.net";

    @TempDir
    Path data;

    static String invite(String user, int port, String callId) {
        return "INVITE sip:" + user + "@" + DOMAIN + " SIP/2.0\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:" + port + ";branch=z9hG4bK-" + callId + ";rport\n"
                + "From: <sip:alice@" + DOMAIN + ">;tag=a-" + callId + "\n"
                + "To: <sip:" + user + "@" + DOMAIN + ">\n"
                + "Call-ID: " + callId + "\n"
                + "CSeq: 1 INVITE\n"
                + "Contact: <sip:alice@127.0.0.1:" + port + ">\n"
                + "Max-Forwards: 70\n"
                + "Content-Length: 0\n\n";
    }

    @Test
    void aLookupNoStoringNodeAnsweredIs480AndAnAnsweredEmptyOne404() throws Exception {
        try (LoopbackOverlay overlay = new LoopbackOverlay(2, 31);
             RawPhone phone = new RawPhone(15_000);
             RawPhone second = new RawPhone(15_000); // the first gets the unacknowledged 404 again
             SipPeer peer = SipPeer.start(SipPeer.Config.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                     DOMAIN, DigestAccounts.of(Map.of("bob", "secret"))).withDataDir(data), overlay.node(0))) {
            SipResponse answered = phone.send(peer.localAddress(), invite("nobody", phone.port(), "c1"));
            assertEquals(404, answered.status(), "the other node answered that it holds no record: " + answered);
            long before = peer.proxy().stats().unavailable();
            overlay.node(1).close(); // the only other storing node: it answers nothing from now on
            SipResponse unanswered = second.send(peer.localAddress(), invite("nobody", second.port(), "c2"));
            assertEquals(480, unanswered.status(), "no storing node answered the lookup: " + unanswered);
            assertEquals(before + 1, peer.proxy().stats().unavailable());
        }
    }
}
