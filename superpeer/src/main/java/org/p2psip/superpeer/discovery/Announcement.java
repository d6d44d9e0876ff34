package org.p2psip.superpeer.discovery;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.p2psip.nat.discovery.FilteringBehavior;
import org.p2psip.nat.discovery.MappingBehavior;
import org.p2psip.overlay.NodeId;

/**
 * A signed, immutable LAN announcement of one peer. See {@code superpeer/README.md} for the wire format.
 *
 * <p>The record only guarantees that its fields are in range and that {@link #encode()} reproduces the signed bytes;
 * whether the signature is valid, the id matches the key, and the announcement is fresh is
 * {@link AnnouncementVerifier}'s job.
 *
 * @param nodeId            SHA-1 of {@code publicKey} (checked by the verifier, not here)
 * @param publicKey         the raw 32-byte Ed25519 public key
 * @param overlayAddresses  1 to {@value #MAX_ADDRESSES} addresses the peer's overlay listens on; the first is its LAN address
 * @param prefixLength      the subnet prefix length of the first overlay address (for the same-subnet site rule)
 * @param reflexive         the server-reflexive address seen by STUN, or null if unknown
 * @param nat               NAT behaviour
 * @param uptimeSeconds     seconds since the peer started (0 to 2^32-1)
 * @param spareCpuPermille  spare CPU, 0 to 1000
 * @param spareMemoryMiB    spare memory in MiB (0 to 2^32-1)
 * @param spareBandwidthKbps spare bandwidth in kbit/s (0 to 2^32-1)
 * @param sequence          strictly increasing per key (start it at the wall clock in ms so a restart stays newer)
 * @param timestampMillis   wall-clock time of signing
 * @param signature         64-byte Ed25519 signature over every encoded byte before it
 */
