package org.p2psip.overlay;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * What a storing node holds under a key right after applying a PUT, as it says in its reply: one entry per live value
 * (its owner, nonce and expiry, not its data). A writer that knows what the key held before can tell from it, without
 * reading the key back, that nothing but its own value changed. A key with more than {@link #MAX_ENTRIES} values is
 * summarised as {@link #UNKNOWN} ({@code complete} false): the writer must then read.
 *
 * @param values   the key's live values, in value-id order; empty when not complete
 * @param complete true when {@code values} lists every live value the node holds under the key
 */
public record HeldValues(List<Held> values, boolean complete) {
    /** Most entries a summary carries; a key holding more is summarised as not complete. */
    public static final int MAX_ENTRIES = 32;
    /** No summary: the node did not store, holds too many values, or could not say. */
    public static final HeldValues UNKNOWN = new HeldValues(List.of(), false);

    public HeldValues {
        values = List.copyOf(values);
        if (values.size() > MAX_ENTRIES) {
            throw new IllegalArgumentException("a summary lists at most " + MAX_ENTRIES + " values, not " + values.size());
        }
    }

    /** One value a node holds: its identity within the key and its expiry (epoch ms). */
    public record Held(Bytes owner, Bytes nonce, long expiresAtMillis) {
        public Held {
            Objects.requireNonNull(owner, "owner");
            Objects.requireNonNull(nonce, "nonce");
            if (owner.length() > DhtValue.MAX_ID_BYTES || nonce.length() > DhtValue.MAX_ID_BYTES) {
                throw new IllegalArgumentException("owner and nonce are at most " + DhtValue.MAX_ID_BYTES + " bytes");
            }
        }

        public DhtValue.ValueId id() {
            return new DhtValue.ValueId(owner, nonce);
        }

        static Held of(DhtValue v) {
            return new Held(v.owner(), v.nonce(), v.expiresAtMillis());
        }
    }

    /** The summary of {@code live} (the key's live values): complete, or {@link #UNKNOWN} beyond {@link #MAX_ENTRIES}. */
    public static HeldValues of(Collection<DhtValue> live) {
        if (live.size() > MAX_ENTRIES) {
            return UNKNOWN;
        }
        List<Held> out = new ArrayList<>(live.size());
        for (DhtValue v : live) {
            out.add(Held.of(v));
        }
        out.sort((a, b) -> a.id().compareTo(b.id()));
        return new HeldValues(out, true);
    }
}
