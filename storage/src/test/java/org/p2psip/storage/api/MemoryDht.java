package org.p2psip.storage.api;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.DhtException;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.store.StoragePolicy;
import org.p2psip.overlay.store.ValueStore;
import org.p2psip.overlay.wire.Message.Status;

/**
 * One overlay ValueStore behind the Dht interface, completing synchronously: for fast unit tests of what a storing
 * node accepts, and of what a reader does with what a (possibly lying) node returns ({@link #tamper}).
 */
final class MemoryDht implements Dht {
    final ValueStore store;
    long now = System.currentTimeMillis();
    final Map<NodeId, UnaryOperator<List<DhtValue>>> tamper = new HashMap<>();
    int gets;

    MemoryDht(StoragePolicy policy) {
        store = new ValueStore(policy, 1L << 30, 1L << 30, 1024, 7L * 24 * 3600 * 1000);
    }

    @Override
    public CompletableFuture<PutResult> put(NodeId key, DhtValue value) {
        ValueStore.Outcome o = store.put(key, value, "client", now);
        if (!o.status().ok()) {
            return CompletableFuture.failedFuture(new DhtException(o.status(), "no replica accepted the operation: "
                    + o.status() + ": " + o.reason()));
        }
        return CompletableFuture.completedFuture(new PutResult(1, 1, List.of()));
    }

    @Override
    public CompletableFuture<List<DhtValue>> get(NodeId key) {
        gets++;
        List<DhtValue> v = new ArrayList<>(store.get(key, now));
        UnaryOperator<List<DhtValue>> t = tamper.get(key);
        return CompletableFuture.completedFuture(t == null ? v : t.apply(v));
    }

    @Override
    public CompletableFuture<PutResult> remove(NodeId key, Bytes owner, Bytes nonce, Bytes proof) {
        ValueStore.Outcome o = store.remove(new StoragePolicy.RemoveRequest(key, owner, nonce, proof), now + 3_600_000, now);
        if (!o.status().ok()) {
            return CompletableFuture.failedFuture(new DhtException(Status.REFUSED, o.reason()));
        }
        return CompletableFuture.completedFuture(new PutResult(1, 1, List.of()));
    }

    @Override
    public Subscription listen(NodeId key, Consumer<org.p2psip.overlay.ValueEvent> listener) {
        throw new UnsupportedOperationException();
    }
}
