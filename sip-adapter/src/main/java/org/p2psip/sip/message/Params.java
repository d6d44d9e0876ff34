package org.p2psip.sip.message;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * An ordered, immutable list of {@code ;name[=value]} parameters. Names compare case-insensitively; values are kept
 * as written (a quoted value keeps its quotes; see {@link #unquoted}). A value of {@code null} is a flag parameter.
 */
public final class Params {
    public static final Params EMPTY = new Params(List.of());

    /** One parameter; {@code value} is null for a flag parameter. */
    public record Param(String name, String value) {
    }

    private final List<Param> list;

    private Params(List<Param> list) {
        this.list = list;
    }

    public static Builder builder() {
        return new Builder();
    }

    public List<Param> asList() {
        return list;
    }

    public boolean isEmpty() {
        return list.isEmpty();
    }

    public boolean has(String name) {
        return find(name) != null;
    }

    /** The value as written, or empty when absent; a flag parameter gives an empty string. */
    public Optional<String> get(String name) {
        Param p = find(name);
        return p == null ? Optional.empty() : Optional.of(p.value == null ? "" : p.value);
    }

    /** The value with quotes and escapes removed. */
    public Optional<String> unquoted(String name) {
        return get(name).map(SipGrammar::unquote);
    }

    private Param find(String name) {
        for (Param p : list) {
            if (p.name.equalsIgnoreCase(name)) {
                return p;
            }
        }
        return null;
    }

    /** A copy with {@code name} set to {@code value} (replacing an existing one in place, else appended). */
    public Params with(String name, String value) {
        List<Param> l = new ArrayList<>(list);
        for (int i = 0; i < l.size(); i++) {
            if (l.get(i).name.equalsIgnoreCase(name)) {
                l.set(i, new Param(l.get(i).name, value));
                return new Params(Collections.unmodifiableList(l));
            }
        }
        l.add(new Param(name, value));
        return new Params(Collections.unmodifiableList(l));
    }

    public Params without(String name) {
        List<Param> l = new ArrayList<>(list);
        l.removeIf(p -> p.name.equalsIgnoreCase(name));
        return new Params(Collections.unmodifiableList(l));
    }

    /** {@code ;a=b;c} */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Param p : list) {
            sb.append(';').append(p.name);
            if (p.value != null) {
                sb.append('=').append(p.value);
            }
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Params other && list.equals(other.list);
    }

    @Override
    public int hashCode() {
        return list.hashCode();
    }

    /** Builds a parameter list. */
    public static final class Builder {
        private final List<Param> list = new ArrayList<>();

        public Builder add(String name, String value) {
            list.add(new Param(name, value));
            return this;
        }

        boolean has(String name) {
            return list.stream().anyMatch(p -> p.name.equalsIgnoreCase(name));
        }

        public Params build() {
            return list.isEmpty() ? EMPTY : new Params(Collections.unmodifiableList(new ArrayList<>(list)));
        }
    }
}
