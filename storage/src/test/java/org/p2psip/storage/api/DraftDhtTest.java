package org.p2psip.storage.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtException;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.StoragePolicy.Decision;
import org.p2psip.overlay.store.StoragePolicy.RemoveRequest;
import org.p2psip.storage.Contact;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.DhtService;
import org.p2psip.storage.NameOwners;
import org.p2psip.storage.Namespaces;
import org.p2psip.storage.RecordKey;
import org.p2psip.storage.RecordValue;
import org.p2psip.storage.Refusal;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.ValueContent;

/** DraftDht and DraftPolicy against one in-memory overlay store: refusals, limits, and lying storing nodes. */
class DraftDhtTest {
    private final DraftPolicy policy = DraftPolicy.of(SignedRecordPolicy.tofu(NameOwners.inMemory()));
    private final MemoryDht mem = new MemoryDht(policy);
    private final DraftDht dht = new DraftDht(mem, () -> mem.now, DraftDht.Options.defaults().withChunkBytes(1024),
            DraftDht.ReadCheck.signatureOnly());

    private Instant in(long s) {
        return Instant.ofEpochMilli(mem.now).plusSeconds(s);
    }

    private static <T> T join(CompletableFuture<T> f) {
        return f.join();
    }

    private static Throwable failure(CompletableFuture<?> f) {
        CompletionException e = assertThrows(CompletionException.class, f::join);
        return e.getCause();
    }

    private static void assertRefused(Refusal code, Decision d) {
        assertFalse(d.accepted());
        assertTrue(d.reason().startsWith(code.name()), d.reason());
    }

    @Test
    void fragmentsAreMerkleNodesWithTheNulMarkerAndReassemble() {
        byte[] v = new byte[100_000];
        new Random(5).nextBytes(v);
        List<byte[]> nodes = DraftDht.fragment(v, 1024);
        byte[] root = nodes.get(nodes.size() - 1);
        assertEquals(0, root[0], "a fragmented value starts with a nul byte");
        String text = new String(root, 1, root.length - 1, StandardCharsets.US_ASCII);
        for (String h : text.split("\0")) {
            assertTrue(h.matches("[0-9a-f]{64}"), h);
        }
        ImmutKey k = join(dht.putImmut(v, in(60)));
        assertEquals(ImmutableValues.keyOf(root), k);
        DraftDht.Immutable got = join(dht.getImmut(k)).orElseThrow();
        assertArrayEquals(v, got.value());
        assertEquals(nodes.size(), got.chunks());
        assertEquals(in(60), got.expires());
        // a thousand chunks completing synchronously do not overflow the stack
        byte[] big = new byte[1 << 20];
        assertArrayEquals(big, join(dht.getImmut(join(dht.putImmut(big, in(60))))).orElseThrow().value());
    }

    @Test
    void storingNodesCheckKeyNonceAndTypeOfImmutableValues() {
        byte[] node = ImmutableValues.dataNode(new byte[] {9, 9}, 0, 2);
        DhtValue good = ImmutableValues.value(node, mem.now + 60_000);
        NodeId key = ImmutableValues.keyOf(node).dhtKey();
        assertTrue(policy.checkPut(key, good, null, mem.now).accepted());
        assertRefused(Refusal.HASH_MISMATCH, policy.checkPut(NodeId.ofName("elsewhere"), good, null, mem.now));
        assertRefused(Refusal.HASH_MISMATCH, policy.checkPut(key,
                new DhtValue(Bytes.EMPTY, Bytes.wrap(new byte[32]), good.data(), good.expiresAtMillis()), null, mem.now));
        byte[] odd = {7, 1, 2};
        assertRefused(Refusal.HASH_MISMATCH, policy.checkPut(ImmutableValues.keyOf(odd).dhtKey(), ImmutableValues.value(odd, mem.now + 1000), null, mem.now));
        byte[] badIndex = {0, 'x', 'y'};
        assertRefused(Refusal.HASH_MISMATCH, policy.checkPut(ImmutableValues.keyOf(badIndex).dhtKey(),
                ImmutableValues.value(badIndex, mem.now + 1000), null, mem.now));
        // only later expiries replace a stored copy; nobody removes an immutable value
        DhtValue shorter = ImmutableValues.value(node, mem.now + 1000);
        assertRefused(Refusal.STORED_LONGER, policy.checkPut(key, shorter, good, mem.now));
        assertRefused(Refusal.NOT_ENTITLED, policy.checkRemove(key, new RemoveRequest(key, Bytes.EMPTY, good.nonce(), Bytes.EMPTY), good, mem.now));
    }

