package org.p2psip.nat.stun;

/** STUN attribute type codes used by this module (RFC 8489, RFC 5780, and a few from RFC 8445 kept as raw values). */
public final class AttributeType {
    private AttributeType() {
    }

    // RFC 8489, comprehension-required (0x0000-0x7FFF)
    public static final int MAPPED_ADDRESS = 0x0001;
    public static final int USERNAME = 0x0006;
    public static final int MESSAGE_INTEGRITY = 0x0008;
    public static final int ERROR_CODE = 0x0009;
    public static final int UNKNOWN_ATTRIBUTES = 0x000A;
    public static final int REALM = 0x0014;
    public static final int NONCE = 0x0015;
    public static final int MESSAGE_INTEGRITY_SHA256 = 0x001C;
    public static final int PASSWORD_ALGORITHM = 0x001D;
    public static final int USERHASH = 0x001E;
    public static final int XOR_MAPPED_ADDRESS = 0x0020;
    // RFC 5780, comprehension-required
    public static final int CHANGE_REQUEST = 0x0003;
    public static final int PADDING = 0x0026;
    public static final int RESPONSE_PORT = 0x0027;
    // RFC 8445 (ICE), comprehension-required; carried as raw attributes
    public static final int PRIORITY = 0x0024;
    public static final int USE_CANDIDATE = 0x0025;
    // RFC 8656 (TURN), comprehension-required; carried as raw attributes (see org.p2psip.nat.turn.TurnAttributes)
    public static final int CHANNEL_NUMBER = 0x000C;
    public static final int LIFETIME = 0x000D;
    public static final int XOR_PEER_ADDRESS = 0x0012;
    public static final int DATA = 0x0013;
    public static final int XOR_RELAYED_ADDRESS = 0x0016;
    public static final int REQUESTED_ADDRESS_FAMILY = 0x0017;
    public static final int EVEN_PORT = 0x0018;
    public static final int REQUESTED_TRANSPORT = 0x0019;
    public static final int DONT_FRAGMENT = 0x001A;
    public static final int RESERVATION_TOKEN = 0x0022;
    // RFC 8656 (TURN), comprehension-optional
    public static final int ADDITIONAL_ADDRESS_FAMILY = 0x8000;
    public static final int ADDRESS_ERROR_CODE = 0x8001;
    public static final int ICMP = 0x8004;
    // comprehension-optional (0x8000-0xFFFF)
    public static final int PASSWORD_ALGORITHMS = 0x8002;
    public static final int ALTERNATE_DOMAIN = 0x8003;
    public static final int SOFTWARE = 0x8022;
    public static final int ALTERNATE_SERVER = 0x8023;
    public static final int FINGERPRINT = 0x8028;
    public static final int ICE_CONTROLLED = 0x8029;
    public static final int ICE_CONTROLLING = 0x802A;
    public static final int RESPONSE_ORIGIN = 0x802B;
    public static final int OTHER_ADDRESS = 0x802C;

    /** Types 0x0000-0x7FFF must be understood by the receiver, or the request is refused with 420. */
    public static boolean isComprehensionRequired(int type) {
        return (type & 0x8000) == 0;
    }

    /** Types this codec understands (others are kept as {@link StunAttribute.Raw}). */
    public static boolean isKnown(int type) {
        return switch (type) {
            case MAPPED_ADDRESS, USERNAME, MESSAGE_INTEGRITY, ERROR_CODE, UNKNOWN_ATTRIBUTES,
                    MESSAGE_INTEGRITY_SHA256, XOR_MAPPED_ADDRESS, CHANGE_REQUEST, PADDING, RESPONSE_PORT,
                    SOFTWARE, FINGERPRINT, RESPONSE_ORIGIN, OTHER_ADDRESS -> true;
            default -> false;
        };
    }
}
