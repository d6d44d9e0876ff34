package org.p2psip.storage;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The signed documents this process made in the last moments, by their content, with what verifying them would give.
 * {@link RecordVerifier#verify(byte[])} answers a document whose bytes are equal to one signed here from this set
 * instead of re-checking a signature this process made: a put's local replica (the very array {@link SignedValues#put}
 * produced) and the writer's read-back, whose values come back from remote replicas as new arrays.
 *
 * <p>Why equal bytes are enough: the document holds the signature this process's signer made over exactly these
 * bytes with the writer's key, after validating the record ({@link RecordSigner}), so a full verification of them
 * succeeds and gives the remembered result. The comparison is against a private copy taken when signing (SHA-256 to
 * find it, then every byte compared), so neither a caller changing the signed array in place nor a storing node
 * changing one byte of its copy can make other bytes pass as ours; anything not equal is verified in full. Only this
 * package's signer adds entries. What does not depend on the bytes (expiry against the clock, the stored expiry not
 * later than the signed one, key, owner and nonce of the overlay value, entitlement) is still the caller's to check
 * each time ({@code DraftDht.ReadCheck.signatureOnly}, {@link SignedRecordPolicy}).
 *
 * <p>One instance is owned by whoever signs and stores: created once and handed both to the signer
 * ({@code DraftDht}, {@link SignedValues#put(DhtRecord, SigningIdentity, LocallySigned)}) and to the verifiers of the
 * local replica ({@link RecordVerifier#RecordVerifier(LocallySigned)}, {@link SignedRecordPolicy#tofu(NameOwners,
 * LocallySigned)}) and of the signer's reads ({@code DraftDht.ReadCheck.signatureOnly(LocallySigned)}). A verifier
 * without one verifies everything. Bounded (LRU); an entry only saves work. Thread-safe.
 */
public final class LocallySigned {
    /**
     * Enough for the records signed in the last second at a few thousand per second, so a put's read-back finds its
     * record even when the overlay is slow; each entry holds one record (a few KiB, about 20 MiB when full).
     */
    static final int ENTRIES = 4_096;

    /** SHA-256 of a signed document, as a map key. */
    private record Digest(byte[] sha256) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Digest d && Arrays.equals(d.sha256, sha256);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(sha256);
        }
    }

    /** The verification result, and a private copy of the signed bytes: only equal bytes are answered. */
    private record Entry(byte[] copy, VerifiedRecord record) {
    }

    private final Map<Digest, Entry> recent = java.util.Collections.synchronizedMap(
            new LinkedHashMap<>(256, 0.75f, true) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<Digest, Entry> eldest) {
                    return size() > ENTRIES;
                }
            });
    private final AtomicLong answered = new AtomicLong();

    /** An empty set of remembered signatures, to share between one signer and its verifiers. */
    public LocallySigned() {
    }

    void remember(byte[] signed, VerifiedRecord what) {
        byte[] copy = signed.clone();
        recent.put(new Digest(sha256(copy)), new Entry(copy, what));
    }

    /** What verifying {@code data} gives, if its bytes are equal to a document this process signed; else null. */
    VerifiedRecord of(byte[] data) {
        return of(data, sha256(data));
    }

    /** As {@link #of(byte[])}, with the SHA-256 of {@code data} already computed (not kept). */
    VerifiedRecord of(byte[] data, byte[] sha256) {
        Entry e = recent.get(new Digest(sha256));
        if (e == null || !Arrays.equals(e.copy(), data)) {
            return null;
        }
        answered.incrementAndGet();
        return e.record();
    }

    /** Documents answered from this set so far, each a signature verification saved. */
    public long answered() {
        return answered.get();
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }
}
