package org.p2psip.storage;

import java.util.List;
import java.util.function.BiConsumer;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.LocalStore;
import org.p2psip.overlay.store.StoragePolicy;
import org.p2psip.overlay.store.ValueStore;

/**
 * The overlay's {@link LocalStore} on a {@link RecordStore}: a node that runs on it holds its share of the DHT on
 * disk and has every record again after a restart. Quotas are the record store's, per writer (owner) rather
 * than per sending address, since stored values here are mostly signed by their owner.
 */
public final class PersistentLocalStore implements LocalStore {
    private final RecordStore records;

    public PersistentLocalStore(RecordStore records) {
        this.records = records;
    }

    @Override
    public ValueStore.Outcome put(NodeId key, DhtValue value, Object source, long now) {
        return records.put(key, value, now);
    }

    @Override
    public ValueStore.Outcome remove(StoragePolicy.RemoveRequest req, long tombstoneUntil, Object source, long now) {
        return records.remove(req, tombstoneUntil, now);
    }

    @Override
    public StoragePolicy.Decision precheckPut(NodeId key, DhtValue value, long now) {
        return records.precheckPut(key, value, now);
    }

    @Override
    public boolean checksAhead(NodeId key, DhtValue value) {
        return records.checksAhead(key, value);
    }

    @Override
    public StoragePolicy.Decision precheckRemove(StoragePolicy.RemoveRequest req, long now) {
        return records.precheckRemove(req, now);
    }

    @Override
    public List<DhtValue> get(NodeId key, long now) {
        return records.get(key, now);
    }

    @Override
    public void sweep(long now, BiConsumer<NodeId, DhtValue> expired) {
        records.sweep(now, expired);
    }

    @Override
    public void forEachKey(long now, BiConsumer<NodeId, List<DhtValue>> action) {
        records.forEachKey(now, action);
    }

    @Override
    public int keyCount() {
        return records.keyCount();
    }

    @Override
    public long valueCount() {
        return records.valueCount();
    }

    @Override
    public long bytes() {
        return records.bytes();
    }

    @Override
    public long maxBytes() {
        return records.maxBytes();
    }
}