    @Test
    void readersCheckEveryChunkAgainstItsParent() {
        byte[] v = new byte[10_000];
        new Random(6).nextBytes(v);
        List<byte[]> nodes = DraftDht.fragment(v, 1024);
        ImmutKey k = join(dht.putImmut(v, in(60)));
        // a storing node returns an altered chunk (with a self-consistent nonce): the reader finds no valid copy
        NodeId victim = ImmutableValues.keyOf(nodes.get(3)).dhtKey();
        mem.tamper.put(victim, vs -> {
            byte[] evil = nodes.get(3).clone();
            evil[10] ^= 1;
            return List.of(ImmutableValues.value(evil, mem.now + 60_000));
        });
        Throwable t = failure(dht.getImmut(k));
        assertInstanceOf(IOException.class, t);
        assertTrue(t.getMessage().contains("missing"), t.getMessage());
        // ...but a good copy next to the bad one is found
        mem.tamper.put(victim, vs -> {
            List<DhtValue> out = new ArrayList<>(vs);
            byte[] evil = nodes.get(3).clone();
            evil[10] ^= 1;
            out.add(0, ImmutableValues.value(evil, mem.now + 60_000));
            return out;
        });
        assertArrayEquals(v, join(dht.getImmut(k)).orElseThrow().value());
    }

    @Test
    void readersBoundDepthChunksAndSize() {
        // a chain of index nodes deeper than maxDepth
        byte[] leaf = ImmutableValues.dataNode(new byte[] {1}, 0, 1);
        join(mem.put(ImmutableValues.keyOf(leaf).dhtKey(), ImmutableValues.value(leaf, mem.now + 60_000)));
        ImmutKey top = ImmutableValues.keyOf(leaf);
        for (int i = 0; i < 9; i++) {
            byte[] idx = ImmutableValues.indexNode(List.of(top));
            join(mem.put(ImmutableValues.keyOf(idx).dhtKey(), ImmutableValues.value(idx, mem.now + 60_000)));
            top = ImmutableValues.keyOf(idx);
        }
        assertTrue(failure(dht.getImmut(top)).getMessage().contains("deeper"));
        // amplification: every index names the same child 15 times, four levels: 15^4 leaves of one byte
        ImmutKey amp = ImmutableValues.keyOf(leaf);
        for (int i = 0; i < 4; i++) {
            byte[] idx = ImmutableValues.indexNode(Collections.nCopies(15, amp));
            join(mem.put(ImmutableValues.keyOf(idx).dhtKey(), ImmutableValues.value(idx, mem.now + 60_000)));
            amp = ImmutableValues.keyOf(idx);
        }
        DraftDht tight = new DraftDht(mem, () -> mem.now, new DraftDht.Options(1024, 4, 1 << 20, 10_000, 8), DraftDht.ReadCheck.signatureOnly());
        mem.gets = 0;
        assertTrue(failure(tight.getImmut(amp)).getMessage().contains("more than 10000 chunks"));
        assertTrue(mem.gets <= 5, "each distinct chunk is fetched once per level: " + mem.gets);
        DraftDht small = new DraftDht(mem, () -> mem.now, new DraftDht.Options(1024, 4, 1000, 1 << 20, 8), DraftDht.ReadCheck.signatureOnly());
        assertTrue(failure(small.getImmut(amp)).getMessage().contains("exceeds 1000 bytes"));
        assertInstanceOf(IllegalArgumentException.class, failure(small.putImmut(new byte[1001], in(60))));
    }

