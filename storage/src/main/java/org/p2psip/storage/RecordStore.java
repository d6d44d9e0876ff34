package org.p2psip.storage;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.StoragePolicy;
import org.p2psip.overlay.store.ValueStore.Outcome;
import org.p2psip.overlay.wire.Message.Status;

/**
 * A node's records on disk, in an H2 MVStore file: several values per key, one per (owner, nonce), with
 * absolute expiry, tombstones for removed values, a quota for the whole store and one per writer (owner), and the
 * TOFU name claims ({@link #nameOwners()}). Every put and remove goes through the {@link StoragePolicy} first and,
 * with {@link Options#commitEachWrite()}, is committed before it returns, so an acknowledged write survives a crash
 * of the process (kill -9). Power loss is not covered: MVStore does not force the file to disk on each commit.
 * Memory holds only the per-owner byte counts; values live in the MVStore, whose page cache is bounded.
 * Thread-safe (methods are synchronized).
 */
public final class RecordStore implements AutoCloseable {
    /**
     * @param maxBytes quota for the whole store (footprints as in {@link DhtValue#footprint()})
     * @param maxBytesPerOwner quota for one writer (owner)
     * @param maxValuesPerKey values one key may hold
     * @param maxTtlMillis later expiries are clamped to now + this
     * @param commitEachWrite commit before a write returns (a durable acknowledgement); false leaves commits to
     *        {@link #commit()} and MVStore's background writer (about one second)
     * @param cacheMegabytes the MVStore page cache
     */
    public record Options(long maxBytes, long maxBytesPerOwner, int maxValuesPerKey, long maxTtlMillis, boolean commitEachWrite,
            int cacheMegabytes) {
        public static Options defaults() {
            return new Options(256L << 20, 4L << 20, 64, 7L * 24 * 3600 * 1000, true, 16);
        }
    }

    private static final HexFormat HEX = HexFormat.of();
    private final MVStore mv;
    private final MVMap<String, byte[]> values;
    private final MVMap<String, Long> tombstones;
    private final MVMap<String, Boolean> expiry;
    private final MVMap<String, byte[]> claims;
    private final Options options;
    private final HashMap<Bytes, Long> bytesByOwner = new HashMap<>();
    private StoragePolicy policy;
    private long bytes;
    private long count;

    private RecordStore(MVStore mv, Options options) {
        this.mv = mv;
        this.options = options;
        this.values = mv.openMap("values");
        this.tombstones = mv.openMap("tombstones");
        this.expiry = mv.openMap("expiry");
        this.claims = mv.openMap("claims");
        for (Map.Entry<String, byte[]> e : values.entrySet()) {
            DhtValue v = decode(e.getKey(), e.getValue());
            charge(v.owner(), v.footprint());
            count++;
        }
    }

    /** Opens (or creates) the store in {@code file} with a fixed policy. */
    public static RecordStore open(Path file, Options options, StoragePolicy policy) {
        return open(file, options, s -> policy);
    }

    /**
     * Opens the store and builds its policy with access to it, e.g.
     * {@code s -> SignedRecordPolicy.tofu(s.nameOwners())} so TOFU claims persist too.
     */
    public static RecordStore open(Path file, Options options, Function<RecordStore, StoragePolicy> policy) {
        MVStore.Builder b = new MVStore.Builder().fileName(file.toString()).cacheSize(options.cacheMegabytes());
        if (options.commitEachWrite()) {
            b.autoCommitDisabled();
        }
        RecordStore s = new RecordStore(b.open(), options);
        s.policy = Objects.requireNonNull(policy.apply(s), "policy");
        return s;
    }

