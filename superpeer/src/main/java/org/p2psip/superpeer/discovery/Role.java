package org.p2psip.superpeer.discovery;

/** A peer's role in its site, as announced. Wire codes are stable. */
public enum Role {
    /** Not elected; attaches to a superpeer. */
    LEAF(0),
    /** Eligible and waiting for the election to settle (start-up, or a seat is being contested). */
    CANDIDATE(1),
    /** Elected: joins the overlay and serves the site's leaves. */
    SUPERPEER(2);

    final int code;

    Role(int code) {
        this.code = code;
    }

    static Role ofCode(int c) {
        for (Role r : values()) {
            if (r.code == c) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown role code " + c);
    }
}
