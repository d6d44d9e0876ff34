package org.p2psip.storage;

import java.util.concurrent.ConcurrentHashMap;
import org.p2psip.overlay.Bytes;

/**
 * Trust-on-first-use ownership for {@link SignedRecordPolicy}'s {@code tofu} mode: the first key that writes a
 * user's names (or a digest key) owns them. Implementations must be thread-safe.
 */
public interface NameOwners {
    /**
     * Claims {@code subject} for {@code owner} if nobody holds it.
     *
     * @return the owner after the call: {@code owner} when the claim succeeded or it already held the subject
     */
    Bytes claim(String subject, Bytes owner);

    /** The current owner, or null. */
    Bytes ownerOf(String subject);

    /** An in-memory registry (lost on restart; a persistent one belongs to the record store). */
    static NameOwners inMemory() {
        ConcurrentHashMap<String, Bytes> m = new ConcurrentHashMap<>();
        return new NameOwners() {
            @Override
            public Bytes claim(String subject, Bytes owner) {
                Bytes prev = m.putIfAbsent(subject, owner);
                return prev == null ? owner : prev;
            }

            @Override
            public Bytes ownerOf(String subject) {
                return m.get(subject);
            }
        };
    }
}