    /** Stores {@code value} under {@code key} if the policy, the tombstones and the quotas allow it. */
    public synchronized Outcome put(NodeId key, DhtValue value, long now) {
        if (value.expiredAt(now)) {
            return fail(Status.REFUSED, Refusal.EXPIRED.reason("the value has already expired"));
        }
        if (value.expiresAtMillis() - now > options.maxTtlMillis()) {
            value = new DhtValue(value.owner(), value.nonce(), value.data(), now + options.maxTtlMillis());
        }
        String id = id(key, value.owner(), value.nonce());
        Long until = tombstones.get(id);
        if (until != null && until > now && value.expiresAtMillis() <= until) {
            return fail(Status.REFUSED, Refusal.REPLAY.reason("this value was removed"));
        }
        byte[] old = values.get(id);
        DhtValue existing = old == null ? null : decode(id, old);
        if (value.equals(existing)) {
            return new Outcome(Status.OK, "", false, null);
        }
        StoragePolicy.Decision d = policy.checkPut(key, value, existing, now);
        if (!d.accepted()) {
            return fail(Status.REFUSED, d.reason());
        }
        if (existing == null && countAt(key, options.maxValuesPerKey()) >= options.maxValuesPerKey()) {
            return fail(Status.CAPACITY, "key holds the maximum of " + options.maxValuesPerKey() + " values");
        }
        long delta = value.footprint() - (existing == null ? 0 : existing.footprint());
        if (delta > 0 && bytes + delta > options.maxBytes()) {
            return fail(Status.CAPACITY, "node store is full (" + options.maxBytes() + " bytes); try other replicas later");
        }
        if (delta > 0 && bytesByOwner.getOrDefault(value.owner(), 0L) + delta > options.maxBytesPerOwner()) {
            return fail(Status.CAPACITY, "this writer's share of the node's store is used up (" + options.maxBytesPerOwner() + " bytes)");
        }
        if (existing != null) {
            expiry.remove(expiryKey(existing.expiresAtMillis(), id));
            charge(existing.owner(), -existing.footprint());
        } else {
            count++;
        }
        values.put(id, encode(value));
        expiry.put(expiryKey(value.expiresAtMillis(), id), Boolean.TRUE);
        charge(value.owner(), value.footprint());
        durable();
        return new Outcome(Status.OK, "", true, value);
    }

    /** Removes the value (owner, nonce) if the policy allows, leaving a tombstone until {@code tombstoneUntil}. */
    public synchronized Outcome remove(StoragePolicy.RemoveRequest req, long tombstoneUntil, long now) {
        String id = id(req.key(), req.owner(), req.nonce());
        byte[] old = values.get(id);
        DhtValue existing = old == null ? null : decode(id, old);
        StoragePolicy.Decision d = policy.checkRemove(req.key(), req, existing, now);
        if (!d.accepted()) {
            return fail(Status.REFUSED, d.reason());
        }
        long until = Math.min(Math.max(tombstoneUntil, existing == null ? 0 : existing.expiresAtMillis()), now + options.maxTtlMillis());
        if (until > now) {
            tombstones.put(id, until);
        }
        if (existing == null) {
            durable();
            return new Outcome(Status.OK, "", false, null);
        }
        values.remove(id);
        expiry.remove(expiryKey(existing.expiresAtMillis(), id));
        charge(existing.owner(), -existing.footprint());
        count--;
        durable();
        return new Outcome(Status.OK, "", true, existing);
    }

    /** The live values at {@code key}, in (owner, nonce) order. */
    public synchronized List<DhtValue> get(NodeId key, long now) {
        List<DhtValue> out = new ArrayList<>();
        String prefix = key.toHex() + "/";
        Iterator<String> it = values.keyIterator(prefix);
        while (it.hasNext()) {
            String id = it.next();
            if (!id.startsWith(prefix)) {
                break;
            }
            DhtValue v = decode(id, values.get(id));
            if (!v.expiredAt(now)) {
                out.add(v);
            }
        }
        return out;
    }

    /** Drops expired values and tombstones; reports each expired value. Returns how many values expired. */
    public synchronized int sweep(long now, BiConsumer<NodeId, DhtValue> expired) {
        int n = 0;
        String end = String.format("%016x", now + 1);
        List<String> due = new ArrayList<>();
        Iterator<String> it = expiry.keyIterator(null);
        while (it.hasNext()) {
            String k = it.next();
            if (k.compareTo(end) >= 0) {
                break;
            }
            due.add(k);
        }
        for (String k : due) {
            String id = k.substring(17);
            expiry.remove(k);
            byte[] raw = values.remove(id);
            if (raw != null) {
                DhtValue v = decode(id, raw);
                charge(v.owner(), -v.footprint());
                count--;
                n++;
                expired.accept(NodeId.fromHex(id.substring(0, 40)), v);
            }
        }
        tombstones.entrySet().removeIf(e -> e.getValue() <= now);
        durable();
        return n;
    }

