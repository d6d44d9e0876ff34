package org.p2psip.nat.turn;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.p2psip.nat.stun.AttributeType;
import org.p2psip.nat.stun.StunAttribute;
import org.p2psip.nat.stun.StunMessage;
import org.p2psip.nat.stun.TransactionId;

/**
 * The TURN attributes of RFC 8656 and the long-term credential attributes REALM and NONCE, on top of the STUN
 * codec. The codec keeps attributes it does not know as {@link StunAttribute.Raw}; this class builds those raw
 * attributes and reads them back, checking each value's size rules. A value that breaks them is a
 * {@link TurnFormatException} (the server answers 400).
 */
public final class TurnAttributes {
    private TurnAttributes() {
    }

    /** REQUESTED-TRANSPORT protocol number of UDP. */
    public static final int TRANSPORT_UDP = 17;
    /** REQUESTED-ADDRESS-FAMILY values. */
    public static final int FAMILY_IPV4 = 0x01;
    public static final int FAMILY_IPV6 = 0x02;
    /** Channel numbers RFC 8656 allows; RFC 5766 allowed up to 0x7FFF. */
    public static final int MIN_CHANNEL = 0x4000;
    public static final int MAX_CHANNEL = 0x4FFF;
    public static final int MAX_CHANNEL_RFC5766 = 0x7FFF;
    /** REALM and NONCE: fewer than 128 characters, at most 763 bytes. */
    static final int MAX_TEXT_BYTES = 763;

    /** Comprehension-required types a TURN server understands beyond what the STUN codec knows. */
    static final Set<Integer> UNDERSTOOD = Set.of(AttributeType.CHANNEL_NUMBER, AttributeType.LIFETIME,
            AttributeType.XOR_PEER_ADDRESS, AttributeType.DATA, AttributeType.XOR_RELAYED_ADDRESS,
            AttributeType.REQUESTED_ADDRESS_FAMILY, AttributeType.EVEN_PORT, AttributeType.REQUESTED_TRANSPORT,
            AttributeType.DONT_FRAGMENT, AttributeType.RESERVATION_TOKEN, AttributeType.REALM, AttributeType.NONCE);

