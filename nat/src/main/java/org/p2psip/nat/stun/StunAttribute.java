package org.p2psip.nat.stun;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A STUN attribute. The codec understands the types below; any other type is kept as {@link Raw} so that a message
 * can be re-encoded unchanged, and comprehension-required unknown types are reported by {@link StunMessage}.
 */
public sealed interface StunAttribute {
    /** The 16-bit attribute type ({@link AttributeType}). */
    int type();

    /** MAPPED-ADDRESS (0x0001): the reflexive address in the clear; for RFC 3489 clients. */
    record MappedAddress(InetSocketAddress address) implements StunAttribute {
        public MappedAddress {
            StunAttribute.checkAddress(address);
        }

        @Override
        public int type() {
            return AttributeType.MAPPED_ADDRESS;
        }
    }

    /** XOR-MAPPED-ADDRESS (0x0020): the reflexive address, XORed with the magic cookie and transaction id. */
    record XorMappedAddress(InetSocketAddress address) implements StunAttribute {
        public XorMappedAddress {
            StunAttribute.checkAddress(address);
        }

        @Override
        public int type() {
            return AttributeType.XOR_MAPPED_ADDRESS;
        }
    }

    /** RESPONSE-ORIGIN (0x802B, RFC 5780): the address the response was sent from. */
    record ResponseOrigin(InetSocketAddress address) implements StunAttribute {
        public ResponseOrigin {
            StunAttribute.checkAddress(address);
        }

        @Override
        public int type() {
            return AttributeType.RESPONSE_ORIGIN;
        }
    }

    /** OTHER-ADDRESS (0x802C, RFC 5780): the server's alternate IP and alternate port. */
    record OtherAddress(InetSocketAddress address) implements StunAttribute {
        public OtherAddress {
            StunAttribute.checkAddress(address);
        }

        @Override
        public int type() {
            return AttributeType.OTHER_ADDRESS;
        }
    }

    /** USERNAME (0x0006): at most 513 bytes of UTF-8. */
    record Username(String value) implements StunAttribute {
        public Username {
            Objects.requireNonNull(value, "value");
        }

        @Override
        public int type() {
            return AttributeType.USERNAME;
        }
    }

    /** SOFTWARE (0x8022): at most 763 bytes of UTF-8 (128 characters). */
    record Software(String value) implements StunAttribute {
        public Software {
            Objects.requireNonNull(value, "value");
        }

        @Override
        public int type() {
            return AttributeType.SOFTWARE;
        }
    }

    /** MESSAGE-INTEGRITY (0x0008): HMAC-SHA1, 20 bytes. Written by the encoder when given a key. */
    record MessageIntegrity(byte[] hmac) implements StunAttribute {
        public MessageIntegrity {
            hmac = hmac.clone();
        }

        @Override
        public byte[] hmac() {
            return hmac.clone();
        }

        @Override
        public int type() {
            return AttributeType.MESSAGE_INTEGRITY;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof MessageIntegrity m && Arrays.equals(hmac, m.hmac);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(hmac);
        }
    }

    /** MESSAGE-INTEGRITY-SHA256 (0x001C): HMAC-SHA256, possibly truncated to 16..32 bytes (a multiple of 4). */
    record MessageIntegritySha256(byte[] hmac) implements StunAttribute {
        public MessageIntegritySha256 {
            hmac = hmac.clone();
        }

        @Override
        public byte[] hmac() {
            return hmac.clone();
        }

        @Override
        public int type() {
            return AttributeType.MESSAGE_INTEGRITY_SHA256;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof MessageIntegritySha256 m && Arrays.equals(hmac, m.hmac);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(hmac);
        }
    }

    /** FINGERPRINT (0x8028): CRC-32 of the message up to this attribute, XOR 0x5354554E. Written by the encoder. */
    record Fingerprint(int crc) implements StunAttribute {
        @Override
        public int type() {
            return AttributeType.FINGERPRINT;
        }
    }

    /** ERROR-CODE (0x0009): a code 300..699 and a reason phrase of at most 763 bytes. */
    record ErrorCode(int code, String reason) implements StunAttribute {
        public static final int TRY_ALTERNATE = 300;
        public static final int BAD_REQUEST = 400;
        public static final int UNAUTHENTICATED = 401;
        public static final int UNKNOWN_ATTRIBUTE = 420;
        public static final int STALE_NONCE = 438;
        public static final int SERVER_ERROR = 500;

        public ErrorCode {
            if (code < 300 || code > 699) {
                throw new IllegalArgumentException("error code out of range 300..699: " + code);
            }
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public int type() {
            return AttributeType.ERROR_CODE;
        }
    }

    /** UNKNOWN-ATTRIBUTES (0x000A): the comprehension-required types a 420 response refuses. */
    record UnknownAttributes(List<Integer> types) implements StunAttribute {
        public UnknownAttributes {
            types = List.copyOf(types);
            for (int t : types) {
                if (t < 0 || t > 0xFFFF) {
                    throw new IllegalArgumentException("attribute type out of range: " + t);
                }
            }
        }

        @Override
        public int type() {
            return AttributeType.UNKNOWN_ATTRIBUTES;
        }
    }

    /** CHANGE-REQUEST (0x0003, RFC 5780): asks the server to answer from its other IP and/or other port. */
    record ChangeRequest(boolean changeIp, boolean changePort) implements StunAttribute {
        @Override
        public int type() {
            return AttributeType.CHANGE_REQUEST;
        }
    }

    /** RESPONSE-PORT (0x0027, RFC 5780): send the response to the request's source IP at this port. */
    record ResponsePort(int port) implements StunAttribute {
        public ResponsePort {
            if (port < 0 || port > 0xFFFF) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
        }

        @Override
        public int type() {
            return AttributeType.RESPONSE_PORT;
        }
    }

    /** PADDING (0x0026, RFC 5780): {@code length} bytes whose content is ignored (written as zeros). */
    record Padding(int length) implements StunAttribute {
        public Padding {
            if (length < 0 || length > 0xFFFF) {
                throw new IllegalArgumentException("padding length out of range: " + length);
            }
        }

        @Override
        public int type() {
            return AttributeType.PADDING;
        }
    }

    /** Any other attribute, kept verbatim (for example ICE's PRIORITY or ICE-CONTROLLED). */
    record Raw(int type, byte[] value) implements StunAttribute {
        public Raw {
            if (type < 0 || type > 0xFFFF) {
                throw new IllegalArgumentException("attribute type out of range: " + type);
            }
            if (value.length > 0xFFFF) {
                throw new IllegalArgumentException("attribute value too long: " + value.length);
            }
            value = value.clone();
        }

        @Override
        public byte[] value() {
            return value.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Raw r && r.type == type && Arrays.equals(value, r.value);
        }

        @Override
        public int hashCode() {
            return 31 * type + Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return String.format("Raw[type=0x%04x, %d bytes]", type, value.length);
        }
    }

    private static void checkAddress(InetSocketAddress address) {
        Objects.requireNonNull(address, "address");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("unresolved address: " + address);
        }
    }
}
