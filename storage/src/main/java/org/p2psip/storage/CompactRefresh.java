package org.p2psip.storage;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;

/**
 * A refresh-chain token sent without the signed document it extends: the data is
 * {@code <!--p2psip-chain-ref s=BASE64(SHA-256 of the signed part)-->} followed by the {@link RefreshTrailer} of
 * {@code (j, token)}, about 140 bytes where the full refresh is the 2-3 kB signed record again. A storing node that
 * holds that signed part (same key, owner and nonce; the digest names the version) stores the full refresh, the held
 * signed part followed by the trailer, after the same hash check as for a full refresh
 * ({@link SignedRecordPolicy}); one that does not refuses it with {@link Refusal#NOT_HELD}, and the writer sends the
 * full value ({@link org.p2psip.overlay.Dht#putRefresh}). It fits one datagram, so the overlay's lookup and STORE
 * of a refresh are one round trip. Compact values are never stored or read back as such. Stateless.
 */
public final class CompactRefresh {
    private static final byte[] START = "<!--p2psip-chain-ref s=".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "-->".getBytes(StandardCharsets.US_ASCII);
    private static final int DIGEST_BASE64 = 44;
    /** Length of the reference before the trailer. */
    private static final int REF_LENGTH = START.length + DIGEST_BASE64 + END.length;

    /** A compact refresh: the SHA-256 of the signed part it extends, and its trailer. */
    public record Ref(Bytes signedDigest, RefreshTrailer.Trailer trailer) {
    }

    private CompactRefresh() {
    }

    /** The SHA-256 of a signed part, as a compact refresh names it. */
    public static Bytes digest(byte[] signedPart) {
        return digest(signedPart, signedPart.length);
    }

    /** The SHA-256 of {@code data}'s first {@code length} bytes. */
    public static Bytes digest(byte[] data, int length) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(data, 0, length);
            return Bytes.wrap(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * The compact form of {@code refreshed} (a full refresh: signed part, then trailer, as
     * {@link SignedValues#refresh} makes it) whose signed part hashes to {@code signedDigest}: same owner, nonce and
     * expiry.
     *
     * @throws IllegalArgumentException when {@code refreshed} carries no trailer
     */
    public static DhtValue of(DhtValue refreshed, Bytes signedDigest) {
        byte[] data = refreshed.data().unsafeArray();
        RefreshTrailer.Trailer t;
        try {
            t = RefreshTrailer.parse(data);
        } catch (RecordException e) {
            throw new IllegalArgumentException("not a refresh: " + e.getMessage(), e);
        }
        if (t == null) {
            throw new IllegalArgumentException("not a refresh: the value carries no refresh-chain token");
        }
        if (signedDigest.length() != 32) {
            throw new IllegalArgumentException("the signed part's digest is a SHA-256 (32 bytes)");
        }
        byte[] ref = (new String(START, StandardCharsets.US_ASCII)
                + Base64.getEncoder().encodeToString(signedDigest.unsafeArray()) + "-->").getBytes(StandardCharsets.US_ASCII);
        byte[] out = Arrays.copyOf(ref, ref.length + data.length - t.signedLength());
        System.arraycopy(data, t.signedLength(), out, ref.length, data.length - t.signedLength());
        return new DhtValue(refreshed.owner(), refreshed.nonce(), Bytes.wrap(out), refreshed.expiresAtMillis());
    }

    /**
     * The compact refresh {@code data} holds, or null when it is not one (it does not start as one). Data that starts
     * as one but does not follow the grammar exactly is refused ({@code BAD_RECORD}).
     */
    public static Ref parse(byte[] data) throws RecordException {
        if (data.length < START.length || !Arrays.equals(data, 0, START.length, START, 0, START.length)) {
            return null;
        }
        RefreshTrailer.Trailer t = RefreshTrailer.parse(data);
        if (t == null || t.signedLength() != REF_LENGTH
                || !Arrays.equals(data, REF_LENGTH - END.length, REF_LENGTH, END, 0, END.length)) {
            throw bad("it must be <!--p2psip-chain-ref s=SHA256-BASE64--> followed by one p2psip-chain trailer");
        }
        byte[] digest;
        try {
            digest = Base64.getDecoder().decode(Arrays.copyOfRange(data, START.length, START.length + DIGEST_BASE64));
        } catch (IllegalArgumentException e) {
            throw bad("its digest is not base64");
        }
        if (digest.length != 32) {
            throw bad("its digest is not a SHA-256 (32 bytes)");
        }
        return new Ref(Bytes.wrap(digest), t);
    }

    /** The full refresh {@code ref} stands for: {@code signedPart} followed by its trailer. */
    static byte[] expand(byte[] held, int signedLength, Ref ref) {
        return RefreshTrailer.append(held, signedLength, ref.trailer().j(), ref.trailer().token().unsafeArray());
    }

    private static RecordException bad(String why) {
        return new RecordException(Refusal.BAD_RECORD, "the value is a malformed compact refresh: " + why
                + " (CompactRefresh.of writes exactly that form)");
    }
}
