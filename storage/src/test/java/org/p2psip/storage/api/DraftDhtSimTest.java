package org.p2psip.storage.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.p2psip.overlay.DhtException;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.PutResult;
import org.p2psip.storage.Contact;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.DhtService;
import org.p2psip.storage.Namespaces;
import org.p2psip.storage.RecordKey;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.ValueContent;

/** The draft's DHT API on 30 real OverlayNodes (OverlayConfig.defaults()) in a simulated network. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DraftDhtSimTest {
    private SimOverlay sim;

    @BeforeAll
    void overlay() {
        sim = new SimOverlay(30, 7);
    }

    private Instant in(long seconds) {
        return Instant.ofEpochMilli(sim.net.now()).plusSeconds(seconds);
    }

    private byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void smallImmutableValueRoundTripsByFullAndDraftKey() {
        byte[] v = "\0starts with a nul byte, still a plain value".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ImmutKey k = sim.await(sim.dht(3).putImmut(v, in(3600)));
        assertEquals(ImmutableValues.keyOf(ImmutableValues.dataNode(v, 0, v.length)), k);
        DraftDht.Immutable got = sim.await(sim.dht(17).getImmut(k)).orElseThrow();
        assertArrayEquals(v, got.value());
        assertEquals(1, got.chunks());
        assertArrayEquals(v, sim.await(sim.dht(21).getImmut(k.dhtKey())).orElseThrow().value());
        assertEquals(Optional.empty(), sim.await(sim.dht(5).getImmut(ImmutableValues.keyOf(new byte[] {1, 2}))));
    }

    @Test
    void oneMebibyteRoundTripsWithDefaultChunks() {
        byte[] v = random(1 << 20, 1);
        ImmutKey k = sim.await(sim.dht(1).putImmut(v, in(3600)));
        DraftDht.Immutable got = sim.await(sim.dht(28).getImmut(k)).orElseThrow();
        assertArrayEquals(v, got.value());
        assertEquals(18 + 1, got.chunks(), "18 chunks of 60 KiB and one index");
        // a re-put of the same value with a shorter expiry is accepted as "already stored longer"
        assertEquals(k, sim.await(sim.dht(2).putImmut(v, in(60))));
    }

    @Test
    void oneMebibyteRoundTripsWithTheDraftsOneKilobyteChunks() {
        byte[] v = random(1 << 20, 2);
        DraftDht.Options small = DraftDht.Options.defaults().withChunkBytes(1024).withParallelism(16);
        ImmutKey k = sim.await(sim.dht(4).putImmut(v, in(3600)));
        ImmutKey k1024 = sim.await(sim.dht(4, small).putImmut(v, in(3600)));
        DraftDht.Immutable got = sim.await(sim.dht(9, small).getImmut(k1024)).orElseThrow();
        assertArrayEquals(v, got.value());
        // 1,048,576 / 1,023 = 1,026 leaves, 15 children per index: 69 + 5 + 1 index nodes
        assertEquals(1026 + 69 + 5 + 1, got.chunks());
        // the reader's chunk size does not matter: the tree describes itself
        assertArrayEquals(v, sim.await(sim.dht(12).getImmut(k1024)).orElseThrow().value());
        assertTrue(!k.equals(k1024));
    }

    @Test
    void putAuthGetGetAuthRefreshAndRemoveAuth() {
        SigningIdentity bob = SimOverlay.identity("bob@example.net");
        ResourceName aor = ResourceName.sip("bob@example.net");
        DraftDht phone = sim.dht(6);
        DhtRecord desk = DhtRecord.of(aor, in(3600), "desk", new ValueContent.Contacts(List.of(Contact.of("sip:bob@192.0.2.10:5060"))));
        DhtRecord mobile = DhtRecord.of(aor, in(3600), "mobile", new ValueContent.Contacts(List.of(Contact.of("sip:bob@198.51.100.7:5070"))));
        assertTrue(sim.await(phone.putAuth(desk, bob)).stored() > 0);
        assertTrue(sim.await(sim.dht(7).putAuth(mobile, bob)).stored() > 0);

        // a second key cannot take Bob's name over (tofu), and the refusal code reaches the writer
        SigningIdentity mallory = SimOverlay.identity("bob@example.net");
        CompletionException ex = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class,
                () -> sim.await(sim.dht(8).putAuth(DhtRecord.of(aor, in(3600), "evil",
                        new ValueContent.Contacts(List.of(Contact.of("sip:bob@203.0.113.66")))), mallory)));
        assertInstanceOf(DhtException.class, ex.getCause());
        assertTrue(ex.getCause().getMessage().contains("NOT_ENTITLED"), ex.getCause().getMessage());

        List<DraftDht.SignedValue> all = sim.await(sim.dht(20).get(aor));
        assertEquals(Set.of("desk", "mobile"), all.stream().map(DraftDht.SignedValue::nonce).collect(Collectors.toSet()));
        all.forEach(s -> assertEquals(bob.owner(), s.writer()));

        // get-auth filters by H(Kp)
        RecordKey key = RecordKey.of("k", aor);
        assertEquals(2, sim.await(sim.dht(21).getAuth(key, bob.owner())).size());
        assertEquals(0, sim.await(sim.dht(21).getAuth(key, mallory.owner())).size());

        // a REGISTER refresh: same key, value, nonce and key pair, later expiry; still one value per nonce
        Instant later = in(7200);
        sim.await(phone.refresh(desk, later, bob));
        List<DraftDht.SignedValue> after = sim.await(sim.dht(22).get(aor));
        assertEquals(2, after.size());
        DraftDht.SignedValue d = after.stream().filter(s -> s.nonce().equals("desk")).findFirst().orElseThrow();
        assertEquals(later.getEpochSecond(), d.expires().getEpochSecond());

        // remove-auth with the same nonce
        Optional<PutResult> removed = sim.await(phone.removeAuth(key, "mobile", bob));
        assertTrue(removed.isPresent() && removed.get().stored() > 0);
        assertEquals(List.of("desk"), sim.await(sim.dht(23).get(aor)).stream().map(DraftDht.SignedValue::nonce).toList());
    }

    @Test
    void offlineVoiceMessageOfOneMebibyteRoundTrips() {
        SigningIdentity bob = SimOverlay.identity("bob@example.net");
        SigningIdentity alice = SimOverlay.certifiedIdentity("alice@example.org", sim.net.now()); // senders sign with a certificate
        byte[] voice = random(1 << 20, 3);
        OfflineMessages outbox = new OfflineMessages(sim.dht(11));
        PutResult r = sim.await(outbox.leave("carol@example.net", bob.publicKey(), "carol@example.net", OfflineMessages.TYPE_AUDIO,
                voice, alice, in(86_400), "msg-1"));
        assertTrue(r.stored() > 0);
        List<OfflineMessages.Message> inbox = sim.await(new OfflineMessages(sim.dht(25)).fetch("carol@example.net", bob.privateKey()));
        assertEquals(1, inbox.size());
        assertArrayEquals(voice, inbox.get(0).content());
        assertEquals(OfflineMessages.TYPE_AUDIO, inbox.get(0).type());
        assertEquals(alice.owner(), inbox.get(0).from().writer());
    }

    @Test
    void serviceInterfaceJoinLookupLeave() {
        ServiceDirectory dir = new ServiceDirectory(sim.dht(13));
        String ns = Namespaces.P2P_SIP;
        SigningIdentity[] hosts = new SigningIdentity[5];
        for (int i = 0; i < hosts.length; i++) {
            hosts[i] = SimOverlay.identity(null);
            String ip = "192.0.2." + (10 + i);
            NodeId id = sim.await(new ServiceDirectory(sim.dht(i)).join(ns, List.of(
                    new DhtService.ServiceHost("presence", "sip:" + ip + ":5060", null),
                    new DhtService.ServiceHost("stun", "stun:" + ip + ":3478", null),
                    new DhtService.ServiceHost("turn", "turn:" + ip + ":3386", null)), hosts[i], in(3600)));
            assertEquals(ServiceDirectory.identifier(hosts[i]), id);
        }
        List<ServiceDirectory.Registration> all = sim.await(dir.hosts(ns));
        assertEquals(5, all.size());
        for (int t = 0; t < 20; t++) {
            NodeId k = NodeId.random(sim.rnd);
            ServiceDirectory.Registration got = sim.await(dir.lookup(k, ns)).orElseThrow();
            ServiceDirectory.Registration want = all.stream().filter(h -> h.id().compareTo(k) >= 0).findFirst().orElse(all.get(0));
            assertEquals(want.id(), got.id(), "successor of " + k);
            assertTrue(got.uri("stun").orElseThrow().startsWith("stun:192.0.2."));
        }
        // exactly at an identifier: that host
        assertEquals(all.get(2).id(), sim.await(dir.lookup(all.get(2).id(), ns)).orElseThrow().id());

        // leave: the host disappears, lookups move on to its successor
        ServiceDirectory.Registration gone = all.get(2);
        SigningIdentity leaver = java.util.Arrays.stream(hosts).filter(h -> ServiceDirectory.identifier(h).equals(gone.id())).findFirst().orElseThrow();
        assertTrue(sim.await(dir.leave(ns, leaver)).isPresent());
        assertEquals(all.get(3).id(), sim.await(dir.lookup(gone.id(), ns)).orElseThrow().id());
        assertEquals(4, sim.await(dir.hosts(ns)).size());
    }
}
