package org.p2psip.sip.message;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/** An immutable, ordered list of header fields. Look-ups are case-insensitive and understand compact forms. */
public final class Headers {
    public static final Headers EMPTY = new Headers(List.of());

    private final List<Header> list;

    private Headers(List<Header> list) {
        this.list = list;
    }

    public static Headers of(List<Header> headers) {
        return new Headers(List.copyOf(headers));
    }

    public List<Header> asList() {
        return list;
    }

    public int size() {
        return list.size();
    }

    public boolean contains(String name) {
        return first(name).isPresent();
    }

    /** The first value of {@code name}. */
    public Optional<String> first(String name) {
        String canonical = HeaderNames.canonical(name);
        for (Header h : list) {
            if (h.name().equalsIgnoreCase(canonical)) {
                return Optional.of(h.value());
            }
        }
        return Optional.empty();
    }

    /** Every value of {@code name}, in order (list headers already split into elements). */
    public List<String> all(String name) {
        String canonical = HeaderNames.canonical(name);
        List<String> out = new ArrayList<>(2);
        for (Header h : list) {
            if (h.name().equalsIgnoreCase(canonical)) {
                out.add(h.value());
            }
        }
        return out;
    }

    /** Appends a value. */
    public Headers add(String name, String value) {
        List<Header> l = new ArrayList<>(list.size() + 1);
        l.addAll(list);
        l.add(new Header(name, value));
        return new Headers(Collections.unmodifiableList(l));
    }

    /** Inserts a value before the existing values of that name (or at the end if there are none). */
    public Headers prepend(String name, String value) {
        List<Header> l = new ArrayList<>(list.size() + 1);
        Header h = new Header(name, value);
        boolean done = false;
        for (Header x : list) {
            if (!done && x.name().equalsIgnoreCase(h.name())) {
                l.add(h);
                done = true;
            }
            l.add(x);
        }
        if (!done) {
            l.add(h);
        }
        return new Headers(Collections.unmodifiableList(l));
    }

    /** Replaces all values of {@code name} by one value, at the position of the first (or at the end). */
    public Headers set(String name, String value) {
        return setAll(name, List.of(value));
    }

    /** Replaces all values of {@code name}, at the position of the first (or at the end). */
    public Headers setAll(String name, List<String> values) {
        List<Header> l = new ArrayList<>(list.size() + values.size());
        boolean done = false;
        String canonical = HeaderNames.canonical(name); // once, not per header
        for (Header x : list) {
            if (x.name().equalsIgnoreCase(canonical)) {
                if (!done) {
                    values.forEach(v -> l.add(new Header(name, v)));
                    done = true;
                }
            } else {
                l.add(x);
            }
        }
        if (!done) {
            values.forEach(v -> l.add(new Header(name, v)));
        }
        return new Headers(Collections.unmodifiableList(l));
    }

    /** Removes the first value of {@code name} (a proxy popping its Via, a Route being consumed). */
    public Headers removeFirst(String name) {
        List<Header> l = new ArrayList<>(list);
        String canonical = HeaderNames.canonical(name);
        for (int i = 0; i < l.size(); i++) {
            if (l.get(i).name().equalsIgnoreCase(canonical)) {
                l.remove(i);
                break;
            }
        }
        return new Headers(Collections.unmodifiableList(l));
    }

    public Headers remove(String name) {
        List<Header> l = new ArrayList<>(list);
        String canonical = HeaderNames.canonical(name);
        l.removeIf(h -> h.name().equalsIgnoreCase(canonical));
        return new Headers(Collections.unmodifiableList(l));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Headers h && list.equals(h.list);
    }

    @Override
    public int hashCode() {
        return list.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Header h : list) {
            sb.append(h.name()).append(": ").append(h.value()).append("\r\n");
        }
        return sb.toString();
    }
}
