package org.p2psip.storage;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import org.p2psip.overlay.Bytes;

/**
 * A refresh chain (see storage/README.md "Refresh chains"): a hash chain whose anchor {@code A = H^N(seed)} is signed
 * in a record's value, so that its owner extends the record's expiry to {@code E0 + j·d} by revealing token
 * {@code j = H^(N-j)(seed)} instead of signing again. {@code H(x) = SHA-256("p2psip-chain/1" || x)}.
 *
 * <p>An instance is the writer's side: it holds the secret seed and a checkpoint every {@value #CHECKPOINT_EVERY}
 * links ({@code N/64 · 32} bytes, 1.8 kB for N = 3,600), so {@link #token(int)} costs at most 63 hashes. The static
 * methods are the checker's side. Immutable and thread-safe.
 */
public final class RefreshChain {
    /** Distance between two checkpoints the writer keeps. */
    public static final int CHECKPOINT_EVERY = 64;
    /**
     * Longest chain a record may sign. It bounds what a forged token can cost a replica: up to this many hashes before
     * the forgery shows (4,096 × ~0.3 µs, about 1.2 ms, against ~0.2 ms for a forged signed record), and the overlay's
     * per-source request rate bounds how often. A registrar's hour of 1-second tokens (3,600) fits.
     */
    public static final int MAX_LENGTH = 4_096;
    /** Bytes of a seed, an anchor and a token. */
    public static final int TOKEN_BYTES = 32;
    private static final byte[] DOMAIN = "p2psip-chain/1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * The signed chain parameters of a record's value.
     *
     * @param anchor      {@code H^N(seed)}, 32 bytes
     * @param stepSeconds {@code d}: how far each token extends the expiry, at least 1 s
     * @param length      {@code N}: the number of tokens, 1 to {@value #MAX_LENGTH}
     */
    public record Params(Bytes anchor, int stepSeconds, int length) {
        public Params {
            Objects.requireNonNull(anchor, "anchor");
            if (anchor.length() != TOKEN_BYTES) {
                throw new IllegalArgumentException("a chain anchor is " + TOKEN_BYTES + " bytes, not " + anchor.length());
            }
            if (stepSeconds < 1) {
                throw new IllegalArgumentException("a chain step is at least 1 second, not " + stepSeconds);
            }
            if (length < 1 || length > MAX_LENGTH) {
                throw new IllegalArgumentException("a chain has 1 to " + MAX_LENGTH + " tokens, not " + length);
            }
        }

        /** The expiry token {@code j} grants a record signed to expire at {@code signedExpiresMillis}. */
        public long expiryAt(long signedExpiresMillis, int j) {
            return signedExpiresMillis + (long) j * stepSeconds * 1000L;
        }
    }

    private final Params params;
    /** checkpoints[k] = H^(64k)(seed); checkpoints[0] is the seed. */
    private final byte[][] checkpoints;

    private RefreshChain(int length, int stepSeconds, byte[] seed) {
        int n = length;
        byte[][] cps = new byte[n / CHECKPOINT_EVERY + 1][];
        byte[] x = seed.clone();
        cps[0] = x;
        for (int i = 1; i <= n; i++) {
            x = h(x);
            if (i % CHECKPOINT_EVERY == 0) {
                cps[i / CHECKPOINT_EVERY] = x;
            }
        }
        this.checkpoints = cps;
        this.params = new Params(Bytes.wrap(x), stepSeconds, length);
    }

    /** A new chain of {@code length} tokens of {@code stepSeconds} each, from a fresh random seed. */
    public static RefreshChain create(int length, int stepSeconds, SecureRandom random) {
        byte[] seed = new byte[TOKEN_BYTES];
        random.nextBytes(seed);
        return fromSeed(seed, length, stepSeconds);
    }

    /** The chain of a known seed (e.g. one the writer kept); costs {@code length} hashes. */
    public static RefreshChain fromSeed(byte[] seed, int length, int stepSeconds) {
        if (seed.length != TOKEN_BYTES) {
            throw new IllegalArgumentException("a chain seed is " + TOKEN_BYTES + " bytes");
        }
        if (length < 1 || length > MAX_LENGTH) {
            throw new IllegalArgumentException("a chain has 1 to " + MAX_LENGTH + " tokens, not " + length);
        }
        return new RefreshChain(length, stepSeconds, seed);
    }

    /** What the record's value signs: anchor, step and length. */
    public Params params() {
        return params;
    }

    /** Token {@code j} (1..N), {@code H^(N-j)(seed)}: at most {@value #CHECKPOINT_EVERY}−1 hashes. */
    public byte[] token(int j) {
        if (j < 1 || j > params.length()) {
            throw new IllegalArgumentException("token " + j + " is outside this chain's 1.." + params.length()
                    + "; sign a new record with a new chain");
        }
        int m = params.length() - j;
        byte[] x = checkpoints[m / CHECKPOINT_EVERY];
        for (int i = 0; i < m % CHECKPOINT_EVERY; i++) {
            x = h(x);
        }
        return x.clone();
    }

    /**
     * Whether {@code token} is token {@code j} of the chain in which {@code known} is token {@code jKnown} (the anchor
     * is token 0): {@code H^(j - jKnown)(token) == known}. False when {@code j <= jKnown}. Costs {@code j - jKnown}
     * hashes, so callers bound {@code j} by the chain's length first.
     */
    public static boolean verify(byte[] known, int jKnown, byte[] token, int j) {
        if (j <= jKnown || token.length != TOKEN_BYTES || known.length != TOKEN_BYTES) {
            return false;
        }
        return MessageDigest.isEqual(hash(token, j - jKnown), known);
    }

    /** {@code H^times(x)}. */
    public static byte[] hash(byte[] x, int times) {
        MessageDigest md = sha256();
        byte[] y = x;
        for (int i = 0; i < times; i++) {
            md.update(DOMAIN);
            md.update(y);
            y = md.digest();
        }
        return y == x ? x.clone() : y;
    }

    static byte[] h(byte[] x) {
        return hash(x, 1);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    @Override
    public String toString() {
        return "RefreshChain[N=" + params.length() + ", d=" + params.stepSeconds() + "s, anchor="
                + Arrays.toString(Arrays.copyOf(params.anchor().unsafeArray(), 4)) + "…]";
    }
}
