package org.p2psip.overlay.store;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.DhtValue.ValueId;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.wire.Message.Status;

/**
 * A node's local share of the DHT: several values per key, one per (owner, nonce), with absolute
 * expiry, tombstones for removed values (so a late replica cannot bring them back), and quotas in
 * bytes for the whole store and for each source, so one peer cannot fill a node. Used on the node's
 * thread only.
 */
public final class ValueStore implements LocalStore {
    private final StoragePolicy policy;
    private final long maxBytes;
    private final long maxBytesPerSource;
    private final int maxValuesPerKey;
    private final long maxTtlMillis;
    private final HashMap<NodeId, KeyEntry> keys = new HashMap<>();
    private final HashMap<Object, Long> bytesBySource = new HashMap<>();
    private long bytes;
    private long values;

    /**
     * @param maxBytesPerSource quota for one source (see {@link #put}); at most {@code maxBytes}
     * @param maxTtlMillis values expiring later are clamped to this (a week, as in OpenDHT)
     */
    public ValueStore(StoragePolicy policy, long maxBytes, long maxBytesPerSource, int maxValuesPerKey, long maxTtlMillis) {
        this.policy = policy;
        this.maxBytes = maxBytes;
        this.maxBytesPerSource = Math.min(maxBytesPerSource, maxBytes);
        this.maxValuesPerKey = maxValuesPerKey;
        this.maxTtlMillis = maxTtlMillis;
    }

    /** One stored value with the source charged for it. */
    private record Stored(DhtValue value, Object source) { }

    /** A removed value's marker until {@code until}, charged to {@code source} like a value. */
    private record Tombstone(long until, Object source) { }

    /** Bytes a tombstone is charged: its value id and bookkeeping. */
    static int tombstoneFootprint(ValueId id) {
        return id.owner().length() + id.nonce().length() + 64;
    }

    private static final class KeyEntry {
        /** Sorted by value id, so pages can resume after a placemark. */
        final ArrayList<Stored> values = new ArrayList<>(1);
        Map<ValueId, Tombstone> tombstones;

