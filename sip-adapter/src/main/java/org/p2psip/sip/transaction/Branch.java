package org.p2psip.sip.transaction;

import java.security.SecureRandom;
import java.util.HexFormat;
import org.p2psip.sip.message.Via;

/** Fresh RFC 3261 branch values: the magic cookie and 96 random bits. */
public final class Branch {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Branch() {
    }

    public static String next() {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        return Via.MAGIC_COOKIE + HexFormat.of().formatHex(b);
    }
}
