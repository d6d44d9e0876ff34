package org.p2psip.sip.offline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.NodeId;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.message.SipMessage;
import org.p2psip.sip.message.SipParser;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.registrar.DigestAccounts;
import org.p2psip.sip.testing.PolicyMemoryDht;
import org.p2psip.sip.testing.RawPhone;
import org.p2psip.storage.NameOwners;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.api.DraftPolicy;
import org.p2psip.testing.Waits;

/**
 * Which REGISTERs read {@code offline:bob}: two real peers (registrar and proxy on UDP loopback) over one in-memory
 * DHT applying {@code DraftPolicy}, which counts the gets of that key (and fails them on demand). Bob's phone is a
 * raw UDP socket registered at {@code bobPeer}; alice sends through {@code alicePeer}, which stores offline.
 */
class OfflineReadsOnRegisterTest {
    static final String DOMAIN = "p2p.test";
    PolicyMemoryDht dht;
    SipPeer bobPeer;
    SipPeer alicePeer;
    DatagramSocket phone;
    DatagramSocket alice;
    final AtomicLong offlineGets = new AtomicLong();
    final AtomicBoolean failOfflineGets = new AtomicBoolean();
    int cseq;

    @BeforeEach
    void start() throws Exception {
        dht = new PolicyMemoryDht(DraftPolicy.of(SignedRecordPolicy.tofu(NameOwners.inMemory())),
                System::currentTimeMillis);
        NodeId offlineKey = ResourceName.offline("bob@" + DOMAIN).key();
        dht.failGets = k -> {
            if (!k.equals(offlineKey)) {
                return false;
            }
            offlineGets.incrementAndGet();
            return failOfflineGets.get();
        };
        bobPeer = peer();
        alicePeer = peer();
        phone = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        phone.setSoTimeout(200);
        alice = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        alice.setSoTimeout(10_000);
    }

