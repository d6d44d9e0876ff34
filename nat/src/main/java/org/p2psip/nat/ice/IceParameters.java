package org.p2psip.nat.ice;

import java.util.List;

/**
 * What one side of an Attach tells the other to run ICE checks with it: its username fragment, its password and
 * its candidates (RFC 8445 section 5.3).
 */
public record IceParameters(String ufrag, String password, List<IceCandidate> candidates) {
    /** At most this many candidates per side are accepted. */
    public static final int MAX_CANDIDATES = 32;

    public IceParameters {
        if (!isIceChars(ufrag, 4, 256)) {
            throw new IllegalArgumentException("ufrag must be 4..256 ICE characters");
        }
        if (!isIceChars(password, 22, 256)) {
            throw new IllegalArgumentException("password must be 22..256 ICE characters");
        }
        candidates = List.copyOf(candidates);
        if (candidates.isEmpty() || candidates.size() > MAX_CANDIDATES) {
            throw new IllegalArgumentException("1.." + MAX_CANDIDATES + " candidates expected, got " + candidates.size());
        }
    }

    /** RFC 8445's ice-char: ALPHA / DIGIT / "+" / "/". */
    static boolean isIceChars(String s, int min, int max) {
        if (s == null || s.length() < min || s.length() > max) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "ice[ufrag=" + ufrag + " " + candidates + "]";
    }
}
