package org.p2psip.storage;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's records on disk, in an H2 MVStore file: several values per key, one per (owner, nonce), with
 * absolute expiry, tombstones for removed values, a quota for the whole store and one per writer (owner), and the
 * TOFU name claims ({@link #nameOwners()}). Every put and remove goes through the {@link StoragePolicy} first.
 *
 * <p>Durability ({@link Options#commitEachWrite()}): a write is acknowledged only once a commit that holds it has
 * completed, so every acknowledged write survives a crash of the process (kill -9). Commits are <em>grouped</em>: a
 * commit takes whatever has been written since the last one, so writes that arrive while a commit runs share the
 * next; one committer thread per store makes them. {@link #put}/{@link #remove} return once durable (concurrent
 * callers share commits); {@link #putAsync}/{@link #removeAsync} return at once with a future that the committer
 * completes when the write is durable — a single thread (an overlay node's) can keep many writes in flight and still acknowledge each one only
 * after its commit. Power loss is not covered: MVStore does not force the file to disk on each commit.
 *
 * <p>Memory holds only the per-owner byte counts and the writes waiting for a commit (at most
 * {@value #MAX_PENDING}; beyond that a write is refused with {@code AGAIN}); values live in the MVStore, whose page
 * cache is bounded. Thread-safe.
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
    private static final Logger LOG = LoggerFactory.getLogger(RecordStore.class);
    /** Writes waiting for their commit, at most; more are refused with {@code AGAIN} until a commit completes. */
    public static final int MAX_PENDING = 65_536;
    private final MVStore mv;
    private final MVMap<String, byte[]> values;
    private final MVMap<String, Long> tombstones;
    private final MVMap<String, Boolean> expiry;
    private final MVMap<String, byte[]> claims;
    /** The requested expiry of values whose expiry was clamped, so their tombstones can outlive every replay. */
    private final MVMap<String, Long> requested;
    private final Options options;
    /** Guards the group-commit state below; never held while taking the store's own lock. */
    private final Object commits = new Object();
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private Thread committer;
    private boolean closing;
    /** Sequence of the last applied write (under the store lock) and of the last durable one (under commits). */
    private long written;
    private long durableUpTo;
    /** Whether a commit is running (by the committer thread or by a synchronous writer). */
    private boolean committing;
    /** Pending writes whose writer is blocked waiting ({@link #put}, {@link #remove}): the committer must not linger. */
    private int blockedWaiters;
    private long commitCount;
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
        this.requested = mv.openMap("requested");
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
        if (options.commitEachWrite()) {
            s.committer = new Thread(s::commitLoop, "record-store-commit " + file.getFileName());
            s.committer.setDaemon(true);
            s.committer.start();
        }
        return s;
    }

    /** Its policy's {@link StoragePolicy#precheckPut} (signature verification ahead); any thread. */
    public StoragePolicy.Decision precheckPut(NodeId key, DhtValue value, long now) {
        return policy.precheckPut(key, value, now);
    }

    /** Its policy's {@link StoragePolicy#precheckRemove}; any thread. */
    public StoragePolicy.Decision precheckRemove(StoragePolicy.RemoveRequest req, long now) {
        return policy.precheckRemove(req.key(), req, now);
    }

    /**
     * Stores {@code value} under {@code key} if the policy, the tombstones and the quotas allow it; with
     * {@link Options#commitEachWrite()} it returns once the write is durable (a commit shared with concurrent writers).
     */
    public Outcome put(NodeId key, DhtValue value, long now) {
        return await(putAsync(key, value, now, true));
    }

    /**
     * Like {@link #put}, but returns at once: the future completes (on the committer thread, so callbacks must not
     * block) when the write is durable, or at once for a refusal or a write that changed nothing.
     */
    public CompletableFuture<Outcome> putAsync(NodeId key, DhtValue value, long now) {
        return putAsync(key, value, now, false);
    }

    private CompletableFuture<Outcome> putAsync(NodeId key, DhtValue value, long now, boolean blocking) {
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            PreparedPut p;
            synchronized (this) {
                p = preparePut(key, value, now);
            }
            if (p.done() != null) {
                return whenDurable(p.done(), blocking);
            }
            // the policy (signature verification: the expensive part) runs outside the store's lock, so commits
            // and other writers go on meanwhile; the write then applies only if the value it was checked against
            // is still the stored one
            StoragePolicy.Decision d = checked(() -> policy.checkPut(key, p.value(), p.existing(), now));
            Applied a;
            synchronized (this) {
                a = applyPut(key, p, d, now);
            }
            if (a != null) {
                return whenDurable(a, blocking);
            }
        }
        return CompletableFuture.completedFuture(fail(Status.AGAIN, "this value is being written concurrently; retry"));
    }

    /** Attempts of a write whose stored value changed while the policy checked it. */
    private static final int MAX_ATTEMPTS = 8;
    /** The store whose policy the current thread is running (claims made then are durable with the write). */
    private static final ThreadLocal<RecordStore> CHECKING = new ThreadLocal<>();

    private StoragePolicy.Decision checked(java.util.function.Supplier<StoragePolicy.Decision> check) {
        CHECKING.set(this);
        try {
            return check.get();
        } finally {
            CHECKING.remove();
        }
    }

    /** A put's state between its two locked steps; {@code done} when it was decided without the policy. */
    private record PreparedPut(Applied done, String id, DhtValue value, long requestedExpiry, byte[] old, DhtValue existing,
            long claimsBefore) {
        static PreparedPut decided(Applied a) {
            return new PreparedPut(a, null, null, 0, null, null, 0);
        }
    }

    private PreparedPut preparePut(NodeId key, DhtValue value, long now) {
        if (value.expiredAt(now)) {
            return PreparedPut.decided(refused(Status.REFUSED, Refusal.EXPIRED.reason("the value has already expired")));
        }
        if (backlogFull()) {
            return PreparedPut.decided(refused(Status.AGAIN, "the record store is behind with its commits; retry in a moment"));
        }
        long requestedExpiry = value.expiresAtMillis();
        String id = id(key, value.owner(), value.nonce());
        if (removedBefore(id, requestedExpiry, now)) {
            return PreparedPut.decided(refused(Status.REFUSED, Refusal.REPLAY.reason("this value was removed")));
        }
        if (requestedExpiry - now > options.maxTtlMillis()) {
            value = new DhtValue(value.owner(), value.nonce(), value.data(), now + options.maxTtlMillis());
        }
        byte[] old = values.get(id);
        DhtValue existing = old == null ? null : decode(id, old);
        if (value.equals(existing)) {
            // already stored, perhaps by a write still waiting for its commit: acknowledge after that commit
            return PreparedPut.decided(new Applied(new Outcome(Status.OK, "", false, null), written));
        }
        return new PreparedPut(null, id, value, requestedExpiry, old, existing, written);
    }

    /** Tombstone check, against the requested (signed) expiry: a clamped replay would otherwise outlive its tombstone. */
    private boolean removedBefore(String id, long requestedExpiry, long now) {
        Long until = tombstones.get(id);
        return until != null && until > now && requestedExpiry <= until;
    }

    /** Applies a checked put; null when the stored value changed since it was read (the caller checks again). */
    private Applied applyPut(NodeId key, PreparedPut p, StoragePolicy.Decision d, long now) {
        String id = p.id();
        if (!java.util.Arrays.equals(values.get(id), p.old()) || removedBefore(id, p.requestedExpiry(), now)) {
            return null;
        }
        DhtValue existing = p.existing();
        long claims = written > p.claimsBefore() ? written : 0;
        if (!d.accepted()) {
            // a refusal changes nothing, but a TOFU claim made while checking must still be durable
            return new Applied(fail(Status.REFUSED, d.reason()), claims);
        }
        DhtValue value = d.stored(p.value()); // a compact refresh is stored as the value it stands for
        if (value == null) {
            return new Applied(fail(Status.REFUSED, StoragePolicy.Decision.BROKEN_REPLACEMENT), claims);
        }
        if (existing == null && countAt(key, options.maxValuesPerKey()) >= options.maxValuesPerKey()) {
            return new Applied(fail(Status.CAPACITY, "key holds the maximum of " + options.maxValuesPerKey() + " values"), claims);
        }
        long delta = value.footprint() - (existing == null ? 0 : existing.footprint());
        if (delta > 0 && bytes + delta > options.maxBytes()) {
            return new Applied(fail(Status.CAPACITY, "node store is full (" + options.maxBytes() + " bytes); try other replicas later"),
                    claims);
        }
        if (delta > 0 && bytesByOwner.getOrDefault(value.owner(), 0L) + delta > options.maxBytesPerOwner()) {
            return new Applied(fail(Status.CAPACITY, "this writer's share of the node's store is used up ("
                    + options.maxBytesPerOwner() + " bytes)"), claims);
        }
        if (existing != null) {
            expiry.remove(expiryKey(existing.expiresAtMillis(), id));
            charge(existing.owner(), -existing.footprint());
        } else {
            count++;
        }
        values.put(id, encode(value));
        expiry.put(expiryKey(value.expiresAtMillis(), id), Boolean.TRUE);
        if (p.requestedExpiry() > value.expiresAtMillis()) {
            requested.put(id, p.requestedExpiry());
        } else if (existing != null) {
            requested.remove(id);
        }
        charge(value.owner(), value.footprint());
        return new Applied(new Outcome(Status.OK, "", true, value), ++written);
    }

    /**
     * Removes the value (owner, nonce) if the policy allows, leaving a tombstone until {@code tombstoneUntil} (at
     * least until the removed value would have expired, as it was requested, so no replay of it is taken back);
     * returns once durable, as {@link #put}.
     */
    public Outcome remove(StoragePolicy.RemoveRequest req, long tombstoneUntil, long now) {
        return await(removeAsync(req, tombstoneUntil, now, true));
    }

    /** Like {@link #remove}, completing when durable (see {@link #putAsync}). */
    public CompletableFuture<Outcome> removeAsync(StoragePolicy.RemoveRequest req, long tombstoneUntil, long now) {
        return removeAsync(req, tombstoneUntil, now, false);
    }

    private CompletableFuture<Outcome> removeAsync(StoragePolicy.RemoveRequest req, long tombstoneUntil, long now, boolean blocking) {
        String id = id(req.key(), req.owner(), req.nonce());
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            byte[] old;
            long claimsBefore;
            synchronized (this) {
                if (backlogFull()) {
                    return whenDurable(refused(Status.AGAIN, "the record store is behind with its commits; retry in a moment"), blocking);
                }
                old = values.get(id);
                claimsBefore = written;
            }
            DhtValue existing = old == null ? null : decode(id, old);
            StoragePolicy.Decision d = checked(() -> policy.checkRemove(req.key(), req, existing, now));
            Applied a;
            synchronized (this) {
                a = java.util.Arrays.equals(values.get(id), old) ? applyRemove(id, existing, d, tombstoneUntil, now, claimsBefore) : null;
            }
            if (a != null) {
                return whenDurable(a, blocking);
            }
        }
        return CompletableFuture.completedFuture(fail(Status.AGAIN, "this value is being written concurrently; retry"));
    }

    private Applied applyRemove(String id, DhtValue existing, StoragePolicy.Decision d, long tombstoneUntil, long now,
            long claimsBefore) {
        if (!d.accepted()) {
            return new Applied(fail(Status.REFUSED, d.reason()), written > claimsBefore ? written : 0);
        }
        long valueUntil = existing == null ? 0 : Math.max(existing.expiresAtMillis(), requested.getOrDefault(id, 0L));
        // bounded by the max TTL, or by what the removed value itself asked for (a writer's stored, quota-charged value)
        long until = Math.min(Math.max(tombstoneUntil, valueUntil), Math.max(now + options.maxTtlMillis(), valueUntil));
        if (until > now) {
            tombstones.put(id, until);
        }
        if (existing == null) {
            return new Applied(new Outcome(Status.OK, "", false, null), until > now ? ++written : 0);
        }
        values.remove(id);
        requested.remove(id);
        expiry.remove(expiryKey(existing.expiresAtMillis(), id));
        charge(existing.owner(), -existing.footprint());
        count--;
        return new Applied(new Outcome(Status.OK, "", true, existing), ++written);
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
    public int sweep(long now, BiConsumer<NodeId, DhtValue> expired) {
        int n;
        long seq;
        synchronized (this) {
            n = applySweep(now, expired);
            seq = n > 0 ? ++written : 0;
        }
        // committed with the next group, nobody waits: an expired value not yet gone after a crash is swept again
        whenDurable(new Applied(new Outcome(Status.OK, "", false, null), seq));
        return n;
    }

    private int applySweep(long now, BiConsumer<NodeId, DhtValue> expired) {
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
            requested.remove(id);
            if (raw != null) {
                DhtValue v = decode(id, raw);
                charge(v.owner(), -v.footprint());
                count--;
                n++;
                expired.accept(NodeId.fromHex(id.substring(0, 40)), v);
            }
        }
        // MVMap's entry iterators cannot remove: collect the keys, then remove them
        List<String> dead = new ArrayList<>();
        for (Map.Entry<String, Long> e : tombstones.entrySet()) {
            if (e.getValue() <= now) {
                dead.add(e.getKey());
            }
        }
        dead.forEach(tombstones::remove);
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
                // inside a put's or remove's policy check the claim is durable with that write, whose outcome
                // waits for a later sequence (and waiting under the store's lock would block commits)
                boolean withWrite = Thread.holdsLock(RecordStore.this) || CHECKING.get() == RecordStore.this;
                long seq;
                synchronized (RecordStore.this) {
                    byte[] prev = claims.putIfAbsent(subject, owner.toArray());
                    if (prev != null) {
                        return Bytes.wrap(prev);
                    }
                    seq = ++written;
                }
                if (withWrite) {
                    return owner;
                }
                await(whenDurable(new Applied(new Outcome(Status.OK, "", true, null), seq), true));
                return owner;
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

    /** The committer thread, or null (for benchmarks that count its CPU time). */
    Thread committerThread() {
        synchronized (commits) {
            return committer;
        }
    }

    /** Group commits made so far by the committer (with {@link Options#commitEachWrite()}): for status and tests. */
    public long commitCount() {
        synchronized (commits) {
            return commitCount;
        }
    }

    /** Makes every write so far durable (needed only without {@link Options#commitEachWrite()}). */
    public synchronized void commit() {
        mv.commit();
    }

    /** Commits what is pending, stops the committer and closes the file. */
    @Override
    public void close() {
        Thread t;
        synchronized (commits) {
            closing = true;
            commits.notifyAll();
            t = committer;
        }
        if (t != null) {
            try {
                t.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            mv.close();
        }
        failPending("the record store was closed before this write was committed");
    }

    /** A write's outcome and its sequence number (0: nothing to make durable). */
    private record Applied(Outcome outcome, long seq) { }

    /** A write waiting for its commit. */
    private record Pending(long seq, Outcome outcome, CompletableFuture<Outcome> done, boolean blocking) { }

    private static Applied refused(Status s, String reason) {
        return new Applied(fail(s, reason), 0);
    }

    private boolean backlogFull() {
        if (!options.commitEachWrite()) {
            return false;
        }
        synchronized (commits) {
            return pending.size() >= MAX_PENDING;
        }
    }

    private CompletableFuture<Outcome> whenDurable(Applied a) {
        return whenDurable(a, false);
    }

    /** @param blocking whether a thread waits for it (then the committer does not linger for more writes) */
    private CompletableFuture<Outcome> whenDurable(Applied a, boolean blocking) {
        if (a.seq() == 0 || !options.commitEachWrite()) {
            return CompletableFuture.completedFuture(a.outcome());
        }
        CompletableFuture<Outcome> f = new CompletableFuture<>();
        synchronized (commits) {
            if (a.seq() <= durableUpTo) {
                return CompletableFuture.completedFuture(a.outcome());
            }
            if (closing && committer == null) {
                return CompletableFuture.completedFuture(fail(Status.AGAIN, "the record store is closed"));
            }
            pending.add(new Pending(a.seq(), a.outcome(), f, blocking));
            if (blocking) {
                blockedWaiters++;
            }
            commits.notifyAll();
        }
        return f;
    }

    /**
     * Waits for a write's acknowledgement. The committer thread commits for every waiting writer at once, so
     * concurrent callers share commits (a hand-off costs a thread switch; committing inline on each caller's thread
     * was tried and batched far less, since the next writer found no commit running and committed alone).
     */
    private static Outcome await(CompletableFuture<Outcome> f) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    interrupted = true; // the write is applied; its acknowledgement must still wait for the commit
                } catch (java.util.concurrent.ExecutionException e) {
                    return fail(Status.AGAIN, "the write could not be committed: " + e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * One group commit, by whoever set {@code committing}: commits every applied write, then acknowledges the waiting
     * ones (asynchronous writes through their futures, synchronous ones by waking them). Returns the failure, if any.
     */
    private RuntimeException commitOnce() {
        long target;
        RuntimeException failure = null;
        synchronized (this) {
            target = written; // every write up to here is applied, so this commit holds it
            try {
                mv.commit();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        List<Pending> done = new ArrayList<>();
        synchronized (commits) {
            committing = false;
            if (failure == null) {
                durableUpTo = Math.max(durableUpTo, target);
                commitCount++;
            }
            while (!pending.isEmpty() && (failure != null || pending.peek().seq() <= durableUpTo)) {
                Pending p = pending.poll();
                if (p.blocking()) {
                    blockedWaiters--;
                }
                done.add(p);
            }
            commits.notifyAll();
        }
        if (failure != null) {
            LOG.error("record store commit failed; the writes waiting for it are not acknowledged (writers may retry)", failure);
        }
        for (Pending p : done) {
            p.done().complete(failure == null ? p.outcome()
                    : fail(Status.AGAIN, "the record store could not commit (" + failure.getMessage() + "); retry"));
        }
        return failure;
    }

    /**
     * The committer: commits everything written so far whenever writes wait, then acknowledges them. Writes that
     * arrive during a commit share the next one.
     */
    /**
     * When only asynchronous writes wait (nobody is blocked on them) and they are few, waits up to
     * {@value #LINGER_MICROS} µs for more, so that a single writer slower than a commit still shares commits. Called
     * holding {@code commits}.
     */
    private void lingerForMoreWrites() {
        long deadline = System.nanoTime() + LINGER_MICROS * 1_000L;
        while (!closing && blockedWaiters == 0 && pending.size() < GROUP_TARGET) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            try {
                commits.wait(left / 1_000_000, (int) (left % 1_000_000));
            } catch (InterruptedException e) {
                closing = true;
            }
        }
    }

    /** Asynchronous writes a commit waits for, at most {@value #LINGER_MICROS} µs (none when a writer is blocked). */
    static final int GROUP_TARGET = 32;
    static final long LINGER_MICROS = 1_000;

    private void commitLoop() {
        while (true) {
            synchronized (commits) {
                while ((pending.isEmpty() || committing) && !closing) {
                    try {
                        commits.wait();
                    } catch (InterruptedException e) {
                        closing = true;
                    }
                }
                while (committing) {
                    try {
                        commits.wait(); // closing: let a running commit finish, then take what is left
                    } catch (InterruptedException e) {
                        // keep waiting: the running commit ends shortly
                    }
                }
                if (pending.isEmpty()) {
                    committer = null;
                    commits.notifyAll();
                    return;
                }
                lingerForMoreWrites();
                committing = true;
            }
            commitOnce();
        }
    }

    private void failPending(String why) {
        List<Pending> left;
        synchronized (commits) {
            left = new ArrayList<>(pending);
            pending.clear();
            blockedWaiters = 0;
        }
        for (Pending p : left) {
            p.done().complete(fail(Status.AGAIN, why));
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
