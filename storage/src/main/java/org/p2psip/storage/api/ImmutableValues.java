package org.p2psip.storage.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.storage.RecordException;
import org.p2psip.storage.Refusal;

/**
 * The stored form of immutable values (put-immut, get-immut) and of the draft's fragmentation (§3.3).
 * <p>
 * Every immutable value stored in the overlay is one {@link DhtValue} with
 * <ul>
 * <li>{@code data} = one <em>node</em>, at most the chunk size: a type byte, then
 * <ul>
 * <li>{@code 0x01} ‖ payload: a <b>data node</b> (a whole small value, or one chunk of a large one); or</li>
 * <li>{@code 0x00} ‖ h<sub>1</sub> ‖ {@code 0x00} ‖ h<sub>2</sub> ‖ … ‖ {@code 0x00} ‖ h<sub>n</sub>: an <b>index
 * node</b> (the draft's "a fragmented value starts with a nul byte" and "child keys delimited by nul characters"):
 * each h<sub>i</sub> is a child's SHA-256 as 64 lower-case hex digits, children in order, n ≥ 1. Hex keys contain no
 * nul byte, and data nodes carry their own type byte, so the encoding is binary-safe: a payload that itself starts
 * with a nul byte is still a data node;</li>
 * </ul>
 * </li>
 * <li>{@code nonce} = SHA-256(data) (32 bytes), {@code owner} = empty (nobody can remove it; it only expires);</li>
 * <li>key = the first 160 bits of SHA-256(data) ({@link ImmutKey#dhtKey()}).</li>
 * </ul>
 * A large value is the tree whose leaves are data nodes holding consecutive chunks and whose inner nodes are index
 * nodes (a Merkle tree: each parent names its children by hash). The value is the concatenation of the leaves'
 * payloads in order. Its key is the root's hash. Storing nodes check key, nonce and type byte
 * ({@link DraftPolicy}); readers check every node's full SHA-256 against its parent's entry.
 * <p>
 * SHA-256 rather than the draft's example SHA-1: SHA-1 collisions are practical, and two colliding chunks would
 * share a key. The DHT key is truncated to the overlay's 160 bits; children are named by the full 256 bits.
 */
public final class ImmutableValues {
    /** Type byte of an index node (the draft's nul marker). */
    public static final byte INDEX = 0x00;
    /** Type byte of a data node. */
    public static final byte DATA = 0x01;
    /** Bytes of one entry of an index node: 64 hex digits and its nul delimiter. */
    public static final int ENTRY_BYTES = 65;
    /** Smallest chunk size accepted (an index must hold at least two children with room to spare). */
    public static final int MIN_CHUNK_BYTES = 256;

    private ImmutableValues() {
    }

    public static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    /** The key of a stored node. */
    public static ImmutKey keyOf(byte[] node) {
        return new ImmutKey(Bytes.wrap(sha256(node)));
    }

    /** A data node: {@code 0x01} ‖ payload. */
    public static byte[] dataNode(byte[] payload, int off, int len) {
        byte[] n = new byte[len + 1];
        n[0] = DATA;
        System.arraycopy(payload, off, n, 1, len);
        return n;
    }

    /** An index node naming {@code children} in order. */
    public static byte[] indexNode(List<ImmutKey> children) {
        if (children.isEmpty()) {
            throw new IllegalArgumentException("an index node has at least one child");
        }
        StringBuilder b = new StringBuilder(children.size() * ENTRY_BYTES);
        for (int i = 0; i < children.size(); i++) {
            if (i > 0) {
                b.append('\0');
            }
            b.append(children.get(i).hex());
        }
        byte[] hex = b.toString().getBytes(StandardCharsets.US_ASCII);
        byte[] n = new byte[hex.length + 1];
        n[0] = INDEX;
        System.arraycopy(hex, 0, n, 1, hex.length);
        return n;
    }

    /** Children an index node of {@code chunkBytes} can name. */
    public static int fanout(int chunkBytes) {
        return chunkBytes / ENTRY_BYTES;
    }

    /** The overlay value holding {@code node}. */
    public static DhtValue value(byte[] node, long expiresAtMillis) {
        return new DhtValue(Bytes.EMPTY, Bytes.wrap(sha256(node)), Bytes.wrap(node), expiresAtMillis);
    }

    /**
     * Checks the stored form: key and nonce are the node's hash, and the node is a data node or a well-formed
     * index node. Refuses with {@link Refusal#HASH_MISMATCH}.
     */
    public static void check(NodeId key, DhtValue v) throws RecordException {
        byte[] data = v.data().unsafeArray();
        if (!v.owner().isEmpty()) {
            throw new RecordException(Refusal.HASH_MISMATCH, "an immutable value has no owner");
        }
        if (data.length == 0) {
            throw new RecordException(Refusal.HASH_MISMATCH, "an immutable value starts with its type byte");
        }
        byte[] h = sha256(data);
        if (!MessageDigest.isEqual(h, v.nonce().unsafeArray())) {
            throw new RecordException(Refusal.HASH_MISMATCH, "the nonce of an immutable value is the SHA-256 of its data");
        }
        if (!MessageDigest.isEqual(java.util.Arrays.copyOf(h, NodeId.BYTES), key.toBytes())) {
            throw new RecordException(Refusal.HASH_MISMATCH, "the key of an immutable value is the first 160 bits of its SHA-256");
        }
        if (data[0] == INDEX) {
            children(data);
        } else if (data[0] != DATA) {
            throw new RecordException(Refusal.HASH_MISMATCH, "unknown type byte " + (data[0] & 0xff) + " (0 = index, 1 = data)");
        }
    }

    /** True for an index node. */
    public static boolean isIndex(byte[] node) {
        return node.length > 0 && node[0] == INDEX;
    }

    /** The children named by an index node; refuses a malformed one with {@link Refusal#HASH_MISMATCH}. */
    public static List<ImmutKey> children(byte[] node) throws RecordException {
        if (node.length < 1 + 64 || node[0] != INDEX || (node.length - 1 + 1) % ENTRY_BYTES != 0) {
            throw new RecordException(Refusal.HASH_MISMATCH, "an index node is 0x00 then 64-hex-digit keys delimited by nul bytes");
        }
        int n = (node.length) / ENTRY_BYTES;
        List<ImmutKey> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int off = 1 + i * ENTRY_BYTES;
            if (i > 0 && node[off - 1] != 0) {
                throw new RecordException(Refusal.HASH_MISMATCH, "index entries are delimited by nul bytes");
            }
            byte[] h = new byte[32];
            for (int j = 0; j < 32; j++) {
                int hi = hexDigit(node[off + 2 * j]);
                int lo = hexDigit(node[off + 2 * j + 1]);
                if (hi < 0 || lo < 0) {
                    throw new RecordException(Refusal.HASH_MISMATCH, "index entries are lower-case hex digits");
                }
                h[j] = (byte) (hi << 4 | lo);
            }
            out.add(new ImmutKey(Bytes.wrap(h)));
        }
        return out;
    }

    private static int hexDigit(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        return -1;
    }
}