    @Test
    void signedRecordsTooLargeForTheOverlayAreRefusedBeforeSigning() {
        SigningIdentity bob = SimOverlay.identity("bob@example.net");
        DhtRecord huge = DhtRecord.of(ResourceName.offline("bob@example.net"), in(60), "n",
                new ValueContent.Binary(Bytes.wrap(new byte[60_000])));
        Throwable t = failure(dht.putAuth(huge, bob));
        assertInstanceOf(IllegalArgumentException.class, t);
        assertTrue(t.getMessage().contains("putImmut"), t.getMessage());
    }

    @Test
    void readersDropForgedOrMisplacedValues() {
        SigningIdentity bob = SimOverlay.identity("bob@example.net");
        ResourceName aor = ResourceName.sip("bob@example.net");
        DhtRecord rec = DhtRecord.of(aor, in(600), "desk", new ValueContent.Contacts(List.of(Contact.of("sip:bob@192.0.2.1"))));
        join(dht.putAuth(rec, bob));
        assertEquals(1, join(dht.get(aor)).size());
        // a lying node returns Alice's record (valid elsewhere) under Bob's key, and Bob's with a forged owner
        SigningIdentity alice = SimOverlay.identity("alice@example.net");
        DhtValue alices;
        DhtValue bobs = join(dht.get(aor)).get(0).value();
        try {
            alices = DraftDht.signed(DhtRecord.of(ResourceName.sip("alice@example.net"), in(600), "x",
                    new ValueContent.Text("sip:alice@192.0.2.2")), alice);
        } catch (java.security.GeneralSecurityException e) {
            throw new AssertionError(e);
        }
        mem.tamper.put(aor.key(), vs -> List.of(alices, new DhtValue(alice.owner(), bobs.nonce(), bobs.data(), bobs.expiresAtMillis()), bobs));
        List<DraftDht.SignedValue> got = join(dht.get(aor));
        assertEquals(1, got.size());
        assertEquals(bob.owner(), got.get(0).writer());
    }

    @Test
    void serviceRegistrationsAreTheSignersOwn() {
        SigningIdentity host = SimOverlay.identity(null);
        SigningIdentity other = SimOverlay.identity(null);
        ServiceDirectory dir = new ServiceDirectory(dht);
        List<DhtService.ServiceHost> stun = List.of(new DhtService.ServiceHost("stun", "stun:192.0.2.1:3478", null));
        assertEquals(ServiceDirectory.identifier(host), join(dir.join(Namespaces.P2P_SIP, stun, host, in(600))));
        // registering under another host's identifier is refused
        String theirs = ServiceDirectory.identifier(host).toHex();
        DhtRecord squat = new DhtRecord(null, ServiceDirectory.serviceKey(Namespaces.P2P_SIP), new RecordValue("v", in(600), theirs, null,
                new ValueContent.Service(new DhtService(Namespaces.P2P_SIP, null, theirs, stun))));
        Throwable t = failure(dht.putAuth(squat, other));
        assertInstanceOf(DhtException.class, t);
        assertTrue(t.getMessage().contains("NOT_ENTITLED"), t.getMessage());
        // a namespace this overlay does not serve is an unknown name
        t = failure(new ServiceDirectory(dht).join("urn:example:other", stun, other, in(600)));
        assertTrue(t.getMessage().contains("BAD_NAME"), t.getMessage());
        // nobody but the host removes its registration
        DhtValue stored = join(dht.get(ServiceDirectory.serviceKey(Namespaces.P2P_SIP))).get(0).value();
        t = failure(dht.removeAuth(ServiceDirectory.serviceKey(Namespaces.P2P_SIP), stored, other));
        assertTrue(t.getMessage().contains("NOT_ENTITLED"), t.getMessage());
        assertTrue(join(dir.leave(Namespaces.P2P_SIP, host)).isPresent());
        assertEquals(List.of(), join(dir.hosts(Namespaces.P2P_SIP)));
        assertTrue(join(dir.lookup(NodeId.ofName("x"), Namespaces.P2P_SIP)).isEmpty());
        assertEquals(RecordKey.class, ServiceDirectory.serviceKey("x").getClass());
    }
}
