package org.p2psip.nat.portmap;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * NAT-PMP messages (RFC 6886): the external address request and the UDP/TCP mapping request, and the decoding of the
 * router's answers. Replies are untrusted: every length, version, opcode and result is checked, and each violation is
 * a {@link MalformedReplyException} naming it.
 */
public final class NatPmpCodec {
    static final int VERSION = 0;
    static final int OP_EXTERNAL_ADDRESS = 0;
    static final int REPLY_BIT = 128;

    private NatPmpCodec() {
    }

    /** A decoded NAT-PMP reply. */
    public sealed interface Reply permits ExternalAddress, MappingReply, Failure {
    }

    /** Answer to opcode 0: the router's public IPv4 address. */
    public record ExternalAddress(long epochSeconds, InetAddress address) implements Reply {
    }

    /** Answer to opcode 1 (UDP) or 2 (TCP); lifetime 0 confirms a deletion. */
    public record MappingReply(long epochSeconds, int internalPort, int externalPort, long lifetimeSeconds)
            implements Reply {
    }

    /** A non-zero result code (the router refused). */
    public record Failure(int resultCode, String meaning) implements Reply {
    }

    public static byte[] externalAddressRequest() {
        return new byte[] {VERSION, OP_EXTERNAL_ADDRESS};
    }

    /**
     * A mapping request; a lifetime of 0 with external port 0 deletes the mapping of {@code internalPort}
     * (RFC 6886 3.4).
     */
    public static byte[] mappingRequest(Protocol protocol, int internalPort, int suggestedExternalPort,
            long lifetimeSeconds) {
        checkPort(internalPort, "internal port", false);
        checkPort(suggestedExternalPort, "external port", true);
        if (lifetimeSeconds < 0 || lifetimeSeconds > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("lifetime out of range: " + lifetimeSeconds);
        }
        ByteBuffer b = ByteBuffer.allocate(12);
        b.put((byte) VERSION).put((byte) protocol.natPmpOpcode()).putShort((short) 0);
        b.putShort((short) internalPort).putShort((short) suggestedExternalPort).putInt((int) lifetimeSeconds);
        return b.array();
    }

    /**
     * Decodes the reply to a request with {@code requestOpcode} (0, 1 or 2). Longer replies than the RFC's sizes
     * are accepted (the RFC asks clients to ignore extra bytes); shorter ones are refused.
     */
    public static Reply decode(byte[] data, int length, int requestOpcode) throws MalformedReplyException {
        if (length < 8) {
            throw new MalformedReplyException("NAT-PMP reply of " + length + " bytes is shorter than the 8-byte header");
        }
        ByteBuffer b = ByteBuffer.wrap(data, 0, length);
        int version = b.get() & 0xFF;
        int opcode = b.get() & 0xFF;
        int result = b.getShort() & 0xFFFF;
        long epoch = b.getInt() & 0xFFFF_FFFFL;
        if (version != VERSION) {
            throw new MalformedReplyException("NAT-PMP reply has version " + version + ", expected 0");
        }
        if (opcode != REPLY_BIT + requestOpcode) {
            throw new MalformedReplyException("NAT-PMP reply has opcode " + opcode + ", expected "
                    + (REPLY_BIT + requestOpcode));
        }
        if (result != 0) {
            return new Failure(result, resultMeaning(result));
        }
        if (requestOpcode == OP_EXTERNAL_ADDRESS) {
            if (length < 12) {
                throw new MalformedReplyException("NAT-PMP external address reply of " + length
                        + " bytes is shorter than 12");
            }
            byte[] a = new byte[4];
            b.get(a);
            return new ExternalAddress(epoch, ipv4(a));
        }
        if (length < 16) {
            throw new MalformedReplyException("NAT-PMP mapping reply of " + length + " bytes is shorter than 16");
        }
        int internal = b.getShort() & 0xFFFF;
        int external = b.getShort() & 0xFFFF;
        long lifetime = b.getInt() & 0xFFFF_FFFFL;
        return new MappingReply(epoch, internal, external, lifetime);
    }

    /** RFC 6886 3.5 result codes. */
    public static String resultMeaning(int code) {
        return switch (code) {
            case 0 -> "success";
            case 1 -> "unsupported version";
            case 2 -> "not authorized/refused (port mapping disabled on the router?)";
            case 3 -> "network failure (the router has no public address)";
            case 4 -> "out of resources (no ports left)";
            case 5 -> "unsupported opcode";
            default -> "unknown result code " + code;
        };
    }

    static InetAddress ipv4(byte[] four) {
        try {
            return InetAddress.getByAddress(four);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static void checkPort(int port, String what, boolean zeroAllowed) {
        if (port < (zeroAllowed ? 0 : 1) || port > 65535) {
            throw new IllegalArgumentException(what + " out of range: " + port);
        }
    }

    static boolean isIpv4(InetAddress a) {
        return a instanceof Inet4Address;
    }
}
