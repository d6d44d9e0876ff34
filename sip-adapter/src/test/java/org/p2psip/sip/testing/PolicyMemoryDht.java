package org.p2psip.sip.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.DhtException;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.ValueEvent;
import org.p2psip.overlay.store.StoragePolicy;

/**
 * A one-replica DHT in memory that applies a real {@link StoragePolicy} (e.g. the storage module's
 * {@code DraftPolicy}) to every put and remove, for tests of SIP logic that need no network. No listen.
 */
public final class PolicyMemoryDht implements Dht {
    private final Map<NodeId, Map<DhtValue.ValueId, DhtValue>> data = new ConcurrentHashMap<>();
    private final StoragePolicy policy;
    private final LongSupplier clock;

    /** Keys whose gets fail as an overloaded overlay's would (none by default). */
    public volatile java.util.function.Predicate<NodeId> failGets = k -> false;

    public PolicyMemoryDht(StoragePolicy policy, LongSupplier clock) {
        this.policy = policy;
        this.clock = clock;
    }

    @Override
    public synchronized CompletableFuture<PutResult> put(NodeId key, DhtValue value) {
        Map<DhtValue.ValueId, DhtValue> m = data.computeIfAbsent(key, k -> new ConcurrentHashMap<>());
        StoragePolicy.Decision d = policy.checkPut(key, value, m.get(value.id()), clock.getAsLong());
        if (!d.accepted()) {
            return CompletableFuture.failedFuture(new DhtException(org.p2psip.overlay.wire.Message.Status.REFUSED, "refused: " + d.reason()));
        }
        m.put(value.id(), value);
        return CompletableFuture.completedFuture(new PutResult(1, 1, List.of()));
    }

    @Override
    public CompletableFuture<List<DhtValue>> get(NodeId key) {
        if (failGets.test(key)) {
            return CompletableFuture.failedFuture(new DhtException(org.p2psip.overlay.wire.Message.Status.AGAIN,
                    "none of the nodes asked answered (test)"));
        }
        long now = clock.getAsLong();
        List<DhtValue> out = new ArrayList<>();
        for (DhtValue v : data.getOrDefault(key, Map.of()).values()) {
            if (!v.expiredAt(now)) {
                out.add(v);
            }
        }
        return CompletableFuture.completedFuture(out);
    }

    @Override
    public synchronized CompletableFuture<PutResult> remove(NodeId key, Bytes owner, Bytes nonce, Bytes proof) {
        Map<DhtValue.ValueId, DhtValue> m = data.getOrDefault(key, Map.of());
        DhtValue.ValueId id = new DhtValue.ValueId(owner, nonce);
        StoragePolicy.Decision d = policy.checkRemove(key, new StoragePolicy.RemoveRequest(key, owner, nonce, proof),
                m.get(id), clock.getAsLong());
        if (!d.accepted()) {
            return CompletableFuture.failedFuture(new DhtException(org.p2psip.overlay.wire.Message.Status.REFUSED, "refused: " + d.reason()));
        }
        m.remove(id);
        return CompletableFuture.completedFuture(new PutResult(1, 1, List.of()));
    }

    @Override
    public Subscription listen(NodeId key, Consumer<ValueEvent> listener) {
        throw new UnsupportedOperationException("no listen in the in-memory DHT");
    }
}
