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
 * <p>Process-wide on purpose: array identity is itself process-local, and the signer and the local replica's
 * verifier are different objects that share nothing else. Bounded (LRU); an entry only saves work.
 */
final class LocallySigned {
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

    private static final Map<Ref, Entry> RECENT = java.util.Collections.synchronizedMap(
            new LinkedHashMap<>(256, 0.75f, true) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<Ref, Entry> eldest) {
                    return size() > ENTRIES;
                }
            });

    private LocallySigned() {
    }

    static void remember(byte[] signed, VerifiedRecord what) {
        RECENT.put(new Ref(signed), new Entry(signed.clone(), what));
    }

    /** What verifying {@code data} gives, if this process signed this very array; else null. */
    static VerifiedRecord of(byte[] data) {
        Entry e = RECENT.get(new Ref(data));
        return e != null && java.util.Arrays.equals(e.copy(), data) ? e.record() : null;
    }
}
