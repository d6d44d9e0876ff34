package org.p2psip.overlay;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;

/**
 * A 160-bit identifier in the Kademlia key space: node ids (SHA-1 of the node's public key) and keys
 * (SHA-1 of a resource name such as {@code sip:bob@example.net}) share this space and the XOR metric.
 */
public final class NodeId implements Comparable<NodeId> {
    public static final int BYTES = 20;
    public static final int BITS = BYTES * 8;

    /** Reads 8 or 4 id bytes at once, big-endian, so distances compare a word at a time (lookups sort a lot). */
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

    private final byte[] id;
    private final int hash;

    private NodeId(byte[] id) {
        this.id = id;
        this.hash = Arrays.hashCode(id);
    }

    public static NodeId of(byte[] id) {
        if (id.length != BYTES) {
            throw new IllegalArgumentException("an id has " + BYTES + " bytes, not " + id.length);
        }
        return new NodeId(id.clone());
    }

    public static NodeId fromHex(String hex) {
        return of(HexFormat.of().parseHex(hex));
    }

    /** The key of a resource name: SHA-1 of its UTF-8 bytes, as in OpenDHT and the P2P-SIP draft. */
    public static NodeId ofName(String resourceName) {
        return sha1(resourceName.getBytes(StandardCharsets.UTF_8));
    }

    /** SHA-1 of arbitrary bytes, e.g. an encoded public key for a node id. */
    public static NodeId sha1(byte[] data) {
        try {
            return new NodeId(MessageDigest.getInstance("SHA-1").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required by every Java platform", e);
        }
    }

    public static NodeId random(Random rnd) {
        byte[] b = new byte[BYTES];
        rnd.nextBytes(b);
        return new NodeId(b);
    }

    /** A random id that shares exactly {@code prefixBits} leading bits with this id (used for bucket refresh). */
    public NodeId randomWithPrefix(int prefixBits, Random rnd) {
        byte[] b = new byte[BYTES];
        rnd.nextBytes(b);
        for (int i = 0; i < prefixBits; i++) {
            setBit(b, i, bit(i));
        }
        if (prefixBits < BITS) {
            setBit(b, prefixBits, !bit(prefixBits));
        }
        return new NodeId(b);
    }

    private static void setBit(byte[] b, int i, boolean v) {
        int mask = 0x80 >>> (i & 7);
        if (v) {
            b[i >>> 3] |= (byte) mask;
        } else {
            b[i >>> 3] &= (byte) ~mask;
        }
    }

    /** Bit {@code i}, counting from the most significant bit of the first byte. */
    public boolean bit(int i) {
        return (id[i >>> 3] & (0x80 >>> (i & 7))) != 0;
    }

    /** Number of leading bits this id shares with {@code other} (160 when equal). */
    public int commonPrefixLength(NodeId other) {
        for (int i = 0; i < BYTES; i++) {
            int x = (id[i] ^ other.id[i]) & 0xff;
            if (x != 0) {
                return i * 8 + Integer.numberOfLeadingZeros(x) - 24;
            }
        }
        return BITS;
    }

    /**
     * Compares the XOR distances of {@code a} and {@code b} to this id: negative when {@code a} is closer.
     */
    public int compareDistance(NodeId a, NodeId b) {
        for (int i = 0; i < 16; i += 8) {
            long self = (long) LONGS.get(id, i);
            long da = (long) LONGS.get(a.id, i) ^ self;
            long db = (long) LONGS.get(b.id, i) ^ self;
            if (da != db) {
                return Long.compareUnsigned(da, db);
            }
        }
        int self = (int) INTS.get(id, 16);
        return Integer.compareUnsigned((int) INTS.get(a.id, 16) ^ self, (int) INTS.get(b.id, 16) ^ self);
    }

    /** The XOR distance to {@code other}, as an id-sized number. */
    public NodeId xor(NodeId other) {
        byte[] b = new byte[BYTES];
        for (int i = 0; i < BYTES; i++) {
            b[i] = (byte) (id[i] ^ other.id[i]);
        }
        return new NodeId(b);
    }

    public byte[] toBytes() {
        return id.clone();
    }

    /** Writes the 20 bytes into {@code out} at {@code offset}. */
    public void copyTo(byte[] out, int offset) {
        System.arraycopy(id, 0, out, offset, BYTES);
    }

    public String toHex() {
        return HexFormat.of().formatHex(id);
    }

    /** The first 8 hex digits, for logs. */
    public String shortHex() {
        return toHex().substring(0, 8);
    }

    @Override
    public int compareTo(NodeId o) {
        return Arrays.compareUnsigned(id, o.id);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NodeId n && n.hash == hash && Arrays.equals(id, n.id);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return toHex();
    }
}
