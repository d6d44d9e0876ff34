package org.p2psip.nat.dtls;

import java.util.Arrays;

/** Looks at raw DTLS records before Bouncy Castle does, to route them. */
final class Records {
    static final int HEADER = 13;
    private static final int CONTENT_CHANGE_CIPHER_SPEC = 20;
    private static final int CONTENT_TLS12_CID = 25;
    private static final int CONTENT_HANDSHAKE = 22;
    private static final int CLIENT_HELLO = 1;
    /** Record header 13, handshake header 12, client_version 2. */
    private static final int RANDOM_OFFSET = HEADER + 12 + 2;
    private static final int RANDOM_BYTES = 32;

    private Records() {
    }

    /** A record header of DTLS 1.0 or 1.2 with a known content type. */
    static boolean looksLikeDtls(byte[] d, int len) {
        if (len < HEADER) {
            return false;
        }
        int type = d[0] & 0xff;
        return type >= CONTENT_CHANGE_CIPHER_SPEC && type <= CONTENT_TLS12_CID
                && (d[1] & 0xff) == 0xfe && ((d[2] & 0xff) == 0xff || (d[2] & 0xff) == 0xfd);
    }

    static final int SERVER_HELLO = 2;
    static final int HELLO_VERIFY_REQUEST = 3;

    /** The handshake message type an epoch-0 handshake record starts with, or -1 for any other record. */
    static int epoch0HandshakeType(byte[] d, int len) {
        if (len <= HEADER || (d[0] & 0xff) != CONTENT_HANDSHAKE || d[3] != 0 || d[4] != 0) {
            return -1;
        }
        return d[HEADER] & 0xff;
    }

    /** An epoch-0 handshake record holding (the start of) a ClientHello. */
    static boolean isClientHello(byte[] d, int len) {
        return len > HEADER && (d[0] & 0xff) == CONTENT_HANDSHAKE && d[3] == 0 && d[4] == 0 && (d[HEADER] & 0xff) == CLIENT_HELLO;
    }

    /**
     * The 32-byte random of a ClientHello record whose first fragment it holds, or null. The retransmission of a
     * ClientHello after a HelloVerifyRequest keeps the random (RFC 6347 4.2.1), so it names one handshake attempt.
     */
    static byte[] clientHelloRandom(byte[] d, int len) {
        if (!isClientHello(d, len) || len < RANDOM_OFFSET + RANDOM_BYTES) {
            return null;
        }
        int fragmentOffset = ((d[HEADER + 6] & 0xff) << 16) | ((d[HEADER + 7] & 0xff) << 8) | (d[HEADER + 8] & 0xff);
        if (fragmentOffset != 0) {
            return null;
        }
        return Arrays.copyOfRange(d, RANDOM_OFFSET, RANDOM_OFFSET + RANDOM_BYTES);
    }
}
