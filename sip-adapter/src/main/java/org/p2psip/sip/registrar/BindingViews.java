package org.p2psip.sip.registrar;

import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.DhtValue.ValueId;
import org.p2psip.overlay.HeldValues;
import org.p2psip.overlay.PutResult;

/**
 * Per AOR, the values of its contact key as this peer last read and verified them ({@link SignedContactStore#lookup}):
 * each value's id, expiry and the bindings it holds. After this peer puts one of the AOR's values, the put's replies
 * say what every replica holds under the key ({@link HeldValues}); when that is exactly the view plus the value just
 * put, the AOR's bindings are known without reading the key back. Bounded (least recently used AORs are forgotten:
 * their next REGISTER reads). Thread-safe.
 */
final class BindingViews {
    /** AORs remembered by default: about 100 bytes per binding, a few MB in all. */
    static final int DEFAULT_AORS = 100_000;

    /** One value of the AOR's key: its expiry as stored (epoch ms) and the usable bindings it holds (maybe none). */
    record Entry(long expiresAtMillis, List<ContactBinding> bindings) {
        Entry {
            bindings = List.copyOf(bindings);
        }
    }

    private final Map<String, SortedMap<ValueId, Entry>> views;

    BindingViews(int maxAors) {
        if (maxAors < 1) {
            throw new IllegalArgumentException("a view map holds at least one AOR, not " + maxAors);
        }
        this.views = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, SortedMap<ValueId, Entry>> eldest) {
                return size() > maxAors;
            }
        };
    }

    /** Records what a read of {@code aor}'s key found. */
    void read(String aor, Map<ValueId, Entry> values) {
        SortedMap<ValueId, Entry> v = Collections.unmodifiableSortedMap(new TreeMap<>(values));
        synchronized (views) {
            views.put(aor, v);
        }
    }

    /**
     * The AOR's bindings after this peer put {@code put} (holding {@code binding}, null when it holds no usable one),
     * when {@code result}'s summaries confirm the view: every replica asked stored it and summarised the key, and
     * each summary's live values are exactly the view's live values with their expiries, plus {@code put} with its
     * expiry. Empty otherwise (no view, a value the view lacks or misses, another expiry, a replica that refused or
     * did not say): the caller reads the key. A confirmed view becomes the AOR's view.
     */
    Optional<List<ContactBinding>> confirm(String aor, DhtValue put, PutResult result, ContactBinding binding, long now) {
        if (!result.heldEverywhere()) {
            return Optional.empty();
        }
        SortedMap<ValueId, Entry> view;
        synchronized (views) {
            view = views.get(aor);
        }
        if (view == null) {
            return Optional.empty();
        }
        Map<ValueId, Long> expected = new HashMap<>();
        view.forEach((id, e) -> {
            if (e.expiresAtMillis() > now) {
                expected.put(id, e.expiresAtMillis());
            }
        });
        expected.put(put.id(), put.expiresAtMillis());
        for (HeldValues h : result.held()) {
            Map<ValueId, Long> held = new HashMap<>();
            for (HeldValues.Held x : h.values()) {
                if (x.expiresAtMillis() > now) {
                    held.put(x.id(), x.expiresAtMillis());
                }
            }
            if (!held.equals(expected)) {
                return Optional.empty();
            }
        }
        TreeMap<ValueId, Entry> next = new TreeMap<>();
        view.forEach((id, e) -> {
            if (e.expiresAtMillis() > now) {
                next.put(id, e);
            }
        });
        next.put(put.id(), new Entry(put.expiresAtMillis(), binding == null ? List.of() : List.of(binding)));
        SortedMap<ValueId, Entry> confirmed = Collections.unmodifiableSortedMap(next);
        synchronized (views) {
            views.replace(aor, view, confirmed); // unless a read meanwhile replaced the view: it is newer
        }
        return Optional.of(listed(confirmed.values(), now));
    }

    /** The live bindings of {@code entries}, one per Contact URI (the latest expiry wins), in value order. */
    static List<ContactBinding> listed(Collection<Entry> entries, long now) {
        Map<String, ContactBinding> byUri = new LinkedHashMap<>();
        for (Entry e : entries) {
            for (ContactBinding b : e.bindings()) {
                if (b.expiresAtMillis() > now) {
                    byUri.merge(SignedContactStore.contactUri(b.contact()), b,
                            (x, y) -> x.expiresAtMillis() >= y.expiresAtMillis() ? x : y);
                }
            }
        }
        return List.copyOf(byUri.values());
    }

    /** AORs remembered now. */
    int size() {
        synchronized (views) {
            return views.size();
        }
    }
}
