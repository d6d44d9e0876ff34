package org.p2psip.nat.stun;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Writes and reads STUN messages (RFC 8489, with the RFC 5780 attributes).
 *
 * <p>The decoder is meant for hostile input: every length is checked against what is left of the datagram, the
 * attribute count is bounded, attribute values are checked against their type's size rules, text must be valid
 * UTF-8, and any violation is reported as a {@link StunDecodeException} that names the rule and the offset. No
 * other exception escapes {@link #decode} (a seeded fuzz test holds it to that).
 */
public final class StunCodec {
    /** XORed into the CRC-32 of FINGERPRINT (the ASCII of "STUN"). */
    public static final int FINGERPRINT_XOR = 0x5354554E;
    /** Default bound on the number of attributes in one message. */
    public static final int DEFAULT_MAX_ATTRIBUTES = 64;
    /** Largest value of the 16-bit message length field that is a multiple of 4. */
    public static final int MAX_BODY_LENGTH = 0xFFFC;
    static final int MAX_USERNAME_BYTES = 513;
    static final int MAX_TEXT_BYTES = 763;

    private StunCodec() {
    }

    // ------------------------------------------------------------------------------------------------ encoding

    /** Options of {@link #encode}: integrity key and algorithms, FINGERPRINT, and the byte used to pad values. */
    public static final class EncodeOptions {
        private final byte[] key;
        private final boolean sha1;
        private final boolean sha256;
        private final int sha256Length;
        private final boolean fingerprint;
        private final byte paddingByte;

        private EncodeOptions(byte[] key, boolean sha1, boolean sha256, int sha256Length, boolean fingerprint,
                byte paddingByte) {
            this.key = key;
            this.sha1 = sha1;
            this.sha256 = sha256;
            this.sha256Length = sha256Length;
            this.fingerprint = fingerprint;
            this.paddingByte = paddingByte;
        }

        /** No integrity, no fingerprint, zero padding. */
        public static EncodeOptions plain() {
            return new EncodeOptions(null, false, false, 32, false, (byte) 0);
        }

        /** FINGERPRINT only: what a STUN server sends to unauthenticated clients. */
        public static EncodeOptions fingerprinted() {
            return plain().withFingerprint(true);
        }

        /** MESSAGE-INTEGRITY (HMAC-SHA1) with {@code key}, then FINGERPRINT. */
        public static EncodeOptions signed(byte[] key) {
            return fingerprinted().withIntegrity(key, true, false);
        }

        /**
         * Integrity with {@code key}: MESSAGE-INTEGRITY if {@code sha1}, MESSAGE-INTEGRITY-SHA256 if {@code sha256}
         * (both may be written; SHA1 first, as RFC 8489 orders them).
         */
        public EncodeOptions withIntegrity(byte[] key, boolean sha1, boolean sha256) {
            if (key == null && (sha1 || sha256)) {
                throw new IllegalArgumentException("integrity needs a key");
            }
            return new EncodeOptions(key == null ? null : key.clone(), sha1, sha256, sha256Length, fingerprint, paddingByte);
        }

        /** Truncates MESSAGE-INTEGRITY-SHA256 to 16..32 bytes, a multiple of 4 (default 32). */
        public EncodeOptions withSha256Length(int length) {
            if (length < 16 || length > 32 || length % 4 != 0) {
                throw new IllegalArgumentException("MESSAGE-INTEGRITY-SHA256 length must be 16..32 and a multiple of 4");
            }
            return new EncodeOptions(key, sha1, sha256, length, fingerprint, paddingByte);
        }

        public EncodeOptions withFingerprint(boolean on) {
            return new EncodeOptions(key, sha1, sha256, sha256Length, on, paddingByte);
        }

        /** The byte that pads attribute values to 4 bytes (RFC 5769's vectors pad with 0x20; receivers ignore it). */
        public EncodeOptions withPaddingByte(byte b) {
            return new EncodeOptions(key, sha1, sha256, sha256Length, fingerprint, b);
        }
    }

    /** Encodes {@code message} with no integrity and no fingerprint. */
    public static byte[] encode(StunMessage message) {
        return encode(message, EncodeOptions.plain());
    }

    /**
     * Encodes {@code message}. Any MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 or FINGERPRINT in its attribute list
     * (a decoded message has them) is skipped; the options decide which of them are computed and appended.
     *
     * @throws IllegalArgumentException if a value breaks its attribute's size rules or the message is too long
     */
    public static byte[] encode(StunMessage message, EncodeOptions options) {
        Writer w = new Writer(options.paddingByte);
        int type = messageType(message.method(), message.messageClass());
        w.u16(type);
        w.u16(0); // length, patched below
        w.u32(message.cookie());
        w.bytes(message.transactionId().bytes());
        for (StunAttribute a : message.attributes()) {
            int t = a.type();
            if (t == AttributeType.MESSAGE_INTEGRITY || t == AttributeType.MESSAGE_INTEGRITY_SHA256
                    || t == AttributeType.FINGERPRINT) {
                continue;
            }
            writeAttribute(w, a, message.transactionId());
        }
        if (options.sha1) {
            w.patchLength(w.size() + 24 - StunMessage.HEADER_LENGTH);
            byte[] mac = hmac("HmacSHA1", options.key, w.buf, 0, w.size());
            w.attribute(AttributeType.MESSAGE_INTEGRITY, mac);
        }
        if (options.sha256) {
            w.patchLength(w.size() + 4 + options.sha256Length - StunMessage.HEADER_LENGTH);
            byte[] mac = hmac("HmacSHA256", options.key, w.buf, 0, w.size());
            w.attribute(AttributeType.MESSAGE_INTEGRITY_SHA256, Arrays.copyOf(mac, options.sha256Length));
        }
        if (options.fingerprint) {
            w.patchLength(w.size() + 8 - StunMessage.HEADER_LENGTH);
            int crc = crc(w.buf, 0, w.size()) ^ FINGERPRINT_XOR;
            w.attribute(AttributeType.FINGERPRINT, ByteBuffer.allocate(4).putInt(crc).array());
        }
        int body = w.size() - StunMessage.HEADER_LENGTH;
        if (body > MAX_BODY_LENGTH) {
            throw new IllegalArgumentException("message too long: " + body + " bytes of attributes");
        }
        w.patchLength(body);
        return Arrays.copyOf(w.buf, w.size());
    }

    private static void writeAttribute(Writer w, StunAttribute a, TransactionId tid) {
        if (a instanceof StunAttribute.MappedAddress m) {
            w.attribute(a.type(), address(m.address(), null));
        } else if (a instanceof StunAttribute.XorMappedAddress x) {
            w.attribute(a.type(), address(x.address(), tid));
        } else if (a instanceof StunAttribute.ResponseOrigin r) {
            w.attribute(a.type(), address(r.address(), null));
        } else if (a instanceof StunAttribute.OtherAddress o) {
            w.attribute(a.type(), address(o.address(), null));
        } else if (a instanceof StunAttribute.Username u) {
            w.attribute(a.type(), text(u.value(), MAX_USERNAME_BYTES, "USERNAME"));
        } else if (a instanceof StunAttribute.Software s) {
            w.attribute(a.type(), text(s.value(), MAX_TEXT_BYTES, "SOFTWARE"));
        } else if (a instanceof StunAttribute.ErrorCode e) {
            byte[] reason = text(e.reason(), MAX_TEXT_BYTES, "ERROR-CODE reason");
            byte[] v = new byte[4 + reason.length];
            v[2] = (byte) (e.code() / 100);
            v[3] = (byte) (e.code() % 100);
            System.arraycopy(reason, 0, v, 4, reason.length);
            w.attribute(a.type(), v);
        } else if (a instanceof StunAttribute.UnknownAttributes u) {
            ByteBuffer b = ByteBuffer.allocate(2 * u.types().size());
            u.types().forEach(t -> b.putShort((short) (int) t));
            w.attribute(a.type(), b.array());
        } else if (a instanceof StunAttribute.ChangeRequest c) {
            w.attribute(a.type(), new byte[] {0, 0, 0, (byte) ((c.changeIp() ? 4 : 0) | (c.changePort() ? 2 : 0))});
        } else if (a instanceof StunAttribute.ResponsePort p) {
            w.attribute(a.type(), new byte[] {(byte) (p.port() >>> 8), (byte) p.port(), 0, 0});
        } else if (a instanceof StunAttribute.Padding p) {
            w.attribute(a.type(), new byte[p.length()]);
        } else if (a instanceof StunAttribute.Raw r) {
            w.attribute(r.type(), r.value());
        } else {
            throw new AssertionError("integrity and fingerprint are skipped by encode: " + a);
        }
    }

    private static byte[] text(String s, int maxBytes, String what) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > maxBytes) {
            throw new IllegalArgumentException(what + " longer than " + maxBytes + " bytes");
        }
        return b;
    }

    private static byte[] address(InetSocketAddress a, TransactionId xorWith) {
        byte[] ip = a.getAddress().getAddress();
        byte[] v = new byte[4 + ip.length];
        v[1] = (byte) (ip.length == 4 ? 1 : 2);
        int port = a.getPort();
        if (xorWith != null) {
            port ^= StunMessage.MAGIC_COOKIE >>> 16;
            xor(ip, xorWith);
        }
        v[2] = (byte) (port >>> 8);
        v[3] = (byte) port;
        System.arraycopy(ip, 0, v, 4, ip.length);
        return v;
    }

    /** XORs an address with the magic cookie (and, for IPv6, the transaction id), in place. */
    private static void xor(byte[] ip, TransactionId tid) {
        for (int i = 0; i < ip.length; i++) {
            int k = i < 4 ? (StunMessage.MAGIC_COOKIE >>> (24 - 8 * i)) & 0xFF : tid.byteAt(i - 4) & 0xFF;
            ip[i] ^= (byte) k;
        }
    }

    /** The 16-bit message type: M11..M7 C1 M6..M4 C0 M3..M0 (RFC 8489 figure 3). */
    static int messageType(int method, StunClass c) {
        int cb = c.bits();
        return (method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2)
                | ((cb & 1) << 4) | ((cb & 2) << 7);
    }

    private static final class Writer {
        byte[] buf = new byte[256];
        int size;
        final byte pad;

        Writer(byte pad) {
            this.pad = pad;
        }

        int size() {
            return size;
        }

        void ensure(int n) {
            if (size + n > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + n));
            }
        }

        void u16(int v) {
            ensure(2);
            buf[size++] = (byte) (v >>> 8);
            buf[size++] = (byte) v;
        }

        void u32(int v) {
            u16(v >>> 16);
            u16(v & 0xFFFF);
        }

        void bytes(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
        }

        void attribute(int type, byte[] value) {
            if (value.length > 0xFFFF) {
                throw new IllegalArgumentException("attribute value longer than 65535 bytes");
            }
            u16(type);
            u16(value.length);
            bytes(value);
            int padded = (value.length + 3) & ~3;
            ensure(padded - value.length);
            for (int i = value.length; i < padded; i++) {
                buf[size++] = pad;
            }
            if (size - StunMessage.HEADER_LENGTH > MAX_BODY_LENGTH) {
                throw new IllegalArgumentException("message too long");
            }
        }

        void patchLength(int length) {
            buf[2] = (byte) (length >>> 8);
            buf[3] = (byte) length;
        }
    }

    // ------------------------------------------------------------------------------------------------ decoding

    /** Options of {@link #decode}. */
    public record DecodeOptions(int maxAttributes, boolean allowClassic) {
        public DecodeOptions {
            if (maxAttributes < 1) {
                throw new IllegalArgumentException("maxAttributes must be positive");
            }
        }

        /** At most {@value #DEFAULT_MAX_ATTRIBUTES} attributes, magic cookie required. */
        public static DecodeOptions strict() {
            return new DecodeOptions(DEFAULT_MAX_ATTRIBUTES, false);
        }

        /** Also accepts RFC 3489 messages, which lack the magic cookie (a server's view of old clients). */
        public static DecodeOptions lenient() {
            return new DecodeOptions(DEFAULT_MAX_ATTRIBUTES, true);
        }
    }

    /** Cheap first test of RFC 7983 demultiplexing: long enough, top bits 00, magic cookie. */
    public static boolean looksLikeStun(byte[] b, int off, int len) {
        return len >= StunMessage.HEADER_LENGTH && (b[off] & 0xC0) == 0 && (len & 3) == 0
                && ByteBuffer.wrap(b, off + 4, 4).getInt() == StunMessage.MAGIC_COOKIE;
    }

    public static StunMessage decode(byte[] datagram) throws StunDecodeException {
        return decode(datagram, 0, datagram.length, DecodeOptions.strict());
    }

    /**
     * Decodes one STUN message that fills {@code datagram[off, off+len)} exactly, verifying FINGERPRINT when present.
     * Attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are ignored
     * (RFC 8489 section 14.5); anything after FINGERPRINT is an error.
     */
    public static StunMessage decode(byte[] datagram, int off, int len, DecodeOptions options)
            throws StunDecodeException {
        if (off < 0 || len < 0 || off > datagram.length - len) {
            throw new StunDecodeException("bad buffer bounds");
        }
        byte[] b = Arrays.copyOfRange(datagram, off, off + len);
        if (len < StunMessage.HEADER_LENGTH) {
            throw new StunDecodeException("datagram of " + len + " bytes is shorter than the 20-byte STUN header");
        }
        if ((b[0] & 0xC0) != 0) {
            throw new StunDecodeException("first two bits are not zero: not a STUN message");
        }
        int type = u16(b, 0);
        int bodyLength = u16(b, 2);
        if ((bodyLength & 3) != 0) {
            throw new StunDecodeException("message length " + bodyLength + " is not a multiple of 4");
        }
        if (StunMessage.HEADER_LENGTH + bodyLength != len) {
            throw new StunDecodeException("message length field says " + bodyLength + " bytes of attributes but the "
                    + "datagram carries " + (len - StunMessage.HEADER_LENGTH));
        }
        int cookie = ByteBuffer.wrap(b, 4, 4).getInt();
        if (cookie != StunMessage.MAGIC_COOKIE && !options.allowClassic()) {
            throw new StunDecodeException(String.format("magic cookie is 0x%08x, not 0x2112a442", cookie));
        }
        int method = (type & 0x000F) | ((type >>> 1) & 0x0070) | ((type >>> 2) & 0x0F80);
        StunClass cls = StunClass.ofBits(((type >>> 4) & 1) | ((type >>> 7) & 2));
        TransactionId tid = TransactionId.of(b, 8);

        List<StunAttribute> attrs = new ArrayList<>();
        List<Integer> unknown = new ArrayList<>();
        int integrityOffset = -1;
        int integritySha256Offset = -1;
        boolean fingerprintSeen = false;
        int count = 0;
        int pos = StunMessage.HEADER_LENGTH;
        while (pos < len) {
            if (len - pos < 4) {
                throw new StunDecodeException("truncated attribute header at offset " + pos);
            }
            int at = u16(b, pos);
            int al = u16(b, pos + 2);
            int padded = (al + 3) & ~3;
            if (padded > len - pos - 4) {
                throw new StunDecodeException(String.format(
                        "attribute 0x%04x at offset %d claims %d bytes (%d padded) but only %d remain",
                        at, pos, al, padded, len - pos - 4));
            }
            if (++count > options.maxAttributes()) {
                throw new StunDecodeException("more than " + options.maxAttributes() + " attributes");
            }
            if (fingerprintSeen) {
                throw new StunDecodeException(String.format("attribute 0x%04x at offset %d follows FINGERPRINT", at, pos));
            }
            int v = pos + 4;
            boolean ignored = (integritySha256Offset >= 0 && at != AttributeType.FINGERPRINT)
                    || (integrityOffset >= 0 && at != AttributeType.FINGERPRINT
                            && at != AttributeType.MESSAGE_INTEGRITY_SHA256);
            if (!ignored) {
                StunAttribute a = attribute(b, at, v, al, tid, pos);
                switch (at) {
                    case AttributeType.MESSAGE_INTEGRITY -> integrityOffset = pos;
                    case AttributeType.MESSAGE_INTEGRITY_SHA256 -> integritySha256Offset = pos;
                    case AttributeType.FINGERPRINT -> {
                        fingerprintSeen = true;
                        int expected = crc(b, 0, pos) ^ FINGERPRINT_XOR;
                        if (((StunAttribute.Fingerprint) a).crc() != expected) {
                            throw new StunDecodeException("FINGERPRINT does not match the message");
                        }
                    }
                    default -> {
                        if (!AttributeType.isKnown(at) && AttributeType.isComprehensionRequired(at)) {
                            unknown.add(at);
                        }
                    }
                }
                attrs.add(a);
            }
            pos = v + padded;
        }
        return new StunMessage(method, cls, tid, cookie, attrs, b, integrityOffset, integritySha256Offset, unknown);
    }

    private static StunAttribute attribute(byte[] b, int type, int v, int len, TransactionId tid, int at)
            throws StunDecodeException {
        String where = String.format(" (attribute 0x%04x at offset %d)", type, at);
        return switch (type) {
            case AttributeType.MAPPED_ADDRESS -> new StunAttribute.MappedAddress(readAddress(b, v, len, null, where));
            case AttributeType.XOR_MAPPED_ADDRESS -> new StunAttribute.XorMappedAddress(readAddress(b, v, len, tid, where));
            case AttributeType.RESPONSE_ORIGIN -> new StunAttribute.ResponseOrigin(readAddress(b, v, len, null, where));
            case AttributeType.OTHER_ADDRESS -> new StunAttribute.OtherAddress(readAddress(b, v, len, null, where));
            case AttributeType.USERNAME -> new StunAttribute.Username(readText(b, v, len, MAX_USERNAME_BYTES, where));
            case AttributeType.SOFTWARE -> new StunAttribute.Software(readText(b, v, len, MAX_TEXT_BYTES, where));
            case AttributeType.MESSAGE_INTEGRITY -> {
                requireLength(len, 20, where);
                yield new StunAttribute.MessageIntegrity(Arrays.copyOfRange(b, v, v + 20));
            }
            case AttributeType.MESSAGE_INTEGRITY_SHA256 -> {
                if (len < 16 || len > 32 || len % 4 != 0) {
                    throw new StunDecodeException("MESSAGE-INTEGRITY-SHA256 must be 16..32 bytes, a multiple of 4; is "
                            + len + where);
                }
                yield new StunAttribute.MessageIntegritySha256(Arrays.copyOfRange(b, v, v + len));
            }
            case AttributeType.FINGERPRINT -> {
                requireLength(len, 4, where);
                yield new StunAttribute.Fingerprint(ByteBuffer.wrap(b, v, 4).getInt());
            }
            case AttributeType.ERROR_CODE -> {
                if (len < 4) {
                    throw new StunDecodeException("ERROR-CODE shorter than 4 bytes" + where);
                }
                int cls = b[v + 2] & 0x07;
                int number = b[v + 3] & 0xFF;
                if (cls < 3 || cls > 6 || number > 99) {
                    throw new StunDecodeException("ERROR-CODE class " + cls + " number " + number + " out of range" + where);
                }
                yield new StunAttribute.ErrorCode(cls * 100 + number, readText(b, v + 4, len - 4, MAX_TEXT_BYTES, where));
            }
            case AttributeType.UNKNOWN_ATTRIBUTES -> {
                if (len % 2 != 0) {
                    throw new StunDecodeException("UNKNOWN-ATTRIBUTES has an odd length " + len + where);
                }
                List<Integer> types = new ArrayList<>(len / 2);
                for (int i = 0; i < len; i += 2) {
                    types.add(u16(b, v + i));
                }
                yield new StunAttribute.UnknownAttributes(types);
            }
            case AttributeType.CHANGE_REQUEST -> {
                requireLength(len, 4, where);
                int flags = b[v + 3];
                yield new StunAttribute.ChangeRequest((flags & 4) != 0, (flags & 2) != 0);
            }
            case AttributeType.RESPONSE_PORT -> {
                requireLength(len, 4, where);
                yield new StunAttribute.ResponsePort(u16(b, v));
            }
            case AttributeType.PADDING -> new StunAttribute.Padding(len);
            default -> new StunAttribute.Raw(type, Arrays.copyOfRange(b, v, v + len));
        };
    }

    private static void requireLength(int len, int expected, String where) throws StunDecodeException {
        if (len != expected) {
            throw new StunDecodeException("value is " + len + " bytes, must be " + expected + where);
        }
    }

    private static InetSocketAddress readAddress(byte[] b, int v, int len, TransactionId xorWith, String where)
            throws StunDecodeException {
        if (len < 4) {
            throw new StunDecodeException("address shorter than 4 bytes" + where);
        }
        int family = b[v + 1] & 0xFF;
        int ipLength = switch (family) {
            case 1 -> 4;
            case 2 -> 16;
            default -> throw new StunDecodeException("unknown address family " + family + where);
        };
        requireLength(len, 4 + ipLength, where);
        int port = u16(b, v + 2);
        byte[] ip = Arrays.copyOfRange(b, v + 4, v + 4 + ipLength);
        if (xorWith != null) {
            port ^= StunMessage.MAGIC_COOKIE >>> 16;
            xor(ip, xorWith);
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ip), port);
        } catch (UnknownHostException e) {
            throw new StunDecodeException("bad address" + where); // not reachable: the length is 4 or 16
        }
    }

    private static String readText(byte[] b, int v, int len, int max, String where) throws StunDecodeException {
        if (len > max) {
            throw new StunDecodeException("text of " + len + " bytes is longer than " + max + where);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b, v, len))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new StunDecodeException("text is not valid UTF-8" + where);
        }
    }

    private static int u16(byte[] b, int i) {
        return ((b[i] & 0xFF) << 8) | (b[i + 1] & 0xFF);
    }

    // ------------------------------------------------------------------------------------------------ integrity

    /** Outcome of {@link #checkIntegrity}. */
    public enum Integrity { ABSENT, VALID, INVALID }

    /**
     * Whether a client may accept {@code response} to a request it sent with {@code key}: its MESSAGE-INTEGRITY must
     * be valid, except that an error response may carry none (a server answers 400 or 401 before it knows the key).
     */
    public static boolean responseAuthentic(StunMessage response, byte[] key) {
        Integrity integrity = checkIntegrity(response, key);
        return integrity == Integrity.VALID
                || (integrity == Integrity.ABSENT && response.messageClass() == StunClass.ERROR_RESPONSE);
    }

    /**
     * Checks MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256 of a decoded message over the bytes it was decoded from.
     * VALID only if every integrity attribute present verifies with {@code key}; constant-time comparison.
     */
    public static Integrity checkIntegrity(StunMessage decoded, byte[] key) {
        byte[] raw = decoded.raw();
        if (raw == null) {
            throw new IllegalArgumentException("only a decoded message carries its received bytes");
        }
        int mi = decoded.integrityOffset();
        int mi256 = decoded.integritySha256Offset();
        if (mi < 0 && mi256 < 0) {
            return Integrity.ABSENT;
        }
        if (mi >= 0 && !verify(raw, mi, 20, "HmacSHA1", key)) {
            return Integrity.INVALID;
        }
        if (mi256 >= 0 && !verify(raw, mi256, u16(raw, mi256 + 2), "HmacSHA256", key)) {
            return Integrity.INVALID;
        }
        return Integrity.VALID;
    }

    private static boolean verify(byte[] raw, int attrOffset, int macLength, String algorithm, byte[] key) {
        byte[] covered = Arrays.copyOf(raw, attrOffset);
        int length = attrOffset + 4 + macLength - StunMessage.HEADER_LENGTH;
        covered[2] = (byte) (length >>> 8);
        covered[3] = (byte) length;
        byte[] mac = hmac(algorithm, key, covered, 0, covered.length);
        byte[] got = Arrays.copyOfRange(raw, attrOffset + 4, attrOffset + 4 + macLength);
        return MessageDigest.isEqual(Arrays.copyOf(mac, macLength), got);
    }

    /**
     * The short-term credential key: the password's UTF-8 bytes. (RFC 8489 runs the password through the
     * OpaqueString profile of RFC 8265 first; for ASCII passwords, such as ICE's, that changes nothing.)
     */
    public static byte[] shortTermKey(String password) {
        return password.getBytes(StandardCharsets.UTF_8);
    }

    /** The long-term credential key: MD5(username ":" realm ":" password). */
    public static byte[] longTermKey(String username, String realm, String password) {
        try {
            return MessageDigest.getInstance("MD5")
                    .digest((username + ":" + realm + ":" + password).getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("MD5 missing from the JDK", e);
        }
    }

    private static byte[] hmac(String algorithm, byte[] key, byte[] data, int off, int len) {
        try {
            Mac mac = Mac.getInstance(algorithm);
            mac.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, algorithm));
            mac.update(data, off, len);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(algorithm + " missing from the JDK", e);
        }
    }

    private static int crc(byte[] b, int off, int len) {
        CRC32 c = new CRC32();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    static boolean isIpv4(InetSocketAddress a) {
        return a.getAddress() instanceof Inet4Address;
    }

    static boolean isIpv6(InetSocketAddress a) {
        return a.getAddress() instanceof Inet6Address;
    }
}