public record Announcement(NodeId nodeId, byte[] publicKey, List<InetSocketAddress> overlayAddresses, int prefixLength,
                           InetSocketAddress reflexive, NatInfo nat, Role role, Preference preference,
                           long uptimeSeconds, int spareCpuPermille, long spareMemoryMiB, long spareBandwidthKbps,
                           long sequence, long timestampMillis, byte[] signature) {
    /** Packet type byte followed by "P2SA" and the version. */
    static final byte[] MAGIC = {'P', '2', 'S', 'A'};
    static final int VERSION = 1;
    public static final int MAX_ADDRESSES = 4;
    /** No valid announcement is longer than this; longer input is refused before parsing. */
    public static final int MAX_BYTES = 512;
    private static final long U32 = 0xffff_ffffL;

    public Announcement {
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(nat, "nat");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(preference, "preference");
        if (publicKey == null || publicKey.length != Ed25519Keys.RAW_PUBLIC_KEY_BYTES) {
            throw new IllegalArgumentException("publicKey must be 32 bytes");
        }
        if (signature == null || signature.length != Ed25519Keys.SIGNATURE_BYTES) {
            throw new IllegalArgumentException("signature must be 64 bytes");
        }
        publicKey = publicKey.clone();
        signature = signature.clone();
        overlayAddresses = List.copyOf(overlayAddresses);
        if (overlayAddresses.isEmpty() || overlayAddresses.size() > MAX_ADDRESSES) {
            throw new IllegalArgumentException("1 to " + MAX_ADDRESSES + " overlay addresses");
        }
        for (InetSocketAddress a : overlayAddresses) {
            checkAddress(a);
        }
        if (reflexive != null) {
            checkAddress(reflexive);
        }
        int maxPrefix = overlayAddresses.get(0).getAddress() instanceof Inet4Address ? 32 : 128;
        if (prefixLength < 0 || prefixLength > maxPrefix) {
            throw new IllegalArgumentException("prefixLength out of range");
        }
        checkU32(uptimeSeconds, "uptimeSeconds");
        checkU32(spareMemoryMiB, "spareMemoryMiB");
        checkU32(spareBandwidthKbps, "spareBandwidthKbps");
        if (spareCpuPermille < 0 || spareCpuPermille > 1000) {
            throw new IllegalArgumentException("spareCpuPermille must be 0..1000");
        }
    }

    private static void checkAddress(InetSocketAddress a) {
        if (a == null || a.isUnresolved()) {
            throw new IllegalArgumentException("addresses must be resolved");
        }
    }

    private static void checkU32(long v, String name) {
        if (v < 0 || v > U32) {
            throw new IllegalArgumentException(name + " out of range");
        }
    }

    @Override
    public byte[] publicKey() {
        return publicKey.clone();
    }

    @Override
    public byte[] signature() {
        return signature.clone();
    }

    /** The fields to sign; {@link #sign(Ed25519Keys)} produces the announcement. */
    public record Unsigned(List<InetSocketAddress> overlayAddresses, int prefixLength, InetSocketAddress reflexive,
                           NatInfo nat, Role role, Preference preference, long uptimeSeconds, int spareCpuPermille,
                           long spareMemoryMiB, long spareBandwidthKbps, long sequence, long timestampMillis) {
        public Announcement sign(Ed25519Keys keys) {
            byte[] zeroSig = new byte[Ed25519Keys.SIGNATURE_BYTES];
            Announcement a = new Announcement(keys.id(), keys.rawPublicKey(), overlayAddresses, prefixLength, reflexive,
                    nat, role, preference, uptimeSeconds, spareCpuPermille, spareMemoryMiB, spareBandwidthKbps,
                    sequence, timestampMillis, zeroSig);
            byte[] body = a.encodeBody();
            return a.withSignature(keys.sign(body, 0, body.length));
        }
    }

    Announcement withSignature(byte[] sig) {
        return new Announcement(nodeId, publicKey, overlayAddresses, prefixLength, reflexive, nat, role, preference,
                uptimeSeconds, spareCpuPermille, spareMemoryMiB, spareBandwidthKbps, sequence, timestampMillis, sig);
    }

    /** The signed part of the encoding. */
    byte[] encodeBody() {
        ByteBuffer b = ByteBuffer.allocate(MAX_BYTES);
        b.put(MAGIC).put((byte) VERSION);
        b.put(nodeId.toBytes()).put(publicKey);
        b.put((byte) role.code).put((byte) preference.code);
        b.put((byte) nat.mapping().ordinal()).put((byte) nat.filtering().ordinal());
        int flags = 0;
        if (nat.natDetected() != null) {
            flags |= 1;
            if (nat.natDetected()) {
                flags |= 2;
            }
        }
        if (nat.portMapped()) {
            flags |= 4;
        }
        if (reflexive != null) {
            flags |= 8;
        }
        b.put((byte) flags).put((byte) prefixLength);
        b.putInt((int) uptimeSeconds).putShort((short) spareCpuPermille);
        b.putInt((int) spareMemoryMiB).putInt((int) spareBandwidthKbps);
        b.putLong(sequence).putLong(timestampMillis);
        b.put((byte) overlayAddresses.size());
        for (InetSocketAddress a : overlayAddresses) {
            putAddress(b, a);
        }
        if (reflexive != null) {
            putAddress(b, reflexive);
        }
        return Arrays.copyOf(b.array(), b.position());
    }

    /** The full encoding: body then signature. At most {@link #MAX_BYTES}. */
    public byte[] encode() {
        byte[] body = encodeBody();
        byte[] out = Arrays.copyOf(body, body.length + signature.length);
        System.arraycopy(signature, 0, out, body.length, signature.length);
        return out;
    }

    /** Length of the signed body in an encoding produced by {@link #encode()}. */
    static int bodyLength(byte[] encoded) {
        return encoded.length - Ed25519Keys.SIGNATURE_BYTES;
    }

    private static void putAddress(ByteBuffer b, InetSocketAddress a) {
        byte[] ip = a.getAddress().getAddress();
        b.put((byte) (ip.length == 4 ? 4 : 6));
        b.put(ip);
        b.putShort((short) a.getPort());
    }

    /**
     * Parses an encoding. Never throws anything but {@link MalformedAnnouncementException}, whatever the input;
     * does not check the signature.
     */
    public static Announcement decode(byte[] in) throws MalformedAnnouncementException {
        if (in == null || in.length > MAX_BYTES) {
            throw new MalformedAnnouncementException("too long");
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(in);
            byte[] magic = new byte[MAGIC.length];
            b.get(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new MalformedAnnouncementException("bad magic");
            }
            int version = b.get() & 0xff;
            if (version != VERSION) {
                throw new MalformedAnnouncementException("unsupported version " + version);
            }
            byte[] id = new byte[NodeId.BYTES];
            b.get(id);
            byte[] key = new byte[Ed25519Keys.RAW_PUBLIC_KEY_BYTES];
            b.get(key);
            Role role = Role.ofCode(b.get() & 0xff);
            Preference pref = Preference.ofCode(b.get() & 0xff);
            MappingBehavior mapping = enumAt(MappingBehavior.values(), b.get() & 0xff);
            FilteringBehavior filtering = enumAt(FilteringBehavior.values(), b.get() & 0xff);
            int flags = b.get() & 0xff;
            if ((flags & ~0x0f) != 0 || (flags & 3) == 2) {
                throw new MalformedAnnouncementException("bad flags");
            }
            Boolean natDetected = (flags & 1) == 0 ? null : (flags & 2) != 0;
            boolean portMapped = (flags & 4) != 0;
            int prefix = b.get() & 0xff;
            long uptime = b.getInt() & U32;
            int cpu = b.getShort() & 0xffff;
            long mem = b.getInt() & U32;
            long bw = b.getInt() & U32;
            long seq = b.getLong();
            long ts = b.getLong();
            int n = b.get() & 0xff;
            if (n < 1 || n > MAX_ADDRESSES) {
                throw new MalformedAnnouncementException("bad address count " + n);
            }
            List<InetSocketAddress> addrs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                addrs.add(getAddress(b));
            }
            InetSocketAddress refl = (flags & 8) != 0 ? getAddress(b) : null;
            byte[] sig = new byte[Ed25519Keys.SIGNATURE_BYTES];
            b.get(sig);
            if (b.hasRemaining()) {
                throw new MalformedAnnouncementException("trailing bytes");
            }
            return new Announcement(NodeId.of(id), key, addrs, prefix, refl,
                    new NatInfo(mapping, filtering, natDetected, portMapped), role, pref, uptime, cpu, mem, bw, seq, ts,
                    sig);
        } catch (BufferUnderflowException e) {
            throw new MalformedAnnouncementException("truncated");
        } catch (IllegalArgumentException e) {
            throw new MalformedAnnouncementException(e.getMessage());
        }
    }

    private static <E> E enumAt(E[] values, int i) {
        if (i >= values.length) {
            throw new IllegalArgumentException("enum code out of range: " + i);
        }
        return values[i];
    }

    private static InetSocketAddress getAddress(ByteBuffer b) throws MalformedAnnouncementException {
        int fam = b.get() & 0xff;
        byte[] ip;
        if (fam == 4) {
            ip = new byte[4];
        } else if (fam == 6) {
            ip = new byte[16];
        } else {
            throw new MalformedAnnouncementException("bad address family " + fam);
        }
        b.get(ip);
        int port = b.getShort() & 0xffff;
        try {
            InetAddress addr = InetAddress.getByAddress(ip);
            if (fam == 6 && !(addr instanceof Inet6Address)) {
                // an IPv4-mapped IPv6 address decodes as Inet4Address and would not re-encode identically
                throw new MalformedAnnouncementException("IPv4-mapped IPv6 address");
            }
            return new InetSocketAddress(addr, port);
        } catch (UnknownHostException e) {
            throw new MalformedAnnouncementException("bad address");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Announcement a && Arrays.equals(encode(), a.encode());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(encode());
    }

    @Override
    public String toString() {
        return "Announcement[" + nodeId.shortHex() + " " + role + " " + preference + " seq=" + sequence + " addrs="
                + overlayAddresses + " refl=" + reflexive + " nat=" + nat + " up=" + uptimeSeconds + "s]";
    }
}
