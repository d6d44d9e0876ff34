package org.p2psip.sip.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.ValueEvent;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.registrar.DigestAccounts;
import org.p2psip.sip.registrar.SignedContactStore;
import org.p2psip.sip.testing.RawPhone;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.ResourceName;

/**
 * On a real 3-node loopback overlay running the verifying policy: a REGISTER refresh whose put's replies confirm the
 * AOR's bindings as the peer last read them is answered without reading the AOR back; a second device registered
 * through another peer, and its removal, are seen in the replies' summaries, so the next REGISTER reads and its 200
 * lists exactly the live contacts.
 */
class ConfirmedRegistrationTest {
    static final String DOMAIN = "p2p.test";
    static final String BOB = "bob@" + DOMAIN;

    /** The overlay node of peer 1, counting the gets of bob's contact key. */
    static final class CountingDht implements Dht {
        final Dht inner;
        final Map<NodeId, AtomicInteger> gets = new ConcurrentHashMap<>();

        CountingDht(Dht inner) {
            this.inner = inner;
        }

        int gets(NodeId key) {
            AtomicInteger n = gets.get(key);
            return n == null ? 0 : n.get();
        }

        @Override
        public CompletableFuture<PutResult> put(NodeId key, DhtValue value) {
            return inner.put(key, value);
        }

        @Override
        public CompletableFuture<List<DhtValue>> get(NodeId key) {
            gets.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            return inner.get(key);
        }

        @Override
        public CompletableFuture<PutResult> remove(NodeId key, Bytes owner, Bytes nonce, Bytes proof) {
            return inner.remove(key, owner, nonce, proof);
        }

        @Override
        public Subscription listen(NodeId key, Consumer<ValueEvent> listener) {
            return inner.listen(key, listener);
        }
    }

    LoopbackOverlay overlay;
    CountingDht counting;
    SipPeer peer1;
    SipPeer peer2;
    RawPhone phoneA;
    RawPhone phoneB;
    int cseqA = 1;
    int cseqB = 1;
    final NodeId bobKey = ResourceName.sip(BOB).key();

    @BeforeEach
    void start() throws Exception {
        overlay = new LoopbackOverlay(3, 23);
        counting = new CountingDht(overlay.node(0));
        peer1 = SipPeer.start(config(), counting);
        peer2 = SipPeer.start(config(), overlay.node(1));
        phoneA = new RawPhone(10_000);
        phoneB = new RawPhone(10_000);
    }

    static SipPeer.Config config() {
        // every REGISTER stores (as in bench sip), so each refresh is a put whose replies can confirm the view
        return SipPeer.Config.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), DOMAIN,
                DigestAccounts.of(Map.of("bob", "secret"))).withKeyKdf(new PrivateKeyRecord.KdfParams(1024, 1, 1))
                .withRefreshStoreFraction(0);
    }

    @AfterEach
    void stop() {
        phoneA.close();
        phoneB.close();
        peer1.close();
        peer2.close();
        overlay.close();
    }

    /** REGISTERs bob's {@code phone} at {@code peer} (with digest) and gives the 200's Contact URIs. */
    Set<String> register(RawPhone phone, SipPeer peer, String expires) throws Exception {
        boolean a = phone == phoneA;
        String contact = "Contact: <sip:bob@127.0.0.1:" + phone.port() + ">\n";
        String callId = "reg-" + phone.port();
        SipResponse challenge = phone.send(peer.localAddress(),
                phone.register("bob", DOMAIN, callId, a ? cseqA++ : cseqB++, contact, expires, null));
        assertEquals(401, challenge.status(), challenge.toString());
        String auth = RawPhone.digest("SHA-256", "bob", DOMAIN, "secret", RawPhone.nonce(challenge));
        SipResponse ok = phone.send(peer.localAddress(),
                phone.register("bob", DOMAIN, callId, a ? cseqA++ : cseqB++, contact, expires, auth));
        assertEquals(200, ok.status(), ok.toString());
        return ok.contacts().stream().map(c -> c.address().uri().toString()).collect(Collectors.toSet());
    }

    String uri(RawPhone phone) {
        return "sip:bob@127.0.0.1:" + phone.port();
    }

    SignedContactStore store1() {
        return (SignedContactStore) peer1.contacts();
    }

    /** A REGISTER of phone A at peer 1, one second after the last (signed expiries have a one-second resolution). */
    Set<String> refreshA() throws Exception {
        Thread.sleep(1_100);
        return register(phoneA, peer1, "600");
    }

    @Test
    void refreshesAreAnsweredFromTheConfirmedViewUntilSomethingElseChanges() throws Exception {
        assertEquals(Set.of(uri(phoneA)), register(phoneA, peer1, "600"));
        assertEquals(0, store1().confirmedRegisters(), "a new binding is read back");

        // (a) a refresh of the single binding: the put's replies confirm the view, no get of bob's contacts
        int gets = counting.gets(bobKey);
        long confirmed = store1().confirmedRegisters();
        assertEquals(Set.of(uri(phoneA)), refreshA());
        assertEquals(confirmed + 1, store1().confirmedRegisters(), "the refresh was answered from the view");
        assertEquals(gets, counting.gets(bobKey), "no get of bob's contacts for a confirmed refresh");
        assertEquals(Set.of(uri(phoneA)), refreshA());
        assertEquals(gets, counting.gets(bobKey));

        // (b) a second device through peer 2: the next put's summaries show a value peer 1's view lacks, so it reads
        assertEquals(Set.of(uri(phoneA), uri(phoneB)), register(phoneB, peer2, "600"));
        long readBacks = store1().readBackRegisters();
        assertEquals(Set.of(uri(phoneA), uri(phoneB)), refreshA(), "both devices listed in peer 1's 200");
        assertEquals(readBacks + 1, store1().readBackRegisters());
        assertEquals(gets + 1, counting.gets(bobKey), "one read of bob's contacts");
        // and the view now holds both: the next refresh is confirmed again
        assertEquals(Set.of(uri(phoneA), uri(phoneB)), refreshA());
        assertEquals(gets + 1, counting.gets(bobKey));

        // (c) the other device unregisters: the summaries lack its value, peer 1 reads, its 200 lists A alone
        assertEquals(Set.of(uri(phoneA)), register(phoneB, peer2, "0"));
        assertEquals(Set.of(uri(phoneA)), refreshA(), "the removed device is no longer listed");
        assertEquals(gets + 2, counting.gets(bobKey));
        assertEquals(Set.of(uri(phoneA)), refreshA());
        assertEquals(gets + 2, counting.gets(bobKey), "confirmed again once read");
        assertTrue(store1().confirmedRegisters() >= 4, store1().confirmedRegisters() + " confirmed");
    }
}
