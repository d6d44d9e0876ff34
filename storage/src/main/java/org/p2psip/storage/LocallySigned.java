package org.p2psip.storage;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The signed documents this process made in the last moments, by the identity of their byte array, with what
 * verifying them would give. A put's local replica and the writer's own read-back receive the very array
 * {@link SignedValues#put} produced (the overlay stores it on the local node without copying), so
 * {@link RecordVerifier#verify(byte[])} answers them from here instead of re-checking a signature this process
 * just made. A copy that came over the network is a new array and is always verified: being equal is not enough,
 * being the same object is required, and only this package's signer adds entries.
 *
 * <p>One instance is owned by whoever signs and stores: created once and handed both to the signer
 * ({@code DraftDht}, {@link SignedValues#put(DhtRecord, SigningIdentity, LocallySigned)}) and to the verifier of the
 * local replica ({@link RecordVerifier#RecordVerifier(LocallySigned)}, {@link SignedRecordPolicy#tofu(NameOwners,
 * LocallySigned)}). A verifier without one verifies everything. Bounded (LRU); an entry only saves work. Thread-safe.
 */
public final class LocallySigned {
    /** Enough for the puts in flight at a few thousand per second; each entry holds one record (a few KiB). */
    static final int ENTRIES = 1_024;

    /** Identity of an array; holds it, so the identity cannot be reused while the entry exists. */
    private record Ref(byte[] array) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Ref r && r.array == array;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(array);
        }
    }

    /** The verification result, and a private copy of the bytes: an array changed in place is not trusted. */
    private record Entry(byte[] copy, VerifiedRecord record) {
    }

    private final Map<Ref, Entry> recent = java.util.Collections.synchronizedMap(
            new LinkedHashMap<>(256, 0.75f, true) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<Ref, Entry> eldest) {
                    return size() > ENTRIES;
                }
            });

    /** An empty set of remembered signatures, to share between one signer and its local replica's verifier. */
    public LocallySigned() {
    }

    void remember(byte[] signed, VerifiedRecord what) {
        recent.put(new Ref(signed), new Entry(signed.clone(), what));
    }

    /** What verifying {@code data} gives, if this process signed this very array; else null. */
    VerifiedRecord of(byte[] data) {
        Entry e = recent.get(new Ref(data));
        return e != null && java.util.Arrays.equals(e.copy(), data) ? e.record() : null;
    }
}