    /** The comprehension-required types of {@code m} that neither the codec nor TURN understands (answer 420). */
    public static List<Integer> unknownComprehensionRequired(StunMessage m) {
        List<Integer> out = new ArrayList<>();
        for (int t : m.unknownComprehensionRequired()) {
            if (!UNDERSTOOD.contains(t)) {
                out.add(t);
            }
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------- builders

    public static StunAttribute lifetime(long seconds) {
        return u32(AttributeType.LIFETIME, seconds);
    }

    public static StunAttribute requestedTransport(int protocol) {
        return new StunAttribute.Raw(AttributeType.REQUESTED_TRANSPORT, new byte[] {(byte) protocol, 0, 0, 0});
    }

    public static StunAttribute channelNumber(int channel) {
        return new StunAttribute.Raw(AttributeType.CHANNEL_NUMBER, new byte[] {(byte) (channel >>> 8), (byte) channel, 0, 0});
    }

    public static StunAttribute data(byte[] data) {
        return new StunAttribute.Raw(AttributeType.DATA, data);
    }

    public static StunAttribute evenPort(boolean reserveNext) {
        return new StunAttribute.Raw(AttributeType.EVEN_PORT, new byte[] {(byte) (reserveNext ? 0x80 : 0)});
    }

    public static StunAttribute reservationToken(byte[] token) {
        if (token.length != 8) {
            throw new IllegalArgumentException("a reservation token has 8 bytes");
        }
        return new StunAttribute.Raw(AttributeType.RESERVATION_TOKEN, token);
    }

    public static StunAttribute dontFragment() {
        return new StunAttribute.Raw(AttributeType.DONT_FRAGMENT, new byte[0]);
    }

    public static StunAttribute requestedAddressFamily(int family) {
        return new StunAttribute.Raw(AttributeType.REQUESTED_ADDRESS_FAMILY, new byte[] {(byte) family, 0, 0, 0});
    }

    public static StunAttribute realm(String realm) {
        return text(AttributeType.REALM, realm);
    }

    public static StunAttribute nonce(String nonce) {
        return text(AttributeType.NONCE, nonce);
    }

    public static StunAttribute xorPeerAddress(InetSocketAddress a, TransactionId tid) {
        return new StunAttribute.Raw(AttributeType.XOR_PEER_ADDRESS, xorAddress(a, tid));
    }

    public static StunAttribute xorRelayedAddress(InetSocketAddress a, TransactionId tid) {
        return new StunAttribute.Raw(AttributeType.XOR_RELAYED_ADDRESS, xorAddress(a, tid));
    }

    private static StunAttribute u32(int type, long v) {
        if (v < 0 || v > 0xFFFFFFFFL) {
            throw new IllegalArgumentException("value out of 32-bit range: " + v);
        }
        return new StunAttribute.Raw(type, new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
    }

    private static StunAttribute text(int type, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > MAX_TEXT_BYTES) {
            throw new IllegalArgumentException("text longer than " + MAX_TEXT_BYTES + " bytes");
        }
        return new StunAttribute.Raw(type, b);
    }

    static byte[] xorAddress(InetSocketAddress a, TransactionId tid) {
        byte[] ip = a.getAddress().getAddress();
        byte[] v = new byte[4 + ip.length];
        v[1] = (byte) (ip.length == 4 ? FAMILY_IPV4 : FAMILY_IPV6);
        int port = a.getPort() ^ (StunMessage.MAGIC_COOKIE >>> 16);
        v[2] = (byte) (port >>> 8);
        v[3] = (byte) port;
        xor(ip, tid);
        System.arraycopy(ip, 0, v, 4, ip.length);
        return v;
    }

    private static void xor(byte[] ip, TransactionId tid) {
        byte[] t = tid.bytes();
        for (int i = 0; i < ip.length; i++) {
            int k = i < 4 ? (StunMessage.MAGIC_COOKIE >>> (24 - 8 * i)) & 0xFF : t[i - 4] & 0xFF;
            ip[i] ^= (byte) k;
        }
    }

    // ---------------------------------------------------------------------------------------------- readers

    /** The value of the first attribute of {@code type}, if any (later duplicates are ignored, as RFC 8489 says). */
    static Optional<byte[]> raw(StunMessage m, int type) {
        for (StunAttribute a : m.attributes()) {
            if (a.type() == type && a instanceof StunAttribute.Raw r) {
                return Optional.of(r.value());
            }
        }
        return Optional.empty();
    }

    /** All values of attributes of {@code type}, in order (CreatePermission may carry several XOR-PEER-ADDRESS). */
    static List<byte[]> rawAll(StunMessage m, int type) {
        List<byte[]> out = new ArrayList<>();
        for (StunAttribute a : m.attributes()) {
            if (a.type() == type && a instanceof StunAttribute.Raw r) {
                out.add(r.value());
            }
        }
        return out;
    }

    public static boolean has(StunMessage m, int type) {
        return raw(m, type).isPresent();
    }

    public static Optional<Long> lifetime(StunMessage m) throws TurnFormatException {
        Optional<byte[]> v = raw(m, AttributeType.LIFETIME);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        byte[] b = length(v.get(), 4, "LIFETIME");
        return Optional.of(((b[0] & 0xFFL) << 24) | ((b[1] & 0xFFL) << 16) | ((b[2] & 0xFFL) << 8) | (b[3] & 0xFFL));
    }

    /** The protocol number of REQUESTED-TRANSPORT. */
    public static Optional<Integer> requestedTransport(StunMessage m) throws TurnFormatException {
        Optional<byte[]> v = raw(m, AttributeType.REQUESTED_TRANSPORT);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(length(v.get(), 4, "REQUESTED-TRANSPORT")[0] & 0xFF);
    }

    /** The 16-bit channel number (its range is checked by the caller). */
    public static Optional<Integer> channelNumber(StunMessage m) throws TurnFormatException {
        Optional<byte[]> v = raw(m, AttributeType.CHANNEL_NUMBER);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        byte[] b = length(v.get(), 4, "CHANNEL-NUMBER");
        return Optional.of(((b[0] & 0xFF) << 8) | (b[1] & 0xFF));
    }

    public static Optional<byte[]> data(StunMessage m) {
        return raw(m, AttributeType.DATA);
    }

    /** EVEN-PORT: empty when absent, else whether the R bit asks to reserve the next port. */
    public static Optional<Boolean> evenPort(StunMessage m) throws TurnFormatException {
        Optional<byte[]> v = raw(m, AttributeType.EVEN_PORT);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of((length(v.get(), 1, "EVEN-PORT")[0] & 0x80) != 0);
    }

    public static Optional<byte[]> reservationToken(StunMessage m) throws TurnFormatException {
        Optional<byte[]> v = raw(m, AttributeType.RESERVATION_TOKEN);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(length(v.get(), 8, "RESERVATION-TOKEN"));
    }

    public static Optional<Integer> requestedAddressFamily(StunMessage m) throws TurnFormatException {
        Optional<byte[]> v = raw(m, AttributeType.REQUESTED_ADDRESS_FAMILY);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(length(v.get(), 4, "REQUESTED-ADDRESS-FAMILY")[0] & 0xFF);
    }

    public static Optional<String> realm(StunMessage m) throws TurnFormatException {
        return text(m, AttributeType.REALM, "REALM");
    }

    public static Optional<String> nonce(StunMessage m) throws TurnFormatException {
        return text(m, AttributeType.NONCE, "NONCE");
    }

    public static Optional<InetSocketAddress> xorRelayedAddress(StunMessage m) throws TurnFormatException {
        Optional<byte[]> v = raw(m, AttributeType.XOR_RELAYED_ADDRESS);
        return v.isEmpty() ? Optional.empty() : Optional.of(readXorAddress(v.get(), m.transactionId(), "XOR-RELAYED-ADDRESS"));
    }

    public static Optional<InetSocketAddress> xorPeerAddress(StunMessage m) throws TurnFormatException {
        Optional<byte[]> v = raw(m, AttributeType.XOR_PEER_ADDRESS);
        return v.isEmpty() ? Optional.empty() : Optional.of(readXorAddress(v.get(), m.transactionId(), "XOR-PEER-ADDRESS"));
    }

    /** Every XOR-PEER-ADDRESS of {@code m}. */
    public static List<InetSocketAddress> xorPeerAddresses(StunMessage m) throws TurnFormatException {
        List<InetSocketAddress> out = new ArrayList<>();
        for (byte[] v : rawAll(m, AttributeType.XOR_PEER_ADDRESS)) {
            out.add(readXorAddress(v, m.transactionId(), "XOR-PEER-ADDRESS"));
        }
        return out;
    }

    private static Optional<String> text(StunMessage m, int type, String name) throws TurnFormatException {
        Optional<byte[]> v = raw(m, type);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        byte[] b = v.get();
        if (b.length > MAX_TEXT_BYTES) {
            throw new TurnFormatException(name + " longer than " + MAX_TEXT_BYTES + " bytes");
        }
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(b)).toString());
        } catch (CharacterCodingException e) {
            throw new TurnFormatException(name + " is not valid UTF-8");
        }
    }

    static InetSocketAddress readXorAddress(byte[] v, TransactionId tid, String name) throws TurnFormatException {
        if (v.length < 4) {
            throw new TurnFormatException(name + " shorter than 4 bytes");
        }
        int ipLength = switch (v[1] & 0xFF) {
            case FAMILY_IPV4 -> 4;
            case FAMILY_IPV6 -> 16;
            default -> throw new TurnFormatException(name + " has unknown address family " + (v[1] & 0xFF));
        };
        length(v, 4 + ipLength, name);
        int port = (((v[2] & 0xFF) << 8) | (v[3] & 0xFF)) ^ (StunMessage.MAGIC_COOKIE >>> 16);
        byte[] ip = java.util.Arrays.copyOfRange(v, 4, 4 + ipLength);
        xor(ip, tid);
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ip), port);
        } catch (UnknownHostException e) {
            throw new TurnFormatException(name + ": bad address"); // not reachable: the length is 4 or 16
        }
    }

    private static byte[] length(byte[] v, int expected, String name) throws TurnFormatException {
        if (v.length != expected) {
            throw new TurnFormatException(name + " is " + v.length + " bytes, must be " + expected);
        }
        return v;
    }

    static boolean isIpv4(InetAddress a) {
        return a instanceof Inet4Address;
    }
}