    /** Calls {@code action} for every key with live values (to reload the overlay's store, or to republish). */
    public synchronized void forEachKey(long now, BiConsumer<NodeId, List<DhtValue>> action) {
        String last = null;
        for (String id : values.keySet()) {
            String k = id.substring(0, 40);
            if (!k.equals(last)) {
                last = k;
                NodeId key = NodeId.fromHex(k);
                List<DhtValue> live = get(key, now);
                if (!live.isEmpty()) {
                    action.accept(key, live);
                }
            }
        }
    }

    /** Number of keys with stored values (a scan: for status output, not for hot paths). */
    public synchronized int keyCount() {
        int n = 0;
        String last = null;
        for (String id : values.keySet()) {
            String k = id.substring(0, 40);
            if (!k.equals(last)) {
                last = k;
                n++;
            }
        }
        return n;
    }

    /** The store's byte quota. */
    public long maxBytes() {
        return options.maxBytes();
    }

    /** TOFU claims kept in this store, so they survive a restart. */
    public NameOwners nameOwners() {
        return new NameOwners() {
            @Override
            public Bytes claim(String subject, Bytes owner) {
                synchronized (RecordStore.this) {
                    byte[] prev = claims.putIfAbsent(subject, owner.toArray());
                    if (prev == null) {
                        durable();
                        return owner;
                    }
                    return Bytes.wrap(prev);
                }
            }

            @Override
            public Bytes ownerOf(String subject) {
                byte[] b = claims.get(subject);
                return b == null ? null : Bytes.wrap(b);
            }
        };
    }

    public synchronized long bytes() {
        return bytes;
    }

    public synchronized long valueCount() {
        return count;
    }

    public synchronized long bytesOf(Bytes owner) {
        return bytesByOwner.getOrDefault(owner, 0L);
    }

    /** Makes every write so far durable (needed only without {@link Options#commitEachWrite()}). */
    public synchronized void commit() {
        mv.commit();
    }

    @Override
    public synchronized void close() {
        mv.close();
    }

    private void durable() {
        if (options.commitEachWrite()) {
            mv.commit();
        }
    }

    private int countAt(NodeId key, int cap) {
        String prefix = key.toHex() + "/";
        Iterator<String> it = values.keyIterator(prefix);
        int n = 0;
        while (it.hasNext() && n < cap && it.next().startsWith(prefix)) {
            n++;
        }
        return n;
    }

    private void charge(Bytes owner, long delta) {
        bytes += delta;
        bytesByOwner.merge(owner, delta, (a, b) -> a + b == 0 ? null : a + b);
    }

    private static Outcome fail(Status s, String reason) {
        return new Outcome(s, reason, false, null);
    }

    /** key hex / owner hex / nonce hex: sorts by key, then (owner, nonce) as the overlay does. */
    private static String id(NodeId key, Bytes owner, Bytes nonce) {
        return key.toHex() + "/" + owner.hex() + "/" + nonce.hex();
    }

    private static String expiryKey(long expiresAt, String id) {
        return String.format("%016x/%s", expiresAt, id);
    }

    private static byte[] encode(DhtValue v) {
        byte[] d = v.data().unsafeArray();
        return ByteBuffer.allocate(8 + d.length).putLong(v.expiresAtMillis()).put(d).array();
    }

    private static DhtValue decode(String id, byte[] raw) {
        int a = id.indexOf('/');
        int b = id.indexOf('/', a + 1);
        ByteBuffer buf = ByteBuffer.wrap(raw);
        long exp = buf.getLong();
        byte[] data = new byte[buf.remaining()];
        buf.get(data);
        return new DhtValue(Bytes.wrap(HEX.parseHex(id.substring(a + 1, b))), Bytes.wrap(HEX.parseHex(id.substring(b + 1))),
                Bytes.wrap(data), exp);
    }
}
