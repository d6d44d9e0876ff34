package org.p2psip.node.links;

import java.util.Locale;

/**
 * What protects the overlay links of a peer ({@code --link-security}): {@link #DTLS} (the default) runs DTLS 1.2 on
 * every link, authenticated with the node's Ed25519 key, so a peer's node id is the hash of the key it proves it
 * holds; {@link #NONE} sends the overlay's frames as plain UDP, for labs and benchmarks. Every node of an overlay needs
 * the same setting: a DTLS node drops plain frames and a plain node cannot read DTLS records.
 */
public enum LinkSecurity {
    DTLS, NONE;

    /** Parses {@code dtls} or {@code none} (any case); a clear error otherwise. */
    public static LinkSecurity parse(String s) {
        try {
            return valueOf(s.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("link-security must be 'dtls' (every overlay link authenticated with the "
                    + "node keys; the default) or 'none' (plain UDP, for labs and benchmarks), not '" + s + "'");
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
