package org.p2psip.storage;

import java.security.Provider;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * The JCA provider this module uses for the signature step of XML-DSig: Bouncy Castle, as a private instance (it is
 * not registered with {@code java.security.Security}, so nothing else in the JVM changes). JDK 17's SunEC Ed25519 is a
 * generic, slow implementation (about 1,000 verifications per second per core here); Bouncy Castle's
 * {@code rfc8032.Ed25519} verifies about 6 times faster. ECDSA P-256 gains less.
 */
public final class Crypto {
    private static final Provider BC = new BouncyCastleProvider();

    private Crypto() {
    }

    public static Provider provider() {
        return BC;
    }
}