        int find(ValueId id) {
            int lo = 0;
            int hi = values.size() - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                int c = values.get(mid).value().id().compareTo(id);
                if (c < 0) {
                    lo = mid + 1;
                } else if (c > 0) {
                    hi = mid - 1;
                } else {
                    return mid;
                }
            }
            return -(lo + 1);
        }
    }

    /**
     * Result of a put or remove. {@code changed} tells listeners whether anything they see changed;
     * {@code value} is then the value stored or removed.
     */
    public record Outcome(Status status, String reason, boolean changed, DhtValue value) {
        static final Outcome UNCHANGED = new Outcome(Status.OK, "", false, null);

        static Outcome changed(DhtValue v) {
            return new Outcome(Status.OK, "", true, v);
        }

        static Outcome fail(Status s, String reason) {
            return new Outcome(s, reason, false, null);
        }
    }

    @Override
    public StoragePolicy.Decision precheckPut(NodeId key, DhtValue value, long now) {
        return policy.precheckPut(key, value, now);
    }

    @Override
    public StoragePolicy.Decision precheckRemove(StoragePolicy.RemoveRequest req, long now) {
        return policy.precheckRemove(req.key(), req, now);
    }

    /**
     * Stores {@code value} under {@code key} if the policy and the quotas allow it.
     *
     * @param source who is charged for the bytes (the sender's IP or endpoint, per configuration)
     */
    @Override
    public Outcome put(NodeId key, DhtValue value, Object source, long now) {
        if (value.expiredAt(now)) {
            return Outcome.fail(Status.REFUSED, "the value has already expired");
        }
        if (value.expiresAtMillis() - now > maxTtlMillis) {
            value = new DhtValue(value.owner(), value.nonce(), value.data(), now + maxTtlMillis);
        }
        KeyEntry entry = keys.get(key);
        ValueId id = value.id();
        if (entry != null && entry.tombstones != null) {
            Tombstone t = entry.tombstones.get(id);
            if (t != null && t.until() > now && value.expiresAtMillis() <= t.until()) {
                return Outcome.fail(Status.REFUSED, "this value was removed");
            }
        }
        int index = entry == null ? -1 : entry.find(id);
        Stored existing = index >= 0 ? entry.values.get(index) : null;
        if (existing != null && existing.value().equals(value)) {
            return Outcome.UNCHANGED;
        }
        StoragePolicy.Decision d = policy.checkPut(key, value, existing == null ? null : existing.value(), now);
        if (!d.accepted()) {
            return Outcome.fail(Status.REFUSED, d.reason());
        }
        value = d.stored(value);
        if (value == null) {
            return Outcome.fail(Status.REFUSED, StoragePolicy.Decision.BROKEN_REPLACEMENT);
        }
        if (existing == null && entry != null && entry.values.size() >= maxValuesPerKey) {
            return Outcome.fail(Status.CAPACITY, "key holds the maximum of " + maxValuesPerKey + " values");
        }
        long delta = value.footprint() - (existing == null ? 0 : existing.value().footprint());
        if (delta > 0 && bytes + delta > maxBytes) {
            return Outcome.fail(Status.CAPACITY, "node store is full (" + maxBytes + " bytes); try other replicas later");
        }
        // A value taken over from another source (a refresh or replica from elsewhere) is charged to
        // this source in full, so it counts in full against this source's share.
        long sourceDelta = existing != null && existing.source().equals(source) ? delta : value.footprint();
        long sourceBytes = bytesBySource.getOrDefault(source, 0L);
        if (sourceDelta > 0 && sourceBytes + sourceDelta > maxBytesPerSource) {
            return Outcome.fail(Status.CAPACITY, "your share of this node's store is used up (" + maxBytesPerSource + " bytes)");
        }
        if (entry == null) {
            entry = new KeyEntry();
            keys.put(key, entry);
        }
        if (existing != null) {
            charge(existing.source(), -existing.value().footprint());
            entry.values.set(index, new Stored(value, source));
        } else {
            entry.values.add(-(index + 1), new Stored(value, source));
            values++;
        }
        charge(source, value.footprint());
        return Outcome.changed(value);
    }

    private void charge(Object source, long delta) {
        bytes += delta;
        bytesBySource.merge(source, delta, (a, b) -> a + b == 0 ? null : a + b);
    }

    /**
     * Removes the value (owner, nonce) if the policy allows, leaving a tombstone until
     * {@code tombstoneUntil}. Tombstones count against the quotas like values: one replacing a stored value
     * is charged to that value's source (it frees more than it takes); one for a value this node does
     * not hold is charged to {@code source}, and refused with CAPACITY when that does not fit, so removes
     * of made-up values cannot fill memory.
     */
    @Override
    public Outcome remove(StoragePolicy.RemoveRequest req, long tombstoneUntil, Object source, long now) {
        KeyEntry entry = keys.get(req.key());
        ValueId id = new ValueId(req.owner(), req.nonce());
        int index = entry == null ? -1 : entry.find(id);
        Stored existing = index >= 0 ? entry.values.get(index) : null;
        StoragePolicy.Decision d = policy.checkRemove(req.key(), req, existing == null ? null : existing.value(), now);
        if (!d.accepted()) {
            return Outcome.fail(Status.REFUSED, d.reason());
        }
        long until = Math.min(Math.max(tombstoneUntil, existing == null ? 0 : existing.value().expiresAtMillis()), now + maxTtlMillis);
        Tombstone old = entry == null || entry.tombstones == null ? null : entry.tombstones.get(id);
        Tombstone tomb = null;
        if (old != null) {
            tomb = new Tombstone(Math.max(old.until(), until), old.source());
        } else if (until > now) {
            Object payer = existing != null ? existing.source() : source;
            int cost = tombstoneFootprint(id);
            if (existing == null) {
                if (bytes + cost > maxBytes) {
                    return Outcome.fail(Status.CAPACITY, "node store is full (" + maxBytes + " bytes); cannot record the removal");
                }
                if (bytesBySource.getOrDefault(source, 0L) + cost > maxBytesPerSource) {
                    return Outcome.fail(Status.CAPACITY, "your share of this node's store is used up (" + maxBytesPerSource
                            + " bytes), removal records included");
                }
            }
            tomb = new Tombstone(until, payer);
            charge(payer, cost);
        }
        if (entry == null) {
            entry = new KeyEntry();
            keys.put(req.key(), entry);
        }
        if (tomb != null) {
            if (entry.tombstones == null) {
                entry.tombstones = new HashMap<>(2);
            }
            entry.tombstones.put(id, tomb);
        }
        if (existing == null) {
            if (entry.values.isEmpty() && entry.tombstones == null) {
                keys.remove(req.key());
            }
            return Outcome.UNCHANGED;
        }
        entry.values.remove(index);
        values--;
        charge(existing.source(), -existing.value().footprint());
        return Outcome.changed(existing.value());
    }

    /** The live values at {@code key}, in value-id order. */
    @Override
    public List<DhtValue> get(NodeId key, long now) {
        KeyEntry entry = keys.get(key);
        if (entry == null) {
            return List.of();
        }
        List<DhtValue> out = new ArrayList<>(entry.values.size());
        for (Stored s : entry.values) {
            if (!s.value().expiredAt(now)) {
                out.add(s.value());
            }
        }
        return out;
    }

    /** One page of live values at a key, and the placemark of the next page (empty when done). */
    public record Page(List<DhtValue> values, Bytes placemark) { }

    /**
     * Values after {@code placemark} (the encoded id of the last value of the previous page), at most
     * {@code maxValues} (0: no count limit) and about {@code maxBytes}.
     */
    @Override
    public Page page(NodeId key, int maxValues, Bytes placemark, int maxBytes, long now) {
        KeyEntry entry = keys.get(key);
        if (entry == null) {
            return new Page(List.of(), Bytes.EMPTY);
        }
        int start = 0;
        if (!placemark.isEmpty()) {
            ValueId after = decodePlacemark(placemark);
            if (after == null) {
                return new Page(List.of(), Bytes.EMPTY);
            }
            int i = entry.find(after);
            start = i >= 0 ? i + 1 : -(i + 1);
        }
        List<DhtValue> out = new ArrayList<>();
        int size = 0;
        int i = start;
        for (; i < entry.values.size(); i++) {
            DhtValue v = entry.values.get(i).value();
            if (v.expiredAt(now)) {
                continue;
            }
            if ((maxValues > 0 && out.size() >= maxValues) || (!out.isEmpty() && size + v.footprint() > maxBytes)) {
                break;
            }
            out.add(v);
            size += v.footprint();
        }
        Bytes next = i < entry.values.size() && !out.isEmpty() ? encodePlacemark(out.get(out.size() - 1).id()) : Bytes.EMPTY;
        return new Page(out, next);
    }

    /** The placemark that resumes a page after value {@code id}. */
    public static Bytes encodePlacemark(ValueId id) {
        byte[] o = id.owner().unsafeArray();
        byte[] n = id.nonce().unsafeArray();
        byte[] b = new byte[2 + o.length + n.length];
        b[0] = (byte) o.length;
        b[1] = (byte) n.length;
        System.arraycopy(o, 0, b, 2, o.length);
        System.arraycopy(n, 0, b, 2 + o.length, n.length);
        return Bytes.wrap(b);
    }

    /** The value id a placemark resumes after, or null when it is malformed. */
    public static ValueId decodePlacemark(Bytes p) {
        byte[] b = p.unsafeArray();
        if (b.length < 2) {
            return null;
        }
        int ol = b[0] & 0xff;
        int nl = b[1] & 0xff;
        if (b.length != 2 + ol + nl) {
            return null;
        }
        byte[] o = new byte[ol];
        byte[] n = new byte[nl];
        System.arraycopy(b, 2, o, 0, ol);
        System.arraycopy(b, 2 + ol, n, 0, nl);
        return new ValueId(Bytes.wrap(o), Bytes.wrap(n));
    }

    /**
     * Drops expired values and tombstones; reports each expired value to {@code expired}.
     */
    @Override
    public void sweep(long now, BiConsumer<NodeId, DhtValue> expired) {
        Iterator<Map.Entry<NodeId, KeyEntry>> it = keys.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<NodeId, KeyEntry> e = it.next();
            KeyEntry entry = e.getValue();
            Iterator<Stored> vs = entry.values.iterator();
            while (vs.hasNext()) {
                Stored s = vs.next();
                if (s.value().expiredAt(now)) {
                    vs.remove();
                    values--;
                    charge(s.source(), -s.value().footprint());
                    expired.accept(e.getKey(), s.value());
                }
            }
            if (entry.tombstones != null) {
                Iterator<Map.Entry<ValueId, Tombstone>> ts = entry.tombstones.entrySet().iterator();
                while (ts.hasNext()) {
                    Map.Entry<ValueId, Tombstone> t = ts.next();
                    if (t.getValue().until() <= now) {
                        ts.remove();
                        charge(t.getValue().source(), -tombstoneFootprint(t.getKey()));
                    }
                }
                if (entry.tombstones.isEmpty()) {
                    entry.tombstones = null;
                }
            }
            if (entry.values.isEmpty() && entry.tombstones == null) {
                it.remove();
            }
        }
    }

    /** Calls {@code action} for every key with live values (for replication). */
    @Override
    public void forEachKey(long now, BiConsumer<NodeId, List<DhtValue>> action) {
        for (Map.Entry<NodeId, KeyEntry> e : keys.entrySet()) {
            List<DhtValue> live = get(e.getKey(), now);
            if (!live.isEmpty()) {
                action.accept(e.getKey(), live);
            }
        }
    }

    /** Snapshot of the keys held, for iteration while the store changes. */
    public List<NodeId> keys() {
        return new ArrayList<>(keys.keySet());
    }

    @Override
    public long valueCount() {
        return values;
    }

    @Override
    public int keyCount() {
        return keys.size();
    }

    @Override
    public long bytes() {
        return bytes;
    }

    @Override
    public long maxBytes() {
        return maxBytes;
    }

    /** Bytes charged to each source, tombstones included (for status output). */
    public Map<Object, Long> bytesBySource() {
        return Collections.unmodifiableMap(bytesBySource);
    }
}
