package org.p2psip.sip.registrar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.ValueEvent;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.store.StoragePolicy;

class DhtContactStoreTest {
    /** A one-node DHT in memory that applies the SecretHashPolicy, as a real store would. */
    static class MemoryDhtBase implements Dht {
        final Map<NodeId, Map<DhtValue.ValueId, DhtValue>> data = new ConcurrentHashMap<>();
        final SecretHashPolicy policy = new SecretHashPolicy();
        final AtomicLong now;

        MemoryDhtBase(AtomicLong now) {
            this.now = now;
        }

        @Override
        public CompletableFuture<PutResult> put(NodeId key, DhtValue value) {
            Map<DhtValue.ValueId, DhtValue> m = data.computeIfAbsent(key, k -> new ConcurrentHashMap<>());
            StoragePolicy.Decision d = policy.checkPut(key, value, m.get(value.id()), now.get());
            if (!d.accepted()) {
                return CompletableFuture.failedFuture(new IllegalStateException(d.reason()));
            }
            m.put(value.id(), value);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<List<DhtValue>> get(NodeId key) {
            return CompletableFuture.completedFuture(new ArrayList<>(data.getOrDefault(key, Map.of()).values()));
        }

        @Override
        public CompletableFuture<PutResult> remove(NodeId key, Bytes owner, Bytes nonce, Bytes proof) {
            Map<DhtValue.ValueId, DhtValue> m = data.getOrDefault(key, Map.of());
            DhtValue v = m.get(new DhtValue.ValueId(owner, nonce));
            if (v == null || !SecretHashPolicy.sha1(proof).equals(owner)) {
                return CompletableFuture.failedFuture(new IllegalStateException("remove refused"));
            }
            m.remove(v.id());
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public Subscription listen(NodeId key, Consumer<ValueEvent> listener) {
            throw new UnsupportedOperationException();
        }
    }

    final AtomicLong now = new AtomicLong(1_000);
    final MemoryDhtBase dht = new MemoryDhtBase(now);
    final DhtContactStore store = new DhtContactStore(dht, now::get);
    static final String AOR = "sip:bob@p2p.test";

    ContactBinding binding(String contact, String q, long expiresAt) {
        return new ContactBinding(AOR, contact, q, "sip:127.0.0.1:5070;lr", expiresAt);
    }

    @Test
    void recordRoundTrips() {
        ContactBinding b = binding("<sip:bob@10.0.0.1:5062;transport=tcp>;+sip.instance=\"<urn:x>\"", "0.7", 5);
        assertEquals(b, ContactBinding.decode(b.encode(), 5));
        ContactBinding withPath = new ContactBinding(AOR, "<sip:bob@10.0.0.1>", null, "sip:127.0.0.1:5070;lr",
                List.of("<sip:10.0.0.9:5060;lr>", "<sip:10.0.0.8;lr>"), 7);
        assertEquals(withPath, ContactBinding.decode(withPath.encode(), 7));
    }

    @Test
    void severalDevicesRefreshAndRemove() {
        store.put(binding("<sip:bob@10.0.0.1:5062>", null, 61_000)).join();
        store.put(binding("<sip:bob@10.0.0.2:5062>", "0.5", 61_000)).join();
        assertEquals(2, store.lookup(AOR).join().size());
        assertEquals(2, dht.data.get(NodeId.ofName(AOR)).size());

        // refresh: same data, later expiry: the same DHT value re-put
        store.put(binding("<sip:bob@10.0.0.1:5062>", null, 121_000)).join();
        assertEquals(2, dht.data.get(NodeId.ofName(AOR)).size());
        assertTrue(store.lookup(AOR).join().stream().anyMatch(b -> b.expiresAtMillis() == 121_000));

        // changed q: the old value is removed with the secret, the new one put
        store.put(binding("<sip:bob@10.0.0.1:5062>", "0.9", 121_000)).join();
        assertEquals(2, dht.data.get(NodeId.ofName(AOR)).size());

        store.remove(AOR, "<sip:bob@10.0.0.1:5062>").join();
        List<ContactBinding> left = store.lookup(AOR).join();
        assertEquals(1, left.size());
        assertEquals("<sip:bob@10.0.0.2:5062>", left.get(0).contact());

        now.set(62_000); // expired bindings are not returned
        assertEquals(List.of(), store.lookup(AOR).join());
    }

    @Test
    void foreignJunkUnderTheKeyIsIgnored() {
        dht.put(NodeId.ofName(AOR), SecretHashPolicy.value(Bytes.utf8("junk"), Bytes.EMPTY, 99_000_000)).join();
        store.put(binding("<sip:bob@10.0.0.1:5062>", null, 61_000)).join();
        assertEquals(1, store.lookup(AOR).join().size());
    }
}