    SipPeer peer() throws Exception {
        return SipPeer.start(SipPeer.Config.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), DOMAIN,
                DigestAccounts.of(Map.of("bob", "secret", "alice", "alice-secret")))
                .withKeyKdf(new PrivateKeyRecord.KdfParams(1024, 1, 1)), dht);
    }

    @AfterEach
    void stop() {
        phone.close();
        alice.close();
        bobPeer.close();
        alicePeer.close();
    }

    OfflineMessaging.Stats stats() {
        return bobPeer.offline().orElseThrow().stats();
    }

    /** Bob's phone registers at bobPeer (401, then with digest); requests that reach the phone meanwhile get 480. */
    int register(String expires) throws Exception {
        String contact = "Contact: <sip:bob@127.0.0.1:" + phone.getLocalPort() + ">\n";
        RawPhone p = new RawPhone(phone);
        SipResponse challenge = exchange(p.register("bob", DOMAIN, "reg-bob", ++cseq, contact, expires, null));
        assertEquals(401, challenge.status());
        return exchange(p.register("bob", DOMAIN, "reg-bob", ++cseq, contact, expires,
                RawPhone.digest("MD5", "bob", DOMAIN, "secret", RawPhone.nonce(challenge)))).status();
    }

    /** Sends from the phone and waits for the first final response, answering stray requests with 480. */
    SipResponse exchange(String text) throws Exception {
        byte[] b = text.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
        phone.send(new DatagramPacket(b, b.length, bobPeer.localAddress()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            SipMessage m = receive();
            if (m instanceof SipResponse r && r.status() >= 200) {
                return r;
            }
            if (m instanceof SipRequest req) {
                answer(req, 480);
            }
        }
        throw new AssertionError("no final response from the peer within 10 s");
    }

    /** The next datagram at the phone, or null after 200 ms. */
    SipMessage receive() throws Exception {
        DatagramPacket p = new DatagramPacket(new byte[65535], 65535);
        try {
            phone.receive(p);
        } catch (SocketTimeoutException e) {
            return null;
        }
        return new SipParser().parseDatagram(p.getData(), 0, p.getLength());
    }

    void answer(SipRequest req, int status) throws Exception {
        byte[] r = SipResponse.forRequest(req, status, status == 200 ? "OK" : "Temporarily Unavailable").encode();
        phone.send(new DatagramPacket(r, r.length, bobPeer.localAddress()));
    }

    /** Waits for bobPeer's delivery runs to reach {@code n} (each run is one read of offline:bob). */
    void awaitRuns(long n) throws InterruptedException {
        Waits.until(20_000, () -> stats().runs() >= n, "bobPeer's delivery run " + n);
    }

    @Test
    void aFirstRegisterReadsRefreshesDoNotAndANewBindingDoesAgain() throws Exception {
        assertEquals(200, register("600"));
        awaitRuns(1);
        assertEquals(1, offlineGets.get(), "the first REGISTER read offline:bob once");

        for (int i = 0; i < 3; i++) {
            assertEquals(200, register("600"));
        }
        Waits.until(20_000, () -> stats().skippedChecks() == 3, "three refreshes skipped the check");
        assertEquals(1, offlineGets.get(), "refreshes within the bound do not read offline:bob");
        assertEquals(1, stats().runs());

        // Expires: 0, then REGISTER again: a new binding at this peer, read again
        assertEquals(200, register("0"));
        assertEquals(200, register("600"));
        awaitRuns(2);
        assertEquals(2, offlineGets.get());
        assertEquals(3, stats().skippedChecks());
    }

    /**
     * alice's MESSAGE reaches bob's phone through both peers, the phone answers 480 (twice: before and after alice's
     * 407), alicePeer stores it offline. bobPeer relayed it and saw it fail: bob's next refresh reads offline:bob and
     * the message is delivered to the phone, then removed.
     */
    @Test
    void aRelayedMessageThatFailedMakesTheNextRefreshRead() throws Exception {
        assertEquals(200, register("600"));
        awaitRuns(1);
        assertEquals(200, register("600"));
        Waits.until(20_000, () -> stats().skippedChecks() == 1, "a refresh skipped the check");

        CompletableFuture<SipResponse> sent = CompletableFuture.supplyAsync(() -> {
            try {
                return sendAsAlice(message());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        int refused = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!sent.isDone() && System.nanoTime() < deadline) {
            if (receive() instanceof SipRequest m && m.isMethod(SipRequest.MESSAGE)) {
                answer(m, 480); // the phone cannot take it now
                refused++;
            }
        }
        assertEquals(202, sent.get(20, TimeUnit.SECONDS).status(), "alicePeer stored the MESSAGE offline");
        assertTrue(refused >= 1, "the MESSAGE reached the phone through bobPeer");
        assertEquals(1, alicePeer.offline().orElseThrow().stats().stored());
        assertEquals(0, stats().stored(), "bobPeer stored nothing itself: its hint is the relayed failure");

        long gets = offlineGets.get();
        assertEquals(200, register("600"));
        SipRequest delivered = null;
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (delivered == null && System.nanoTime() < deadline) {
            if (receive() instanceof SipRequest m && m.isMethod(SipRequest.MESSAGE)
                    && m.from().uri().toString().equals("sip:alice@" + DOMAIN)) {
                delivered = m;
            }
        }
        assertTrue(delivered != null, "the refresh after the failed relay delivered the stored MESSAGE");
        assertEquals("hi", delivered.bodyText());
        answer(delivered, 200);
        assertTrue(offlineGets.get() > gets, "the refresh read offline:bob");
        Waits.until(20_000, () -> stats().removed() == 1, "the delivered message is removed");
        assertEquals(1, stats().delivered());
    }

    @Test
    void aRefreshAfterTheRecheckBoundReadsAgain() throws Exception {
        bobPeer.offline().orElseThrow().recheckAfter(Duration.ofMillis(300));
        assertEquals(200, register("600"));
        awaitRuns(1);
        Thread.sleep(600); // past the bound: the last complete read is too old to answer this refresh
        assertEquals(200, register("600"));
        awaitRuns(2);
        assertEquals(2, offlineGets.get());
        assertEquals(0, stats().skippedChecks());
    }

    @Test
    void aStoppedRunMakesTheNextRefreshReadAgain() throws Exception {
        failOfflineGets.set(true);
        assertEquals(200, register("600"));
        Waits.until(20_000, () -> stats().stoppedRuns() == 1, "the first read failed");
        failOfflineGets.set(false);
        assertEquals(200, register("600"));
        awaitRuns(2);
        assertEquals(2, offlineGets.get(), "the refresh after a stopped run read again");
        assertEquals(1, stats().stoppedRuns());
        // that read was complete: the next refresh skips
        assertEquals(200, register("600"));
        Waits.until(20_000, () -> stats().skippedChecks() == 1, "the following refresh skipped the check");
        assertEquals(2, offlineGets.get());
    }

    String message() {
        return "MESSAGE sip:bob@" + DOMAIN + " SIP/2.0\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:" + alice.getLocalPort() + ";branch=z9hG4bK"
                + ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE) + ";rport\n"
                + "From: <sip:alice@" + DOMAIN + ">;tag=a1\n"
                + "To: <sip:bob@" + DOMAIN + ">\n"
                + "Call-ID: msg-" + ThreadLocalRandom.current().nextLong() + "\n"
                + "CSeq: 1 MESSAGE\n"
                + "Max-Forwards: 70\n"
                + "Content-Type: text/plain\nContent-Length: 2\n\nhi";
    }

    /** Sends from alice to alicePeer; a 407 is answered once with her credentials, in a new transaction. */
    SipResponse sendAsAlice(String text) throws Exception {
        RawPhone p = new RawPhone(alice);
        SipResponse first = p.send(alicePeer.localAddress(), text);
        if (first.status() != 407) {
            return first;
        }
        String auth = RawPhone.proxyDigest(first, "alice", DOMAIN, "alice-secret", "MESSAGE", "sip:bob@" + DOMAIN);
        String again = text.replace("CSeq: 1 MESSAGE", "CSeq: 2 MESSAGE")
                .replaceFirst("branch=z9hG4bK[^;\n]*", "branch=z9hG4bK" + ThreadLocalRandom.current().nextLong(1,
                        Long.MAX_VALUE))
                .replaceFirst("\nMax-Forwards:", "\nProxy-Authorization: " + auth + "\nMax-Forwards:");
        return p.send(alicePeer.localAddress(), again);
    }
}
