package org.p2psip.sip.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.NodeId;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipMessage;
import org.p2psip.sip.message.SipParser;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.registrar.ContactBinding;
import java.util.Optional;
import org.p2psip.sip.identity.UserIdentities;
import org.p2psip.sip.registrar.SignedContactStore;
import org.p2psip.sip.testing.PolicyMemoryDht;
import org.p2psip.sip.testing.RawPhone;
import org.p2psip.storage.NameOwners;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.api.DraftDht;
import org.p2psip.storage.api.DraftPolicy;
import org.p2psip.sip.registrar.DigestAccounts;

/**
 * One peer (registrar and proxy) over an in-memory DHT applying the storage module's {@code DraftPolicy} (bindings
 * are signed contact records), driven with raw SIP from UDP sockets: digest REGISTER,
 * several devices, refresh, removal, 423, and the proxy's 404 (unknown AOR, foreign target), 480, 483, 482.
 */
class PeerOverUdpTest {
    static final String DOMAIN = "p2p.test";
    final AtomicLong now = new AtomicLong(System.currentTimeMillis());
    PolicyMemoryDht dht;
    SignedContactStore store;
    UserIdentities testUsers;
    SipPeer peer;
    DatagramSocket phone;
    int port;

    @BeforeEach
    void start() throws Exception {
        // the storage module's verifying policy, as on the overlay; the peer signs bob's bindings with bob's key
        dht = new PolicyMemoryDht(DraftPolicy.of(SignedRecordPolicy.tofu(NameOwners.inMemory())), now::get);
        peer = SipPeer.start(SipPeer.Config.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), DOMAIN,
                DigestAccounts.of(Map.of("bob", "secret", "alice", "alice-secret"))).withTimerC(700)
                .withKeyKdf(new PrivateKeyRecord.KdfParams(1024, 1, 1)), dht);
        // bindings of other users, stored directly by the test, signed with their own keys
        DraftDht draft = new DraftDht(dht);
        testUsers = new UserIdentities(draft, null, u -> Optional.empty(), new PrivateKeyRecord.KdfParams(1024, 1, 1),
                System::currentTimeMillis);
        store = new SignedContactStore(draft, testUsers, System::currentTimeMillis);
        phone = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        phone.setSoTimeout(5000);
        port = phone.getLocalPort();
    }

    @AfterEach
    void stop() {
        phone.close();
        peer.close();
        testUsers.close();
    }

    SipResponse send(String text) throws Exception {
        return new RawPhone(phone).send(peer.localAddress(), text);
    }

    String register(int cseq, String contacts, String expires, String authorization) {
        return new RawPhone(phone).register("bob", DOMAIN, "reg-" + port, cseq, contacts, expires, authorization);
    }

    static String nonce(SipResponse challenge) {
        return RawPhone.nonce(challenge);
    }

    String credentials(String alg, String password, String nonce) {
        return RawPhone.digest(alg, "bob", DOMAIN, password, nonce);
    }

    SipResponse authedRegister(int cseq, String contacts, String expires, String alg) throws Exception {
        SipResponse challenge = send(register(cseq, contacts, expires, null));
        assertEquals(401, challenge.status());
        return send(register(cseq + 1, contacts, expires, credentials(alg, "secret", nonce(challenge))));
    }

    int stored() {
        return dht.get(NodeId.ofName("sip:bob@" + DOMAIN)).join().size();
    }

    @Test
    void registerWithSha256TwoDevicesRefreshAndRemove() throws Exception {
        SipResponse challenge = send(register(1, "Contact: <sip:bob@127.0.0.1:" + port + ">\n", "600", null));
        assertEquals(401, challenge.status());
        List<String> offered = challenge.headers().all(HeaderNames.WWW_AUTHENTICATE);
        assertEquals(2, offered.size());
        assertTrue(offered.get(0).contains("algorithm=SHA-256") && offered.get(1).contains("algorithm=MD5"));
        assertEquals(0, stored());

        SipResponse bad = send(register(2, "Contact: <sip:bob@127.0.0.1:" + port + ">\n", "600",
                credentials("SHA-256", "wrong", nonce(challenge))));
        assertEquals(401, bad.status());
        assertEquals(0, stored(), "a REGISTER that fails authentication never reaches the DHT");

        SipResponse ok = send(register(3, "Contact: <sip:bob@127.0.0.1:" + port + ">\n", "600",
                credentials("SHA-256", "secret", nonce(challenge))));
        assertEquals(200, ok.status(), ok.toString());
        assertEquals(1, ok.contacts().size());
        assertEquals(600, ok.contacts().get(0).expires().getAsLong(), 2);
        assertEquals(1, stored());

        ok = authedRegister(4, "Contact: <sip:bob@127.0.0.1:" + port + ">\nContact: <sip:bob@127.0.0.1:9;transport=tcp>;q=0.5\n",
                "1200", "MD5");
        assertEquals(200, ok.status(), ok.toString());
        assertEquals(2, ok.contacts().size(), ok.toString());
        assertTrue(ok.contacts().stream().allMatch(c -> c.expires().getAsLong() > 1100), ok.toString());
        assertEquals(2, stored(), "the refresh re-put the same value; the second device is a second value");
        List<ContactBinding> bindings = store.lookup("sip:bob@" + DOMAIN).join();
        assertTrue(bindings.stream().allMatch(b -> b.path().equals(peer.proxy().selfUri())), bindings.toString());

        ok = authedRegister(6, "Contact: <sip:bob@127.0.0.1:9;transport=tcp>\n", "0", "MD5");
        assertEquals(200, ok.status());
        assertEquals(1, ok.contacts().size(), ok.toString());
        assertEquals(1, stored());

        ok = authedRegister(8, "Contact: *\n", "0", "SHA-256");
        assertEquals(200, ok.status());
        assertEquals(0, ok.contacts().size(), ok.toString());
        assertEquals(0, stored());
    }

    @Test
    void aCopiedAuthorizationCannotRegisterAnotherContact() throws Exception {
        String contact = "Contact: <sip:bob@127.0.0.1:" + port + ">\n";
        SipResponse challenge = send(register(1, contact, "600", null));
        String authorization = credentials("MD5", "secret", nonce(challenge));
        assertEquals(200, send(register(2, contact, "600", authorization)).status());
        assertEquals(1, stored());
        // someone who saw that REGISTER sends its Authorization again, in a REGISTER of its own with its own Contact
        try (DatagramSocket attacker = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            attacker.setSoTimeout(5000);
            RawPhone copier = new RawPhone(attacker);
            String hijack = copier.register("bob", DOMAIN, "hijack-" + attacker.getLocalPort(), 1,
                    "Contact: <sip:bob@127.0.0.1:" + attacker.getLocalPort() + ">\n", "600", authorization);
            SipResponse refused = copier.send(peer.localAddress(), hijack);
            assertEquals(401, refused.status(), refused.toString());
            assertTrue(refused.headers().all(HeaderNames.WWW_AUTHENTICATE).get(0).contains("stale=true"),
                    refused.toString());
        }
        List<ContactBinding> bindings = store.lookup("sip:bob@" + DOMAIN).join();
        assertEquals(1, bindings.size(), bindings.toString());
        assertTrue(bindings.get(0).contact().contains(":" + port), "still only bob's phone: " + bindings);
    }

    @Test
    void tooBriefIs423() throws Exception {
        SipResponse r = authedRegister(1, "Contact: <sip:bob@127.0.0.1:" + port + ">\n", "10", "MD5");
        assertEquals(423, r.status());
        assertEquals("60", r.headers().first("Min-Expires").orElseThrow());
        assertEquals(0, stored());
    }

    @Test
    void outOfOrderRegisterIs500() throws Exception {
        assertEquals(200, authedRegister(5, "Contact: <sip:bob@127.0.0.1:" + port + ">\n", "600", "MD5").status());
        // same Call-ID, CSeq 2 after 6: refused, the binding stays
        assertEquals(500, authedRegister(1, "Contact: <sip:bob@127.0.0.1:" + port + ">\n", "0", "MD5").status());
        assertEquals(1, stored());
        assertEquals(200, authedRegister(7, "Contact: <sip:bob@127.0.0.1:" + port + ">\n", "0", "MD5").status());
        assertEquals(0, stored());
    }

    /**
     * Sends a request from alice; a 407 (the peer is about to store it signed as her: an offline MESSAGE) is
     * answered once with her credentials, in a new transaction.
     */
    SipResponse sendAsAlice(String text) throws Exception {
        SipResponse first = send(text);
        if (first.status() != 407) {
            return first;
        }
        String method = text.substring(0, text.indexOf(' '));
        String ruri = text.substring(text.indexOf(' ') + 1, text.indexOf(" SIP/2.0"));
        String auth = RawPhone.proxyDigest(first, "alice", DOMAIN, "alice-secret", method, ruri);
        String again = text.replace("CSeq: 1 " + method, "CSeq: 2 " + method)
                .replaceFirst("branch=z9hG4bK[^;\n]*", "branch=z9hG4bK" + ThreadLocalRandom.current().nextLong())
                .replaceFirst("\nMax-Forwards:", "\nProxy-Authorization: " + auth + "\nMax-Forwards:");
        return send(again);
    }

    String message(String ruri, int maxForwards, String extraVia) {
        return "MESSAGE " + ruri + " SIP/2.0\n"
                + (extraVia == null ? "" : "Via: " + extraVia + "\n")
                + "Via: SIP/2.0/UDP 127.0.0.1:" + port + ";branch=z9hG4bK" + ThreadLocalRandom.current().nextLong()
                + ";rport\n"
                + "From: <sip:alice@" + DOMAIN + ">;tag=a1\n"
                + "To: <" + ruri + ">\n"
                + "Call-ID: msg-" + ThreadLocalRandom.current().nextLong() + "\n"
                + "CSeq: 1 MESSAGE\n"
                + "Max-Forwards: " + maxForwards + "\n"
                + "Content-Type: text/plain\nContent-Length: 2\n\nhi";
    }

    @Test
    void aDeliveryRunStoppedByTheDhtIsCountedAndTheNextRegisterTriesAgain() throws Exception {
        String contact = "Contact: <sip:bob@127.0.0.1:" + port + ">\n";
        NodeId offlineKey = org.p2psip.storage.ResourceName.offline("bob@" + DOMAIN).key();
        dht.failGets = k -> k.equals(offlineKey);
        var offline = peer.offline().orElseThrow();
        assertEquals(200, authedRegister(1, contact, "600", "MD5").status(), "the REGISTER itself is not held up");
        org.p2psip.testing.Waits.until(20_000, () -> offline.stats().stoppedRuns() == 1, "the stopped run is counted");
        dht.failGets = k -> false;
        assertEquals(200, authedRegister(3, contact, "600", "MD5").status());
        org.p2psip.testing.Waits.until(20_000, () -> offline.stats().runs() == 2, "the next REGISTER's run");
        assertEquals(1, offline.stats().stoppedRuns());
    }

    /**
     * An offline: value bob's key cannot open (encrypted to another key) neither blocks the delivery of a genuine
     * message nor is removed by it; the genuine one reaches the phone and is removed after its 200.
     */
    @Test
    void anUnreadableOfflineValueIsSkipped() throws Exception {
        String contact = "Contact: <sip:bob@127.0.0.1:" + port + ">\n";
        assertEquals(200, authedRegister(1, contact, "600", "MD5").status()); // bob's certificate is published
        var offline = peer.offline().orElseThrow();
        long deadline0 = System.nanoTime() + 20_000_000_000L;
        while (offline.stats().runs() < 1 && System.nanoTime() < deadline0) { // its (empty) delivery run is over
            Thread.sleep(20);
        }
        assertEquals(1, offline.stats().runs());
        assertEquals(200, authedRegister(3, contact, "0", "MD5").status());

        DraftDht draft = new DraftDht(dht);
        java.security.KeyPair stranger = org.p2psip.sip.identity.UserCertificates.newKeyPair();
        new org.p2psip.storage.api.OfflineMessages(draft).leave("bob@" + DOMAIN, stranger.getPublic(), "someone",
                org.p2psip.storage.RecordCrypto.TYPE_OFFLINE_TEXT, "not for bob".getBytes(StandardCharsets.UTF_8),
                testUsers.identity("someone@" + DOMAIN).join(), java.time.Instant.now().plusSeconds(600), "junk")
                .join();
        assertEquals(202, sendAsAlice(message("sip:bob@" + DOMAIN, 70, null)).status());
        org.p2psip.overlay.NodeId offlineKey = org.p2psip.storage.ResourceName.offline("bob@" + DOMAIN).key();
        assertEquals(2, dht.get(offlineKey).join().size());

        assertEquals(200, authedRegister(5, contact, "600", "MD5").status());
        DatagramPacket p = new DatagramPacket(new byte[65535], 65535);
        phone.receive(p);
        SipRequest delivered = (SipRequest) new SipParser().parseDatagram(p.getData(), 0, p.getLength());
        assertEquals(SipRequest.MESSAGE, delivered.method());
        assertEquals("hi", delivered.bodyText());
        assertEquals("sip:alice@" + DOMAIN, delivered.from().uri().toString());
        byte[] ok = SipResponse.forRequest(delivered, 200, "OK").encode();
        phone.send(new DatagramPacket(ok, ok.length, p.getSocketAddress()));

        long deadline = System.nanoTime() + 20_000_000_000L;
        while (dht.get(offlineKey).join().size() != 1 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        var left = dht.get(offlineKey).join();
        assertEquals(1, left.size(), "the genuine message is removed, the unreadable one stays");
        assertEquals(org.p2psip.overlay.Bytes.utf8("junk"), left.get(0).nonce());
        // the values are tried one after the other in the DHT's order: the run may still be at the unreadable one
        while (offline.stats().runs() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        var stats = peer.offline().orElseThrow().stats();
        assertEquals(1, stats.delivered());
        assertEquals(1, stats.removed());
        assertEquals(1, stats.failed(), "the unreadable value is counted");
    }

    /**
     * The peer signs an offline message as its sender only after authenticating the sender (407): the stored value
     * names alice in its KeyName, signed by her key and certificate; a sender without an account here, or of another
     * domain, gets 480 and nothing is stored.
     */
    @Test
    void offlineMessagesAreSignedByTheirAuthenticatedSender() throws Exception {
        store.put(new ContactBinding("sip:carol@" + DOMAIN, "<sip:carol@10.0.0.3:5060>", null,
                "sip:0.0.0.0:5060;lr", now.get() + 60_000)).join(); // unreachable: MESSAGEs are stored
        SipResponse challenge = send(message("sip:carol@" + DOMAIN, 70, null));
        assertEquals(407, challenge.status());
        assertTrue(challenge.headers().first(HeaderNames.PROXY_AUTHENTICATE).isPresent());
        assertEquals(202, sendAsAlice(message("sip:carol@" + DOMAIN, 70, null)).status());
        org.p2psip.storage.ResourceName name = org.p2psip.storage.ResourceName.offline("carol@" + DOMAIN);
        var values = new DraftDht(dht).get(name).join();
        assertEquals(1, values.size());
        assertEquals("alice@" + DOMAIN, values.get(0).record().keyName());
        assertTrue(org.p2psip.storage.CertificateNames.bindsUser(values.get(0).record().chain().get(0),
                "alice@" + DOMAIN), "signed with alice's certificate");
        // mallory has no account here, erin is of another domain: nothing is signed for them
        String mallory = message("sip:carol@" + DOMAIN, 70, null).replace("sip:alice@", "sip:mallory@");
        assertEquals(480, sendAsAlice(mallory).status());
        String foreign = message("sip:carol@" + DOMAIN, 70, null).replace("sip:alice@" + DOMAIN, "sip:erin@other.example");
        assertEquals(480, send(foreign).status());
        assertEquals(1, new DraftDht(dht).get(name).join().size());
        assertEquals(1, peer.offline().orElseThrow().stats().stored());
    }

    @Test
    void offlineMessagesFromOneSourceAreRateLimited() throws Exception {
        store.put(new ContactBinding("sip:carol@" + DOMAIN, "<sip:carol@10.0.0.3:5060>", null,
                "sip:0.0.0.0:5060;lr", now.get() + 60_000)).join(); // unreachable: MESSAGEs are stored
        int limit = org.p2psip.sip.offline.OfflineMessaging.MAX_PER_MINUTE_PER_SOURCE;
        for (int i = 0; i < limit; i++) {
            assertEquals(202, sendAsAlice(message("sip:carol@" + DOMAIN, 70, null)).status(), "message " + i);
        }
        SipResponse refused = sendAsAlice(message("sip:carol@" + DOMAIN, 70, null));
        assertEquals(503, refused.status());
        assertEquals("60", refused.headers().first("Retry-After").orElseThrow());
        var stats = peer.offline().orElseThrow().stats();
        assertEquals(limit, stats.stored());
        assertEquals(1, stats.refused());
    }

    @Test
    void proxyAnswers404480483And482() throws Exception {
        assertEquals(404, send(message("sip:nobody@" + DOMAIN, 70, null)).status());
        assertEquals(483, send(message("sip:nobody@" + DOMAIN, 0, null)).status());
        // not a served domain, no Route of ours, no phone registered here: no open relay
        assertEquals(404, send(message("sip:someone@127.0.0.1:9", 70, null)).status());
        assertEquals(0, peer.proxy().stats().forwarded());

        // a binding whose peer cannot be reached (a wildcard address is never sent to)
        store.put(new ContactBinding("sip:carol@" + DOMAIN, "<sip:carol@10.0.0.3:5060>", null,
                "sip:0.0.0.0:5060;lr", now.get() + 60_000)).join();
        assertEquals(480, send(message("sip:carol@" + DOMAIN, 70, null).replace("MESSAGE", "OPTIONS")).status());
        // a MESSAGE for her is stored for her next REGISTER instead (her certificate is published)
        assertEquals(202, sendAsAlice(message("sip:carol@" + DOMAIN, 70, null)).status());
        assertEquals(1, peer.offline().orElseThrow().stats().stored());
        // a live binding whose phone is gone (its TCP port refuses): the forwarded MESSAGE fails (480), so it is
        // stored too
        store.put(new ContactBinding("sip:carol@" + DOMAIN, "<sip:carol@127.0.0.1:9;transport=tcp>", null,
                peer.proxy().selfUri(), now.get() + 60_000)).join();
        assertEquals(202, sendAsAlice(message("sip:carol@" + DOMAIN, 70, null)).status());
        assertEquals(2, peer.offline().orElseThrow().stats().stored());

        // a request that already went through us in the same routing state: loop
        String text = message("sip:nobody@" + DOMAIN, 70, null);
        SipRequest parsed = (SipRequest) new SipParser().parseDatagram(
                text.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8));
        String ours = "SIP/2.0/UDP 127.0.0.1:" + peer.localAddress().getPort() + ";branch=z9hG4bK"
                + Proxy.loopHash(parsed) + ".abc";
        // the phone's Via first (our Via on top would route the 482 to ourselves), ours below it
        String looped = text.replaceFirst("(Via: [^\n]*\n)", "$1Via: " + ours + "\n");
        assertEquals(482, send(looped).status());
        assertTrue(peer.proxy().stats().loops() == 1 && peer.proxy().stats().tooManyHops() == 1,
                peer.proxy().stats().toString());
    }

    SipMessage receive(DatagramSocket s) throws Exception {
        DatagramPacket p = new DatagramPacket(new byte[65535], 65535);
        s.receive(p);
        return new SipParser().parseDatagram(p.getData(), 0, p.getLength());
    }

    void reply(DatagramSocket s, SipResponse r) throws Exception {
        byte[] b = r.encode();
        s.send(new DatagramPacket(b, b.length, peer.localAddress()));
    }

    @Test
    void timerCCancelsARingingBranchAnd487GoesUp() throws Exception {
        try (DatagramSocket callee = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            callee.setSoTimeout(5000);
            store.put(new ContactBinding("sip:dave@" + DOMAIN, "<sip:dave@127.0.0.1:" + callee.getLocalPort() + ">",
                    null, peer.proxy().selfUri(), now.get() + 60_000)).join();
            String invite = message("sip:dave@" + DOMAIN, 70, null).replace("MESSAGE sip:", "INVITE sip:")
                    .replace("CSeq: 1 MESSAGE", "CSeq: 1 INVITE")
                    .replace("Content-Type: text/plain\n", "Contact: <sip:alice@127.0.0.1:" + port + ">\n"
                            + "Content-Type: text/plain\n");
            byte[] b = invite.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
            phone.send(new DatagramPacket(b, b.length, peer.localAddress()));

            SipRequest inv = (SipRequest) receive(callee);
            assertEquals("INVITE", inv.method());
            assertEquals(69, inv.maxForwards().getAsInt());
            assertTrue(inv.vias().get(0).hasRport(), "the peer's Via asks for rport (RFC 3581), so its responses "
                    + "come back through a NAT: " + inv);
            assertTrue(inv.headers().first(HeaderNames.RECORD_ROUTE).orElseThrow().contains(
                    "127.0.0.1:" + peer.localAddress().getPort()), inv.toString());
            reply(callee, SipResponse.forRequest(inv, 180, "Ringing", "callee"));
            SipMessage m;
            do {
                m = receive(callee); // INVITE retransmissions until the 180 arrived, then Timer C's CANCEL
            } while (m instanceof SipRequest r && r.isMethod("INVITE"));
            SipRequest cancel = (SipRequest) m;
            assertEquals("CANCEL", cancel.method());
            assertEquals(inv.topVia().branch(), cancel.topVia().branch());
            reply(callee, SipResponse.forRequest(cancel, 200, "OK", "callee"));
            reply(callee, SipResponse.forRequest(inv, 487, "Request Terminated", "callee"));
            SipRequest ack = (SipRequest) receive(callee);
            assertEquals("ACK", ack.method());

            int last = 0;
            while (last != 487) {
                SipResponse r = (SipResponse) receive(phone);
                assertTrue(r.status() == 100 || r.status() == 180 || r.status() == 487, r.toString());
                last = r.status();
            }
        }
    }

    @Test
    void higherQFirstThenTheNextQWhenAllFailed() throws Exception {
        try (DatagramSocket first = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                DatagramSocket second = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                DatagramSocket third = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            for (DatagramSocket d : List.of(first, second, third)) {
                d.setSoTimeout(300);
            }
            String aor = "sip:erin@" + DOMAIN;
            store.put(new ContactBinding(aor, "<sip:erin@127.0.0.1:" + first.getLocalPort() + ">", "1.0",
                    peer.proxy().selfUri(), now.get() + 60_000)).join();
            store.put(new ContactBinding(aor, "<sip:erin@127.0.0.1:" + second.getLocalPort() + ">", "1.0",
                    peer.proxy().selfUri(), now.get() + 60_000)).join();
            store.put(new ContactBinding(aor, "<sip:erin@127.0.0.1:" + third.getLocalPort() + ">", "0.5",
                    peer.proxy().selfUri(), now.get() + 60_000)).join();
            String text = message(aor, 70, null);
            byte[] b = text.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
            phone.send(new DatagramPacket(b, b.length, peer.localAddress()));

            // both q=1.0 contacts in parallel; the q=0.5 one not yet
            SipRequest m1 = (SipRequest) receive(first);
            SipRequest m2 = (SipRequest) receive(second);
            assertThrows(java.net.SocketTimeoutException.class, () -> receive(third));
            reply(first, SipResponse.forRequest(m1, 486, "Busy Here", "x"));
            assertThrows(java.net.SocketTimeoutException.class, () -> receive(third));
            reply(second, SipResponse.forRequest(m2, 480, "Temporarily Unavailable", "y"));
            SipRequest m3 = (SipRequest) receive(third);
            assertEquals("MESSAGE", m3.method());
            reply(third, SipResponse.forRequest(m3, 200, "OK", "z"));
            assertEquals(200, ((SipResponse) receive(phone)).status());
        }
    }

    @Test
    void pathFromASuperpeerIsStoredEchoedAndRoutedThrough() throws Exception {
        try (DatagramSocket superpeer = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            superpeer.setSoTimeout(5000);
            String path = "<sip:127.0.0.1:" + superpeer.getLocalPort() + ";lr>";
            String inner = "<sip:198.51.100.7:5060;lr>"; // a second edge hop, nearer the phone
            // RFC 3327 §5.3: a Path without "Supported: path" is refused (420, Unsupported: path) and not stored
            SipResponse refused = authedRegister(1, "Path: " + path + "\nContact: <sip:bob@10.1.2.3:5062>\n", "600",
                    "MD5");
            assertEquals(420, refused.status(), refused.toString());
            assertEquals(List.of("path"), refused.headers().all(HeaderNames.UNSUPPORTED));
            assertEquals(0, stored());

            SipResponse ok = authedRegister(3, "Supported: path\nPath: " + path + ", " + inner
                    + "\nContact: <sip:bob@10.1.2.3:5062>\n", "600", "MD5");
            assertEquals(200, ok.status(), ok.toString());
            assertEquals(List.of(path, inner), ok.headers().all(HeaderNames.PATH), "the Path is echoed in order");
            assertEquals(List.of(path, inner), store.lookup("sip:bob@" + DOMAIN).join().get(0).pathHeaders());

            String text = message("sip:bob@" + DOMAIN, 70, null);
            byte[] b = text.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
            phone.send(new DatagramPacket(b, b.length, peer.localAddress()));
            SipRequest m = (SipRequest) receive(superpeer);
            assertEquals("sip:bob@10.1.2.3:5062", m.requestUri().toString());
            assertEquals(List.of(path, inner), m.headers().all(HeaderNames.ROUTE), "the stored Path is the Route set");
            reply(superpeer, SipResponse.forRequest(m, 200, "OK", "b"));
            assertEquals(200, ((SipResponse) receive(phone)).status());
        }
    }

    @Test
    void a6xxCancelsTheOtherBranchAndGoesUp() throws Exception {
        try (DatagramSocket declines = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                DatagramSocket rings = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            declines.setSoTimeout(5000);
            rings.setSoTimeout(5000);
            String aor = "sip:frank@" + DOMAIN;
            for (DatagramSocket d : List.of(declines, rings)) {
                store.put(new ContactBinding(aor, "<sip:frank@127.0.0.1:" + d.getLocalPort() + ">", null,
                        peer.proxy().selfUri(), now.get() + 60_000)).join();
            }
            String invite = message(aor, 70, null).replace("MESSAGE sip:", "INVITE sip:")
                    .replace("CSeq: 1 MESSAGE", "CSeq: 1 INVITE");
            byte[] b = invite.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
            phone.send(new DatagramPacket(b, b.length, peer.localAddress()));

            SipRequest toDecline = (SipRequest) receive(declines);
            SipRequest toRing = (SipRequest) receive(rings);
            reply(rings, SipResponse.forRequest(toRing, 180, "Ringing", "r"));
            Thread.sleep(100);
            reply(declines, SipResponse.forRequest(toDecline, 603, "Decline", "d"));
            SipMessage m;
            do {
                m = receive(rings);
            } while (m instanceof SipRequest r && r.isMethod("INVITE"));
            SipRequest cancel = (SipRequest) m;
            assertEquals("CANCEL", cancel.method());
            reply(rings, SipResponse.forRequest(cancel, 200, "OK", "r"));
            reply(rings, SipResponse.forRequest(toRing, 487, "Request Terminated", "r"));

            int last = 0;
            while (last < 200) {
                last = ((SipResponse) receive(phone)).status();
            }
            assertEquals(603, last, "the 6xx is the best response, not the 487");
        }
    }

    @Test
    void optionsToThePeerItselfIs200() throws Exception {
        String ruri = "sip:127.0.0.1:" + peer.localAddress().getPort();
        SipResponse r = send(message(ruri, 70, null).replace("MESSAGE " + ruri, "OPTIONS " + ruri)
                .replace("CSeq: 1 MESSAGE", "CSeq: 1 OPTIONS"));
        assertEquals(200, r.status());
    }
}
