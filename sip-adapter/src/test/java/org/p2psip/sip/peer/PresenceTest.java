package org.p2psip.sip.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipMessage;
import org.p2psip.sip.message.SipParser;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.presence.PresenceAgent;
import org.p2psip.sip.registrar.DigestAccounts;
import org.p2psip.sip.registrar.DigestAuthenticator;
import org.p2psip.sip.registrar.Registrar;
import org.p2psip.storage.PrivateKeyRecord;

/**
 * The presence notifier's subscription state machine with raw SIP over UDP, on a real 3-node overlay with the
 * verifying policy and short expiry policies: initial SUBSCRIBE (202 + NOTIFY), refresh (200 + NOTIFY), expiry
 * (NOTIFY terminated;reason=timeout) and then 481, fetch (Expires: 0), and a presentity whose registration expires
 * (NOTIFY open, then closed without any unREGISTER).
 */
class PresenceTest {
    static final String DOMAIN = "p2p.test";
    LoopbackOverlay overlay;
    SipPeer peer;
    DatagramSocket watcher;
    DatagramSocket presentity;
    int cseq = 1;

    @BeforeEach
    void start() throws Exception {
        overlay = new LoopbackOverlay(3, 21);
        peer = SipPeer.start(SipPeer.Config.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), DOMAIN,
                DigestAccounts.of(Map.of("bob", "secret")))
                .withKeyKdf(new PrivateKeyRecord.KdfParams(1024, 1, 1))
                .withExpiry(new Registrar.Expiry(1, 3600, 86_400))
                .withPresenceExpiry(new PresenceAgent.Expiry(1, 3600, 3600)), overlay.node(0));
        watcher = socket();
        presentity = socket();
    }

    static DatagramSocket socket() throws Exception {
        DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        s.setSoTimeout(20_000);
        return s;
    }

    @AfterEach
    void stop() {
        watcher.close();
        presentity.close();
        peer.close();
        overlay.close();
    }

    void send(DatagramSocket from, String text, SocketAddress to) throws Exception {
        byte[] b = text.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
        from.send(new DatagramPacket(b, b.length, to));
    }

    record Received(SipMessage message, SocketAddress from) {
    }

    Received receive(DatagramSocket s) throws Exception {
        while (true) {
            DatagramPacket p = new DatagramPacket(new byte[65535], 65535);
            s.receive(p);
            SipMessage m = new SipParser().parseDatagram(java.util.Arrays.copyOf(p.getData(), p.getLength()));
            if (m instanceof SipResponse r && r.status() == 100) {
                continue;
            }
            return new Received(m, p.getSocketAddress());
        }
    }

    SipResponse response(DatagramSocket s) throws Exception {
        return (SipResponse) receive(s).message();
    }

    /** Receives a NOTIFY, answers 200, returns it. */
    SipRequest notifyAnswered() throws Exception {
        Received r = receive(watcher);
        SipRequest n = (SipRequest) r.message();
        assertEquals(SipRequest.NOTIFY, n.method(), n.toString());
        watcher.send(new DatagramPacket(SipResponse.forRequest(n, 200, "OK").encode(), 0,
                SipResponse.forRequest(n, 200, "OK").encode().length, r.from()));
        return n;
    }

    String subscribe(String ruri, String toTag, String callId, int expires) {
        return "SUBSCRIBE " + ruri + " SIP/2.0\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:" + watcher.getLocalPort() + ";branch=z9hG4bK"
                + ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE) + ";rport\n"
                + "From: <sip:alice@" + DOMAIN + ">;tag=w1\n"
                + "To: <sip:bob@" + DOMAIN + ">" + (toTag == null ? "" : ";tag=" + toTag) + "\n"
                + "Call-ID: " + callId + "\n"
                + "CSeq: " + (cseq++) + " SUBSCRIBE\n"
                + "Contact: <sip:alice@127.0.0.1:" + watcher.getLocalPort() + ">\n"
                + "Event: presence\nExpires: " + expires + "\nMax-Forwards: 70\nContent-Length: 0\n\n";
    }

    static String state(SipRequest n) {
        return n.headers().first("Subscription-State").orElseThrow();
    }

    static boolean open(SipRequest n) {
        return n.bodyText().contains("<basic>open</basic>");
    }

    @Test
    void subscribeRefreshExpireAndFetch() throws Exception {
        String callId = "sub-" + ThreadLocalRandom.current().nextLong();
        send(watcher, subscribe("sip:bob@" + DOMAIN, null, callId, 60), peer.localAddress());
        SipResponse accepted = response(watcher);
        assertEquals(202, accepted.status(), accepted.toString());
        String tag = accepted.to().tag().orElseThrow();
        assertEquals("60", accepted.headers().first(HeaderNames.EXPIRES).orElseThrow());
        String contact = accepted.contacts().get(0).address().uri().toString();
        SipRequest first = notifyAnswered();
        assertTrue(state(first).startsWith("active;expires="), state(first));
        assertEquals("presence", first.headers().first(HeaderNames.EVENT).orElseThrow());
        assertEquals("application/pidf+xml", first.contentType().orElseThrow());
        assertTrue(first.bodyText().contains("entity=\"sip:bob@" + DOMAIN + "\"") && !open(first), first.bodyText());
        assertEquals(tag, first.from().tag().orElseThrow(), "the NOTIFY is in the subscription's dialog");

        send(watcher, subscribe(contact, tag, callId, 2), peer.localAddress()); // refresh, shorter
        assertEquals(200, response(watcher).status());
        SipRequest refreshed = notifyAnswered();
        assertTrue(state(refreshed).startsWith("active;expires="), state(refreshed));
        SipRequest expired = notifyAnswered(); // after about 2 s
        assertEquals("terminated;reason=timeout", state(expired));
        assertTrue(refreshed.cseq().number() < expired.cseq().number());

        send(watcher, subscribe(contact, tag, callId, 60), peer.localAddress());
        assertEquals(481, response(watcher).status(), "the subscription is gone");

        send(watcher, subscribe("sip:bob@" + DOMAIN, null, "fetch-" + callId, 0), peer.localAddress());
        assertEquals(202, response(watcher).status());
        assertEquals("terminated;reason=timeout", state(notifyAnswered()), "a fetch: one NOTIFY, then it ends");
        assertEquals(0, peer.presence().orElseThrow().stats().active());
    }

    /** Reads until the response to the last request, answering every NOTIFY on the way. */
    SipResponse responseAnsweringNotifies() throws Exception {
        while (true) {
            Received r = receive(watcher);
            if (r.message() instanceof SipResponse resp) {
                return resp;
            }
            SipRequest n = (SipRequest) r.message();
            byte[] ok = SipResponse.forRequest(n, 200, "OK").encode();
            watcher.send(new DatagramPacket(ok, ok.length, r.from()));
        }
    }

    @Test
    void aSubscribeFloodFromOneSourceIsCapped() throws Exception {
        PresenceAgent presence = peer.presence().orElseThrow();
        for (int i = 0; i < PresenceAgent.MAX_PER_SOURCE; i++) {
            send(watcher, subscribe("sip:bob@" + DOMAIN, null, "flood-" + i, 60), peer.localAddress());
            assertEquals(202, responseAnsweringNotifies().status(), "subscription " + i);
        }
        send(watcher, subscribe("sip:bob@" + DOMAIN, null, "flood-over", 60), peer.localAddress());
        SipResponse refused = responseAnsweringNotifies();
        assertEquals(503, refused.status());
        assertTrue(refused.headers().first("Retry-After").isPresent());
        assertEquals(1, presence.stats().refused());
        assertEquals(PresenceAgent.MAX_PER_SOURCE, presence.stats().active());
        // another host (127.0.0.2, also loopback) still gets its subscription
        DatagramSocket other = new DatagramSocket(0, InetAddress.getByName("127.0.0.2"));
        other.setSoTimeout(20_000);
        try {
            String text = subscribe("sip:bob@" + DOMAIN, null, "other-source", 60)
                    .replace("127.0.0.1:" + watcher.getLocalPort(), "127.0.0.2:" + other.getLocalPort());
            send(other, text, peer.localAddress());
            assertEquals(202, response(other).status());
        } finally {
            other.close();
        }
    }

    String register(int expires, String authorization) {
        return "REGISTER sip:" + DOMAIN + " SIP/2.0\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:" + presentity.getLocalPort() + ";branch=z9hG4bK"
                + ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE) + ";rport\n"
                + "From: <sip:bob@" + DOMAIN + ">;tag=r1\nTo: <sip:bob@" + DOMAIN + ">\n"
                + "Call-ID: reg-" + presentity.getLocalPort() + "\nCSeq: " + (cseq++) + " REGISTER\n"
                + "Contact: <sip:bob@127.0.0.1:" + presentity.getLocalPort() + ">\nExpires: " + expires + "\n"
                + (authorization == null ? "" : "Authorization: " + authorization + "\n")
                + "Max-Forwards: 70\nContent-Length: 0\n\n";
    }

    void registerBob(int expires) throws Exception {
        send(presentity, register(expires, null), peer.localAddress());
        SipResponse challenge = response(presentity);
        assertEquals(401, challenge.status());
        String v = challenge.headers().first(HeaderNames.WWW_AUTHENTICATE).orElseThrow();
        int i = v.indexOf("nonce=\"") + 7;
        String nonce = v.substring(i, v.indexOf('"', i));
        String ha1 = DigestAuthenticator.h("SHA-256", "bob:" + DOMAIN + ":secret");
        String ha2 = DigestAuthenticator.h("SHA-256", "REGISTER:sip:" + DOMAIN);
        String resp = DigestAuthenticator.h("SHA-256", ha1 + ":" + nonce + ":00000001:c0ffee:auth:" + ha2);
        send(presentity, register(expires, "Digest username=\"bob\", realm=\"" + DOMAIN + "\", nonce=\"" + nonce
                + "\", uri=\"sip:" + DOMAIN + "\", response=\"" + resp + "\", algorithm=SHA-256, qop=auth,"
                + " nc=00000001, cnonce=\"c0ffee\""), peer.localAddress());
        assertEquals(200, response(presentity).status());
    }

    @Test
    void anExpiringRegistrationIsNotified() throws Exception {
        String callId = "sub-" + ThreadLocalRandom.current().nextLong();
        send(watcher, subscribe("sip:bob@" + DOMAIN, null, callId, 120), peer.localAddress());
        SipResponse accepted = response(watcher);
        assertEquals(202, accepted.status());
        assertTrue(!open(notifyAnswered()));

        registerBob(3);
        assertTrue(open(notifyAnswered()), "NOTIFY open once bob registered");
        SipRequest closed = notifyAnswered(); // no unREGISTER: the binding expires after about 3 s
        assertTrue(!open(closed) && state(closed).startsWith("active"), closed.toString());

        String contact = accepted.contacts().get(0).address().uri().toString();
        send(watcher, subscribe(contact, accepted.to().tag().orElseThrow(), callId, 0), peer.localAddress());
        assertEquals(200, response(watcher).status());
        assertEquals("terminated", state(notifyAnswered()));
    }
}
