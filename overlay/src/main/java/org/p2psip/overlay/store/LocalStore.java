package org.p2psip.overlay.store;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;

/**
 * A node's local share of the DHT, as the overlay uses it. {@link ValueStore} keeps it in memory; the storage
 * module keeps it on disk so a restarted node still holds its records. Every implementation asks its
 * {@link StoragePolicy} before it stores or removes, and enforces its quotas. Called on the node's thread.
 */
public interface LocalStore {
    /**
     * Stores {@code value} under {@code key} if the policy and the quotas allow it.
     *
     * @param source who is charged for the bytes (the sender's IP or endpoint, per configuration); a store
     *               may charge the value's owner instead
     */
    ValueStore.Outcome put(NodeId key, DhtValue value, Object source, long now);

    /** Removes the value (owner, nonce) if the policy allows, leaving a tombstone until {@code tombstoneUntil}. */
    ValueStore.Outcome remove(StoragePolicy.RemoveRequest req, long tombstoneUntil, Object source, long now);

    /**
     * Runs its policy's {@link StoragePolicy#precheckPut} (the checks of a value that do not depend on what is
     * stored). Any thread; the default does nothing ahead.
     */
    default StoragePolicy.Decision precheckPut(NodeId key, DhtValue value, long now) {
        return null;
    }

    /** Its policy's {@link StoragePolicy#checksAhead}; the default: true. */
    default boolean checksAhead(NodeId key, DhtValue value) {
        return true;
    }

    /** Runs its policy's {@link StoragePolicy#precheckRemove}. Any thread; the default does nothing ahead. */
    default StoragePolicy.Decision precheckRemove(StoragePolicy.RemoveRequest req, long now) {
        return null;
    }

    /** Whether exactly {@code value} is stored under {@code key} (a repeated put changes nothing, checks nothing). */
    default boolean holds(NodeId key, DhtValue value, long now) {
        return get(key, now).contains(value);
    }

    /** The live values at {@code key}, in value-id order. */
    List<DhtValue> get(NodeId key, long now);

    /**
     * Values after {@code placemark}, at most {@code maxValues} (0: no count limit) and about {@code maxBytes}.
     * The default pages over {@link #get}; stores with an index override it.
     */
    default ValueStore.Page page(NodeId key, int maxValues, Bytes placemark, int maxBytes, long now) {
        List<DhtValue> all = new ArrayList<>(get(key, now));
        all.sort((a, b) -> a.id().compareTo(b.id()));
        int start = 0;
        if (!placemark.isEmpty()) {
            DhtValue.ValueId after = ValueStore.decodePlacemark(placemark);
            if (after == null) {
                return new ValueStore.Page(List.of(), Bytes.EMPTY);
            }
            while (start < all.size() && all.get(start).id().compareTo(after) <= 0) {
                start++;
            }
        }
        List<DhtValue> out = new ArrayList<>();
        int size = 0;
        int i = start;
        for (; i < all.size(); i++) {
            DhtValue v = all.get(i);
            if ((maxValues > 0 && out.size() >= maxValues) || (!out.isEmpty() && size + v.footprint() > maxBytes)) {
                break;
            }
            out.add(v);
            size += v.footprint();
        }
        Bytes next = i < all.size() && !out.isEmpty() ? ValueStore.encodePlacemark(out.get(out.size() - 1).id()) : Bytes.EMPTY;
        return new ValueStore.Page(out, next);
    }

    /** Drops expired values and tombstones; reports each expired value to {@code expired}. */
    void sweep(long now, BiConsumer<NodeId, DhtValue> expired);

    /** Calls {@code action} for every key with live values (for replication and hand-over). */
    void forEachKey(long now, BiConsumer<NodeId, List<DhtValue>> action);

    int keyCount();

    long valueCount();

    long bytes();

    long maxBytes();
}
