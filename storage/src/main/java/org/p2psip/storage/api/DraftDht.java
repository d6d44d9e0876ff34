package org.p2psip.storage.api;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.DhtException;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.PutResult;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.RecordException;
import org.p2psip.storage.RecordKey;
import org.p2psip.storage.RecordValue;
import org.p2psip.storage.RecordVerifier;
import org.p2psip.storage.Refusal;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.SignedExpiry;
import org.p2psip.storage.SignedValues;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.ValueContent;
import org.p2psip.storage.VerifiedRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DHT API of draft-singh-p2p-sip §3.1 on top of the overlay's {@link Dht}:
 * <table>
 * <caption>draft operation → method</caption>
 * <tr><td>{@code put-auth(k,v,n,t,Kp,s)}</td><td>{@link #putAuth(DhtRecord, SigningIdentity)}: the record (k, v, n, t)
 * is signed in XML-DSig with the writer's key; one value per (writer, nonce). A put with the same key, value, nonce
 * and key pair and a later expiry only refreshes the expiry ({@link #refresh}).</td></tr>
 * <tr><td>{@code remove-auth(k,H(v),n,t,Kp,s)}</td><td>{@link #removeAuth}: a signed record with the same key and
 * nonce whose value is the SHA-256 of the stored value.</td></tr>
 * <tr><td>{@code get-auth(k,H(Kp))}</td><td>{@link #getAuth}: the values written by the key whose SHA-1 (of its
 * SubjectPublicKeyInfo) is given.</td></tr>
 * <tr><td>{@code get(k)}</td><td>{@link #get}: every writer's values, each with its writer's hash.</td></tr>
 * <tr><td>{@code put-immut(v,t)}</td><td>{@link #putImmut}: key = H(v); values larger than one chunk are fragmented
 * (§3.3) as described in {@link ImmutableValues}.</td></tr>
 * <tr><td>{@code get-immut(k)}</td><td>{@link #getImmut(ImmutKey)}: fetches and reassembles, checking every chunk's
 * SHA-256.</td></tr>
 * </table>
 * Storing nodes check what they store ({@link DraftPolicy}); readers check again what they get: every signed value
 * returned by {@link #get}/{@link #getAuth} passed this instance's {@link ReadCheck} (by default the signature and
 * its binding to key, writer, nonce and expiry), others are dropped, so a lying storing node can hide values but not
 * forge them.
 * <p>
 * Every method is asynchronous: the futures complete on the overlay node's thread (in a {@code SimNetwork}, on the
 * simulation's), so callbacks must not block. Signing and verifying happen on the calling thread and on the
 * completing thread respectively.
 */
public final class DraftDht {
    private static final Logger LOG = LoggerFactory.getLogger(DraftDht.class);

    /**
     * Tuning.
     *
     * @param chunkBytes largest immutable value stored as one overlay value, type byte included; larger values are
     *        fragmented. At most {@link DhtValue#MAX_DATA_BYTES}, at least {@link ImmutableValues#MIN_CHUNK_BYTES}.
     * @param parallelism chunk puts or gets in flight at once (the overlay reassembles at most 8 streams per source)
     * @param maxImmutableBytes largest value {@link #putImmut} writes and {@link #getImmut} reassembles
     * @param maxChunks most nodes (data and index) one get-immut fetches
     * @param maxDepth deepest tree get-immut follows (the root is depth 1)
     */
    public record Options(int chunkBytes, int parallelism, long maxImmutableBytes, int maxChunks, int maxDepth) {
        /** 60 KiB: fits the overlay's 64 KiB value limit with 4 KiB to spare for the frame. */
        public static final int DEFAULT_CHUNK_BYTES = 60 * 1024;

        public Options {
            if (chunkBytes < ImmutableValues.MIN_CHUNK_BYTES || chunkBytes > DhtValue.MAX_DATA_BYTES) {
                throw new IllegalArgumentException("chunkBytes must be within " + ImmutableValues.MIN_CHUNK_BYTES + ".."
                        + DhtValue.MAX_DATA_BYTES);
            }
            if (parallelism < 1 || maxImmutableBytes < 1 || maxChunks < 1 || maxDepth < 1) {
                throw new IllegalArgumentException("parallelism, maxImmutableBytes, maxChunks and maxDepth must be positive");
            }
        }

        /** 60 KiB chunks, 4 in flight, values up to 16 MiB, 65,536 chunks, depth 8. */
        public static Options defaults() {
            return new Options(DEFAULT_CHUNK_BYTES, 4, 16L << 20, 65_536, 8);
        }

        public Options withChunkBytes(int v) {
            return new Options(v, parallelism, maxImmutableBytes, maxChunks, maxDepth);
        }

        public Options withParallelism(int v) {
            return new Options(chunkBytes, v, maxImmutableBytes, maxChunks, maxDepth);
        }

        public Options withMaxImmutableBytes(long v) {
            return new Options(chunkBytes, parallelism, v, maxChunks, maxDepth);
        }
    }

    /** What a reader requires of a signed value it gets; refusals are thrown and the value is dropped. */
    @FunctionalInterface
    public interface ReadCheck {
        VerifiedRecord check(NodeId key, DhtValue value, long nowMillis) throws RecordException;

        /**
         * The signature verifies, the record belongs under the key, the value's owner is the signer's hash, its nonce
         * the record's, and it has not expired. Does not check entitlement (who may write the name).
         */
        static ReadCheck signatureOnly() {
            return signatureOnly(null);
        }

        /**
         * As {@link #signatureOnly()}; a value whose bytes are equal to a document this process's signer signed with
         * {@code signedHere} (the writer's read-back of its own record, whichever replica returns it) is not verified
         * again, as {@link org.p2psip.storage.LocallySigned} explains; key, owner, nonce and expiry are still checked.
         * Null: every value is verified.
         */
        static ReadCheck signatureOnly(org.p2psip.storage.LocallySigned signedHere) {
            return signatureOnly(signedHere, new org.p2psip.storage.ChainCache());
        }

        /**
         * As {@link #signatureOnly(org.p2psip.storage.LocallySigned)}, remembering verified refresh tokens in
         * {@code chains}: a refreshed value (a {@link org.p2psip.storage.RefreshTrailer} after the signed document) is
         * accepted when the signed part verifies (cached by its bytes, so unchanged across refreshes) and its token
         * hashes to the signed anchor (only the gap from the highest token verified before); its expiry is then at
         * most {@code E0 + j·d}.
         */
        static ReadCheck signatureOnly(org.p2psip.storage.LocallySigned signedHere, org.p2psip.storage.ChainCache chains) {
            RecordVerifier verifier = new RecordVerifier(org.p2psip.storage.SecureXml.defaults(),
                    org.p2psip.storage.Crypto.provider(), signedHere);
            return (key, v, now) -> {
                org.p2psip.storage.RefreshTrailer.Trailer trailer = org.p2psip.storage.RefreshTrailer.parse(v.data().unsafeArray());
                VerifiedRecord vr = verifier.verify(v.data().unsafeArray()); // the signed part
                DhtRecord r = vr.record();
                if (!r.key().dhtKey().equals(key)) {
                    throw new RecordException(Refusal.KEY_MISMATCH, "the record's key is not " + key.shortHex());
                }
                if (!vr.owner().equals(v.owner())) {
                    throw new RecordException(Refusal.OWNER_MISMATCH, "the owner is not the signer's hash");
                }
                RecordValue rv = r.value();
                if (rv.nonce() == null || !Bytes.utf8(rv.nonce()).equals(v.nonce())) {
                    throw new RecordException(Refusal.NONCE_MISMATCH, "the value's nonce is not the record's");
                }
                if (rv.expires() == null) {
                    throw new RecordException(Refusal.EXPIRED, "a signed value needs an expiry");
                }
                long until = chains.grantedUntil(rv, trailer);
                if (until <= now || v.expiresAtMillis() > until) {
                    throw new RecordException(Refusal.EXPIRED, "expired, or the value claims a later expiry than the signed one");
                }
                if (rv.content() instanceof ValueContent.Digest) {
                    throw new RecordException(Refusal.BAD_RECORD, "a remove-auth proof is not a value");
                }
                return vr;
            };
        }

        /** The storing node's full rules (entitlement included) re-checked by the reader. */
        static ReadCheck policy(SignedRecordPolicy policy) {
            return (key, v, now) -> policy.verifyPut(key, v, null, now);
        }
    }

    /** A signed value that passed the {@link ReadCheck}: the overlay's value and its verified record. */
    public record SignedValue(DhtValue value, VerifiedRecord record) {
        /** H(Kp): SHA-1 of the writer's public key. */
        public Bytes writer() {
            return value.owner();
        }

        public String nonce() {
            return record.record().value().nonce();
        }

        /**
         * The expiry its owner granted: the signed one, or, for a value refreshed through its record's refresh
         * chain, the signed one extended by the token it carries (checked by the read). The stored copy may expire
         * earlier if the overlay clamped it.
         */
        public Instant expires() {
            RecordValue v = record.record().value();
            if (v.chain() != null && v.expires() != null) {
                try {
                    org.p2psip.storage.RefreshTrailer.Trailer t = org.p2psip.storage.RefreshTrailer.parse(
                            value.data().unsafeArray());
                    if (t != null) {
                        return Instant.ofEpochMilli(v.chain().expiryAt(v.expires().toEpochMilli(), t.j()));
                    }
                } catch (org.p2psip.storage.RecordException e) {
                    // the read refused malformed trailers before; the signed expiry is the safe answer
                }
            }
            return v.expires();
        }

        /** The expiry signed in the record (without a refresh chain's extension). */
        public Instant signedExpires() {
            return record.record().value().expires();
        }

        public ValueContent content() {
            return record.record().value().content();
        }
    }

    /**
     * An immutable value read back.
     *
     * @param expires the earliest expiry of its chunks
     * @param chunks overlay values it was read from (1 when not fragmented)
     */
    public record Immutable(byte[] value, Instant expires, int chunks) { }

    /**
     * What this object asked of the overlay so far, for diagnostics and benchmarks (e.g. the DHT work behind one SIP
     * REGISTER).
     *
     * @param putAuths signed values put ({@link #putAuth}, {@link #refresh}), each a lookup and a store per replica
     * @param gets signed gets ({@link #get}, {@link #getAuth}, and the get behind a remove by nonce), each a lookup
     * @param removes remove-auth requests, each a lookup and a REMOVE per node
     * @param valuesChecked signed values a get returned that went through the {@link ReadCheck}
     */
    public record Stats(long putAuths, long gets, long removes, long valuesChecked) {
    }

    private final java.util.concurrent.atomic.LongAdder putAuths = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder gets = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder removes = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder valuesChecked = new java.util.concurrent.atomic.LongAdder();

    /** The counts so far. */
    public Stats stats() {
        return new Stats(putAuths.sum(), gets.sum(), removes.sum(), valuesChecked.sum());
    }

    private final Dht dht;
    private final LongSupplier clock;
    private final Options options;
    private final ReadCheck readCheck;
    private final org.p2psip.storage.LocallySigned signedHere;

    /**
     * @param clock epoch milliseconds (the simulation's virtual time in a {@code SimNetwork})
     * @param signedHere where the records this object signs are remembered, shared with the local replica's verifier
     *        (see {@link org.p2psip.storage.LocallySigned}); null to remember nothing
     */
    public DraftDht(Dht dht, LongSupplier clock, Options options, ReadCheck readCheck,
            org.p2psip.storage.LocallySigned signedHere) {
        this.dht = Objects.requireNonNull(dht, "dht");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.options = Objects.requireNonNull(options, "options");
        this.readCheck = Objects.requireNonNull(readCheck, "readCheck");
        this.signedHere = signedHere;
    }

    /** As the five-argument constructor, remembering nothing of what it signs. */
    public DraftDht(Dht dht, LongSupplier clock, Options options, ReadCheck readCheck) {
        this(dht, clock, options, readCheck, null);
    }

    /** Default options, signature-only read checks, the system clock. */
    public DraftDht(Dht dht) {
        this(dht, System::currentTimeMillis, Options.defaults(), ReadCheck.signatureOnly());
    }

    public Options options() {
        return options;
    }

    public Dht overlay() {
        return dht;
    }

    long now() {
        return clock.getAsLong();
    }

    // ------------------------------------------------------------------ signed data

    /**
     * put-auth: signs {@code record} (its value needs a nonce and an expiry) with {@code writer}'s key and stores it
     * under the record's key. Fails with {@link IllegalArgumentException} if the signed record exceeds the overlay's
     * value limit (store large content with {@link #putImmut} and put its key in the record), with
     * {@link java.security.GeneralSecurityException} if it cannot be signed, and with a {@link DhtException} (whose
     * message carries each replica's refusal code) if no replica accepted it.
     */
    public CompletableFuture<PutResult> putAuth(DhtRecord record, SigningIdentity writer) {
        return signAndPut(record, writer, (v, r) -> r);
    }

    /** Signs {@code record}, puts it, and completes with what {@code result} makes of the value and the put's result. */
    private <T> CompletableFuture<T> signAndPut(DhtRecord record, SigningIdentity writer,
            java.util.function.BiFunction<DhtValue, PutResult, T> result) {
        DhtValue v;
        try {
            v = signed(record, writer, signedHere);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        putAuths.increment();
        return dht.put(record.key().dhtKey(), v).thenApply(r -> result.apply(v, r));
    }

    /** Signs a record as {@link #putAuth} stores it (data = signed XML, owner = H(Kp), nonce, expiry). */
    public static DhtValue signed(DhtRecord record, SigningIdentity writer) throws GeneralSecurityException {
        return signed(record, writer, null);
    }

    private static DhtValue signed(DhtRecord record, SigningIdentity writer, org.p2psip.storage.LocallySigned signedHere)
            throws GeneralSecurityException {
        int unsigned = org.p2psip.storage.RecordXml.toBytes(record).length;
        if (unsigned > DhtValue.MAX_DATA_BYTES) {
            throw tooLarge(unsigned, null);
        }
        try {
            return SignedValues.put(record, writer, signedHere);
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && (e.getMessage().startsWith("a value is at most") || e.getMessage().contains("TOO_LARGE"))) {
                throw tooLarge(unsigned, e);
            }
            throw e;
        }
    }

    private static IllegalArgumentException tooLarge(int bytes, Throwable cause) {
        return new IllegalArgumentException("the record (" + bytes + " bytes before signing) exceeds the overlay's "
                + DhtValue.MAX_DATA_BYTES + "-byte value limit once signed; store large content with putImmut and reference"
                + " its key", cause);
    }

    /**
     * As {@link #putAuth(DhtRecord, SigningIdentity)}, completing with the value it signed and stored: a writer whose
     * record signs a refresh chain keeps it to extend it later ({@link SignedValues#refresh}, then
     * {@link #putAuth(NodeId, DhtValue)}).
     */
    public CompletableFuture<DhtValue> putAuthKeeping(DhtRecord record, SigningIdentity writer) {
        return signAndPut(record, writer, (v, r) -> v);
    }

    /**
     * A value this object signed and put, and the put's result, whose {@link PutResult#held()} tells what each
     * replica holds under the key after storing it (a writer that knew the key's values may then skip reading it).
     */
    public record Stored(DhtValue value, PutResult result) { }

    /** As {@link #putAuthKeeping}, completing with both the value it signed and stored and the put's result. */
    public CompletableFuture<Stored> putAuthStored(DhtRecord record, SigningIdentity writer) {
        return signAndPut(record, writer, Stored::new);
    }

    /** put-auth of an already signed value (e.g. one received from a client, or a refresh of one's own). */
    public CompletableFuture<PutResult> putAuth(NodeId key, DhtValue signed) {
        putAuths.increment();
        return dht.put(key, signed);
    }

    /**
     * Refreshes a value: the same key, value, nonce and key pair with a later expiry (what a SIP REGISTER refresh
     * maps to). Storing nodes replace the stored copy, whose expiry only grows.
     */
    public CompletableFuture<PutResult> refresh(DhtRecord record, Instant newExpires, SigningIdentity writer) {
        RecordValue v = record.value();
        return putAuth(new DhtRecord(record.id(), record.key(),
                new RecordValue(v.id(), newExpires, v.nonce(), v.reference(), v.content())), writer);
    }

    /**
     * Extends {@code signed} (a value this writer put whose record signs a {@link org.p2psip.storage.RefreshChain})
     * to {@code E0 + j·d} by revealing token {@code j} ({@code chain.token(j)}): no signature, storing nodes check
     * it by hashing ({@link SignedValues#refresh}).
     */
    public CompletableFuture<PutResult> extend(NodeId key, DhtValue signed, int j, byte[] token) {
        try {
            DhtValue refreshed = SignedValues.refresh(signed, j, token);
            return putRefresh(key, refreshed, org.p2psip.storage.CompactRefresh.digest(
                    org.p2psip.storage.RefreshTrailer.signedPart(signed.data().unsafeArray())));
        } catch (IllegalArgumentException | org.p2psip.storage.RecordException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * put-auth of {@code refreshed} (a refresh of a value this writer put, {@link SignedValues#refresh}) as a
     * {@link org.p2psip.storage.CompactRefresh}: replicas that hold the signed part whose SHA-256 is
     * {@code signedDigest} ({@link org.p2psip.storage.CompactRefresh#digest}) get only the token (one datagram, and
     * the lookup's round trip stores it), the others the full value ({@link Dht#putRefresh}).
     */
    public CompletableFuture<PutResult> putRefresh(NodeId key, DhtValue refreshed, Bytes signedDigest) {
        DhtValue compact;
        try {
            compact = org.p2psip.storage.CompactRefresh.of(refreshed, signedDigest);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        putAuths.increment();
        return dht.putRefresh(key, compact, refreshed);
    }

    /**
     * remove-auth of a value this writer stored ({@code stored} as returned by {@link #get}/{@link #getAuth}): a
     * signed record with the same key and nonce holding the SHA-256 of the stored data, expiring no earlier than
     * the stored value.
     */
    public CompletableFuture<PutResult> removeAuth(RecordKey key, DhtValue stored, SigningIdentity writer) {
        try {
            // the signed expiry, not only the stored one: stores clamp expiries, and the tombstone this removal
            // leaves should outlive every replay of the removed record
            // with a refresh chain, the latest expiry any token grants (E0 + N·d): replicas may hold different tokens
            long exp = Math.max(Math.max(stored.expiresAtMillis(), SignedExpiry.latest(stored.data().unsafeArray())), now() + 1_000);
            Instant expires = Instant.ofEpochSecond((exp + 999) / 1000);
            var req = SignedValues.remove(key, stored, expires, writer);
            removes.increment();
            return dht.remove(req.key(), req.owner(), req.nonce(), req.proof());
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * remove-auth by nonce: finds this writer's value with {@code nonce} under {@code key}, then removes it.
     * Completes with empty when there is no such value.
     */
    public CompletableFuture<Optional<PutResult>> removeAuth(RecordKey key, String nonce, SigningIdentity writer) {
        return getAuth(key, writer.owner()).thenCompose(values -> {
            for (SignedValue s : values) {
                if (s.nonce().equals(nonce)) {
                    return removeAuth(key, s.value(), writer).thenApply(Optional::of);
                }
            }
            return CompletableFuture.completedFuture(Optional.<PutResult>empty());
        });
    }

    /** get: every writer's signed values under {@code key} that pass the read check. */
    public CompletableFuture<List<SignedValue>> get(RecordKey key) {
        return get(key.dhtKey(), null);
    }

    /** get of a resource name. */
    public CompletableFuture<List<SignedValue>> get(ResourceName name) {
        return get(name.key(), null);
    }

    /** get-auth: the values under {@code key} written by the key whose SHA-1 is {@code writerHash}. */
    public CompletableFuture<List<SignedValue>> getAuth(RecordKey key, Bytes writerHash) {
        return get(key.dhtKey(), Objects.requireNonNull(writerHash, "writerHash"));
    }

    private CompletableFuture<List<SignedValue>> get(NodeId key, Bytes writer) {
        gets.increment();
        return dht.get(key).thenApply(values -> {
            long now = now();
            List<SignedValue> out = new ArrayList<>(values.size());
            for (DhtValue v : values) {
                if (v.owner().isEmpty() || (writer != null && !writer.equals(v.owner()))) {
                    continue;
                }
                valuesChecked.increment();
                try {
                    out.add(new SignedValue(v, readCheck.check(key, v, now)));
                } catch (RecordException e) {
                    LOG.warn("dropped a value under {} from writer {}: {}", key.shortHex(), v.owner().hex(), e.getMessage());
                } catch (RuntimeException e) {
                    LOG.warn("dropped a value under {} from writer {}: {}", key.shortHex(), v.owner().hex(), e.toString());
                }
            }
            return out;
        });
    }

    // ------------------------------------------------------------------ immutable data

    /**
     * put-immut: stores {@code value} until {@code expires} under key = H(value) and completes with that key.
     * A value longer than one chunk is split into data nodes of {@code chunkBytes - 1} bytes and stored as a Merkle
     * tree of index nodes ({@link ImmutableValues}), leaves first, with at most {@code parallelism} puts in flight.
     * Fails if any chunk was accepted by no replica. Storing an already stored value again extends its expiry.
     */
    public CompletableFuture<ImmutKey> putImmut(byte[] value, Instant expires) {
        if (value.length > options.maxImmutableBytes()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("an immutable value is at most "
                    + options.maxImmutableBytes() + " bytes here, not " + value.length));
        }
        long exp = expires.toEpochMilli();
        List<byte[]> nodes = fragment(value, options.chunkBytes());
        List<Supplier<CompletableFuture<PutResult>>> puts = new ArrayList<>(nodes.size());
        for (byte[] n : nodes) {
            puts.add(() -> putNode(n, exp));
        }
        ImmutKey root = ImmutableValues.keyOf(nodes.get(nodes.size() - 1));
        return Bounded.run(puts, options.parallelism()).thenApply(r -> root);
    }

    /**
     * The nodes that store {@code value}, leaves first and the root last (a single data node when it fits one
     * chunk).
     */
    public static List<byte[]> fragment(byte[] value, int chunkBytes) {
        int payload = chunkBytes - 1;
        List<byte[]> nodes = new ArrayList<>();
        if (value.length <= payload) {
            nodes.add(ImmutableValues.dataNode(value, 0, value.length));
            return nodes;
        }
        List<ImmutKey> level = new ArrayList<>();
        for (int off = 0; off < value.length; off += payload) {
            byte[] n = ImmutableValues.dataNode(value, off, Math.min(payload, value.length - off));
            nodes.add(n);
            level.add(ImmutableValues.keyOf(n));
        }
        int fanout = ImmutableValues.fanout(chunkBytes);
        while (level.size() > 1) {
            List<ImmutKey> up = new ArrayList<>();
            for (int i = 0; i < level.size(); i += fanout) {
                byte[] n = ImmutableValues.indexNode(level.subList(i, Math.min(level.size(), i + fanout)));
                nodes.add(n);
                up.add(ImmutableValues.keyOf(n));
            }
            level = up;
        }
        return nodes;
    }

    private CompletableFuture<PutResult> putNode(byte[] node, long exp) {
        DhtValue v = ImmutableValues.value(node, exp);
        return dht.put(ImmutableValues.keyOf(node).dhtKey(), v).handle((r, e) -> {
            if (e == null) {
                return r;
            }
            Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (c instanceof DhtException de && onlyStoredLonger(de.getMessage())) {
                return new PutResult(0, 0, List.of(de.getMessage())); // already there, for longer
            }
            throw c instanceof RuntimeException re ? re : new CompletionException(c);
        });
    }

    private static boolean onlyStoredLonger(String message) {
        int colon = message == null ? -1 : message.indexOf(": ");
        if (colon < 0) {
            return false;
        }
        for (String part : message.substring(colon + 2).split("; ")) {
            if (!part.contains(Refusal.STORED_LONGER.name())) {
                return false;
            }
        }
        return true;
    }

    /**
     * get-immut: reads the value whose key is {@code key}, reassembling a fragmented one; every node's SHA-256 is
     * checked against its key, so storing nodes cannot alter it. Completes with empty when the root is not found;
     * fails with an {@link IOException} when a chunk is missing or the tree exceeds the limits of the options.
     */
    public CompletableFuture<Optional<Immutable>> getImmut(ImmutKey key) {
        byte[] want = key.sha256().unsafeArray();
        return readTree(key.dhtKey(), data -> MessageDigest.isEqual(ImmutableValues.sha256(data), want));
    }

    /**
     * get-immut by the 160-bit DHT key alone (the draft's form): the root is checked against the truncated hash,
     * every other node against the full SHA-256 named by its parent.
     */
    public CompletableFuture<Optional<Immutable>> getImmut(NodeId key) {
        byte[] want = key.toBytes();
        return readTree(key, data -> MessageDigest.isEqual(java.util.Arrays.copyOf(ImmutableValues.sha256(data), NodeId.BYTES), want));
    }

    /** One node of a tree being read. */
    private static final class TreeNode {
        final ImmutKey key;
        DhtValue value;
        List<TreeNode> kids;

        TreeNode(ImmutKey key) {
            this.key = key;
        }
    }

    private CompletableFuture<Optional<Immutable>> readTree(NodeId rootKey, Predicate<byte[]> rootMatches) {
        return fetch(rootKey, rootMatches).thenCompose(root -> {
            if (root == null) {
                return CompletableFuture.completedFuture(Optional.<Immutable>empty());
            }
            TreeNode r = new TreeNode(null);
            r.value = root;
            long[] counts = {1, 0}; // nodes, payload bytes
            return expand(List.of(r), 1, counts).thenApply(x -> Optional.of(assemble(r, counts)));
        });
    }

    private CompletableFuture<DhtValue> fetch(NodeId key, Predicate<byte[]> matches) {
        return dht.get(key).thenApply(values -> {
            for (DhtValue v : values) {
                if (v.owner().isEmpty() && matches.test(v.data().unsafeArray())) {
                    return v;
                }
            }
            return null;
        });
    }

    /** Parses the index nodes of {@code level}, fetches their children, and continues one level down. */
    private CompletableFuture<Void> expand(List<TreeNode> level, int depth, long[] counts) {
        List<TreeNode> next = new ArrayList<>();
        for (TreeNode n : level) {
            byte[] data = n.value.data().unsafeArray();
            if (ImmutableValues.isIndex(data)) {
                List<ImmutKey> children;
                try {
                    children = ImmutableValues.children(data);
                } catch (RecordException e) {
                    return CompletableFuture.failedFuture(new IOException("malformed index node: " + e.getMessage(), e));
                }
                n.kids = new ArrayList<>(children.size());
                for (ImmutKey k : children) {
                    TreeNode kid = new TreeNode(k);
                    n.kids.add(kid);
                    next.add(kid);
                }
            } else {
                counts[1] += data.length - 1;
            }
        }
        if (counts[1] > options.maxImmutableBytes()) {
            return CompletableFuture.failedFuture(new IOException("the value exceeds " + options.maxImmutableBytes() + " bytes"));
        }
        if (next.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        if (depth >= options.maxDepth()) {
            return CompletableFuture.failedFuture(new IOException("the tree is deeper than " + options.maxDepth()));
        }
        counts[0] += next.size();
        if (counts[0] > options.maxChunks()) {
            return CompletableFuture.failedFuture(new IOException("the value has more than " + options.maxChunks() + " chunks"));
        }
        Map<ImmutKey, List<TreeNode>> byKey = new LinkedHashMap<>();
        for (TreeNode t : next) {
            byKey.computeIfAbsent(t.key, k -> new ArrayList<>()).add(t);
        }
        List<ImmutKey> keys = new ArrayList<>(byKey.keySet());
        List<Supplier<CompletableFuture<DhtValue>>> gets = new ArrayList<>(keys.size());
        for (ImmutKey k : keys) {
            byte[] want = k.sha256().unsafeArray();
            gets.add(() -> fetch(k.dhtKey(), data -> MessageDigest.isEqual(ImmutableValues.sha256(data), want)));
        }
        return Bounded.run(gets, options.parallelism()).thenCompose(values -> {
            Map<ImmutKey, DhtValue> got = new HashMap<>();
            for (int i = 0; i < keys.size(); i++) {
                if (values.get(i) == null) {
                    return CompletableFuture.failedFuture(new IOException("chunk " + keys.get(i) + " is missing"));
                }
                got.put(keys.get(i), values.get(i));
            }
            for (TreeNode t : next) {
                t.value = got.get(t.key);
            }
            return expand(next, depth + 1, counts);
        });
    }

    private Immutable assemble(TreeNode root, long[] counts) {
        byte[] out = new byte[Math.toIntExact(counts[1])];
        int[] pos = {0};
        long[] exp = {Long.MAX_VALUE};
        int[] chunks = {0};
        walk(root, out, pos, exp, chunks);
        return new Immutable(out, Instant.ofEpochMilli(exp[0]), chunks[0]);
    }

    private static void walk(TreeNode n, byte[] out, int[] pos, long[] exp, int[] chunks) {
        // iterative in spirit: depth is bounded by maxDepth
        chunks[0]++;
        exp[0] = Math.min(exp[0], n.value.expiresAtMillis());
        if (n.kids == null) {
            byte[] d = n.value.data().unsafeArray();
            System.arraycopy(d, 1, out, pos[0], d.length - 1);
            pos[0] += d.length - 1;
            return;
        }
        for (TreeNode k : n.kids) {
            walk(k, out, pos, exp, chunks);
        }
    }
}
