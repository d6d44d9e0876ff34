package org.p2psip.nat.portmap;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * PCP (RFC 6887) MAP requests and responses. A response is untrusted: size (at least 60 bytes, at most 1100, a
 * multiple of 4), version, the R bit, the opcode, and that nonce, protocol and internal port echo the request are all
 * checked. A NAT-PMP-only router answers a PCP request with a version-0 "unsupported version" reply (RFC 6887 9),
 * which decodes as {@link UnsupportedVersion} so the caller can fall back to NAT-PMP.
 */
public final class PcpCodec {
    static final int VERSION = 2;
    static final int OP_MAP = 1;
    static final int HEADER = 24;
    static final int MAP_BODY = 36;
    static final int MAX_MESSAGE = 1100;
    static final int NONCE_BYTES = 12;

    private PcpCodec() {
    }

    /** A decoded PCP answer. */
    public sealed interface Reply permits Granted, Refused, UnsupportedVersion {
    }

    /** Success: the assigned external address and port, for {@code lifetimeSeconds} (0 after a delete). */
    public record Granted(long lifetimeSeconds, long epochSeconds, int externalPort, InetAddress externalAddress)
            implements Reply {
    }

    /** A PCP error result (RFC 6887 7.4), valid for {@code lifetimeSeconds}. */
    public record Refused(int resultCode, String meaning, long lifetimeSeconds) implements Reply {
    }

    /**
     * The router speaks another version: {@code version} 0 is NAT-PMP (fall back to it), 1 is the pre-RFC draft.
     */
    public record UnsupportedVersion(int version) implements Reply {
    }

    /**
     * A MAP request (60 bytes). {@code lifetimeSeconds} 0 deletes the mapping made with the same nonce.
     *
     * @param client this host's address as the router sees it (the request's source address)
     */
    public static byte[] mapRequest(byte[] nonce, Protocol protocol, InetAddress client, int internalPort,
            int suggestedExternalPort, InetAddress suggestedExternal, long lifetimeSeconds) {
        if (nonce.length != NONCE_BYTES) {
            throw new IllegalArgumentException("PCP nonce must be 12 bytes");
        }
        NatPmpCodec.checkPort(internalPort, "internal port", false);
        NatPmpCodec.checkPort(suggestedExternalPort, "external port", true);
        if (lifetimeSeconds < 0 || lifetimeSeconds > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("lifetime out of range: " + lifetimeSeconds);
        }
        ByteBuffer b = ByteBuffer.allocate(HEADER + MAP_BODY);
        b.put((byte) VERSION).put((byte) OP_MAP).putShort((short) 0).putInt((int) lifetimeSeconds);
        b.put(sixteen(client));
        b.put(nonce).put((byte) protocol.ianaNumber()).put(new byte[3]);
        b.putShort((short) internalPort).putShort((short) suggestedExternalPort);
        b.put(suggestedExternal == null ? sixteen(anyIpv4()) : sixteen(suggestedExternal));
        return b.array();
    }

