package org.p2psip.superpeer.discovery;

/** The operator's configured wish about becoming a superpeer. Wire codes are stable. */
public enum Preference {
    /** Let the score decide. */
    AUTO(0),
    /** Rank above every {@code AUTO} candidate (still ordered by score among themselves). */
    ALWAYS(1),
    /** Never stand for election. */
    NEVER(2);

    final int code;

    Preference(int code) {
        this.code = code;
    }

    static Preference ofCode(int c) {
        for (Preference p : values()) {
            if (p.code == c) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown preference code " + c);
    }
}
