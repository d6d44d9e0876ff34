package org.p2psip.superpeer.leaf;

/**
 * Accepts each message counter of a session once: newer than the highest seen, or within the last 64 and not seen
 * yet (UDP may reorder), as IPsec's anti-replay window does. Used on one thread.
 */
final class ReplayWindow {
    private static final int SIZE = 64;
    private long highest = -1;
    private long seen;

    /** Marks {@code counter} seen; false when it is a replay or too old. */
    boolean accept(long counter) {
        if (counter < 0) {
            return false;
        }
        if (counter > highest) {
            long shift = counter - highest;
            seen = shift >= SIZE ? 1L : (seen << shift) | 1L;
            highest = counter;
            return true;
        }
        long age = highest - counter;
        if (age >= SIZE) {
            return false;
        }
        long bit = 1L << age;
        if ((seen & bit) != 0) {
            return false;
        }
        seen |= bit;
        return true;
    }
}