    /** Decodes the answer to a MAP request with {@code nonce}, {@code protocol} and {@code internalPort}. */
    public static Reply decodeMap(byte[] data, int length, byte[] nonce, Protocol protocol, int internalPort)
            throws MalformedReplyException {
        if (length >= 2 && (data[0] & 0xFF) == NatPmpCodec.VERSION) {
            // A NAT-PMP server's answer to an unknown version: version 0, opcode 128 + ours, result 1.
            if (length >= 4 && (data[3] & 0xFF) == 1 && (data[2] & 0xFF) == 0) {
                return new UnsupportedVersion(0);
            }
            throw new MalformedReplyException("PCP request answered by a NAT-PMP reply that is not 'unsupported"
                    + " version' (" + length + " bytes, result " + (length >= 4 ? (data[3] & 0xFF) : -1) + ")");
        }
        if (length < HEADER) {
            throw new MalformedReplyException("PCP reply of " + length + " bytes is shorter than the 24-byte header");
        }
        if (length > MAX_MESSAGE || length % 4 != 0) {
            throw new MalformedReplyException("PCP reply of " + length
                    + " bytes: the size must be a multiple of 4 and at most 1100");
        }
        ByteBuffer b = ByteBuffer.wrap(data, 0, length);
        int version = b.get() & 0xFF;
        int rOpcode = b.get() & 0xFF;
        b.get();
        int result = b.get() & 0xFF;
        long lifetime = b.getInt() & 0xFFFF_FFFFL;
        long epoch = b.getInt() & 0xFFFF_FFFFL;
        if ((rOpcode & 0x80) == 0) {
            throw new MalformedReplyException("PCP message without the R (response) bit");
        }
        if (version != VERSION) {
            if (result == 1) {
                return new UnsupportedVersion(version);
            }
            throw new MalformedReplyException("PCP reply has version " + version + ", expected 2");
        }
        if ((rOpcode & 0x7F) != OP_MAP) {
            throw new MalformedReplyException("PCP reply has opcode " + (rOpcode & 0x7F) + ", expected MAP (1)");
        }
        if (result != 0 && length < HEADER + MAP_BODY) {
            return new Refused(result, resultMeaning(result), lifetime);
        }
        if (length < HEADER + MAP_BODY) {
            throw new MalformedReplyException("PCP MAP reply of " + length + " bytes is shorter than 60");
        }
        b.position(HEADER);
        byte[] gotNonce = new byte[NONCE_BYTES];
        b.get(gotNonce);
        int proto = b.get() & 0xFF;
        b.position(b.position() + 3);
        int internal = b.getShort() & 0xFFFF;
        int external = b.getShort() & 0xFFFF;
        byte[] address = new byte[16];
        b.get(address);
        if (!Arrays.equals(gotNonce, nonce)) {
            throw new MalformedReplyException("PCP MAP reply carries another mapping nonce (not an answer to us)");
        }
        if (proto != protocol.ianaNumber() || internal != internalPort) {
            throw new MalformedReplyException("PCP MAP reply is for protocol " + proto + " port " + internal
                    + ", we asked for " + protocol.ianaNumber() + " port " + internalPort);
        }
        if (result != 0) {
            return new Refused(result, resultMeaning(result), lifetime);
        }
        if (lifetime > 0 && external == 0) {
            throw new MalformedReplyException("PCP MAP success with external port 0");
        }
        return new Granted(lifetime, epoch, external, fromSixteen(address));
    }

    /** RFC 6887 7.4 result codes. */
    public static String resultMeaning(int code) {
        return switch (code) {
            case 0 -> "SUCCESS";
            case 1 -> "UNSUPP_VERSION";
            case 2 -> "NOT_AUTHORIZED (the router's policy refuses this mapping)";
            case 3 -> "MALFORMED_REQUEST";
            case 4 -> "UNSUPP_OPCODE";
            case 5 -> "UNSUPP_OPTION";
            case 6 -> "MALFORMED_OPTION";
            case 7 -> "NETWORK_FAILURE (the router has no public address)";
            case 8 -> "NO_RESOURCES";
            case 9 -> "UNSUPP_PROTOCOL";
            case 10 -> "USER_EX_QUOTA";
            case 11 -> "CANNOT_PROVIDE_EXTERNAL";
            case 12 -> "ADDRESS_MISMATCH (the router sees another source address than the request names)";
            case 13 -> "EXCESSIVE_REMOTE_PEERS";
            default -> "unknown result code " + code;
        };
    }

    /** An address as PCP writes it: IPv6 as is, IPv4 as the IPv4-mapped IPv6 address ::ffff:a.b.c.d. */
    static byte[] sixteen(InetAddress a) {
        byte[] raw = a.getAddress();
        if (a instanceof Inet6Address) {
            return raw;
        }
        byte[] out = new byte[16];
        out[10] = (byte) 0xFF;
        out[11] = (byte) 0xFF;
        System.arraycopy(raw, 0, out, 12, 4);
        return out;
    }

    static InetAddress fromSixteen(byte[] sixteen) {
        boolean mapped = true;
        for (int i = 0; i < 10; i++) {
            mapped &= sixteen[i] == 0;
        }
        mapped &= sixteen[10] == (byte) 0xFF && sixteen[11] == (byte) 0xFF;
        try {
            return mapped ? InetAddress.getByAddress(Arrays.copyOfRange(sixteen, 12, 16))
                    : InetAddress.getByAddress(sixteen);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static InetAddress anyIpv4() {
        return NatPmpCodec.ipv4(new byte[4]);
    }

    static boolean isIpv4(InetAddress a) {
        return a instanceof Inet4Address;
    }
}
