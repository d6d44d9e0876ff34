package org.p2psip.storage;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import org.p2psip.overlay.Bytes;

/**
 * The unsigned trailer of a refreshed value (see {@link RefreshChain}): the signed document, byte for byte, followed
 * by the XML comment {@code <!--p2psip-chain j=J t=BASE64-->}. A comment after the root element keeps the data a
 * well-formed XML document for every parser, and the signature (which references the key and value by Id) is
 * untouched by it. The trailer is the data's last bytes, so the signed part is exactly the prefix before it.
 *
 * <p>Data whose tail does not start a {@code p2psip-chain} comment has no trailer; a tail that starts one but does
 * not follow the grammar exactly is refused ({@code BAD_RECORD}), so a value has one reading only. Stateless.
 */
public final class RefreshTrailer {
    private static final byte[] START = "<!--p2psip-chain j=".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "-->".getBytes(StandardCharsets.US_ASCII);
    private static final int TOKEN_BASE64 = 44;
    /** Longest trailer: the marker, 6 digits, " t=", the token, the end. */
    static final int MAX_BYTES = START.length + 6 + 3 + TOKEN_BASE64 + END.length;

    /**
     * A value's trailer.
     *
     * @param signedLength the length of the signed part (the data's prefix)
     * @param j            the token's index, 1..{@value RefreshChain#MAX_LENGTH}
     * @param token        token {@code j}, 32 bytes
     */
    public record Trailer(int signedLength, int j, Bytes token) {
    }

    private RefreshTrailer() {
    }

    /** {@code signed} followed by the trailer of token {@code j}. */
    public static byte[] append(byte[] signed, int j, byte[] token) {
        return append(signed, signed.length, j, token);
    }

    /** The first {@code signedLength} bytes of {@code data} followed by the trailer of token {@code j}. */
    public static byte[] append(byte[] data, int signedLength, int j, byte[] token) {
        if (j < 1 || j > RefreshChain.MAX_LENGTH || token.length != RefreshChain.TOKEN_BYTES) {
            throw new IllegalArgumentException("a trailer carries j in 1.." + RefreshChain.MAX_LENGTH + " and a 32-byte token");
        }
        byte[] t = ("<!--p2psip-chain j=" + j + " t=" + Base64.getEncoder().encodeToString(token) + "-->")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] out = Arrays.copyOf(data, signedLength + t.length);
        System.arraycopy(t, 0, out, signedLength, t.length);
        return out;
    }

    /** The trailer of {@code data}, or null when it has none; a malformed trailer is refused. */
    public static Trailer parse(byte[] data) throws RecordException {
        int n = data.length;
        if (n < END.length || !regionEquals(data, n - END.length, END)) {
            return null;
        }
        int start = lastIndexOfStart(data);
        if (start < 0) {
            return null;
        }
        int i = start + START.length;
        int j = 0;
        int digits = 0;
        while (i < n && data[i] >= '0' && data[i] <= '9' && digits < 7) {
            j = j * 10 + (data[i] - '0');
            i++;
            digits++;
        }
        if (digits == 0 || digits > 6 || data[i - digits] == '0' || j > RefreshChain.MAX_LENGTH) {
            throw bad("its index must be 1 to " + RefreshChain.MAX_LENGTH + " without leading zeros");
        }
        if (n - i != 3 + TOKEN_BASE64 + END.length || data[i] != ' ' || data[i + 1] != 't' || data[i + 2] != '=') {
            throw bad("it must be <!--p2psip-chain j=J t=TOKEN--> with a 32-byte base64 token, at the very end");
        }
        byte[] token;
        try {
            token = Base64.getDecoder().decode(Arrays.copyOfRange(data, i + 3, i + 3 + TOKEN_BASE64));
        } catch (IllegalArgumentException e) {
            throw bad("its token is not base64");
        }
        if (token.length != RefreshChain.TOKEN_BYTES) {
            throw bad("its token is not 32 bytes");
        }
        return new Trailer(start, j, Bytes.wrap(token));
    }

    /** The signed part of {@code data}: the data itself when it has no trailer, else the prefix before it. */
    public static byte[] signedPart(byte[] data) throws RecordException {
        Trailer t = parse(data);
        return t == null ? data : Arrays.copyOf(data, t.signedLength());
    }

    /** As {@link #signedPart}, with the trailer already parsed (null: none). */
    public static byte[] signedPart(byte[] data, Trailer t) {
        return t == null ? data : Arrays.copyOf(data, t.signedLength());
    }

    private static int lastIndexOfStart(byte[] data) {
        int from = Math.max(0, data.length - MAX_BYTES);
        for (int i = data.length - START.length; i >= from; i--) {
            if (regionEquals(data, i, START)) {
                return i;
            }
        }
        return -1;
    }

    private static boolean regionEquals(byte[] data, int at, byte[] what) {
        if (at < 0 || at + what.length > data.length) {
            return false;
        }
        for (int k = 0; k < what.length; k++) {
            if (data[at + k] != what[k]) {
                return false;
            }
        }
        return true;
    }

    private static RecordException bad(String why) {
        return new RecordException(Refusal.BAD_RECORD, "the value ends in a malformed p2psip-chain trailer: " + why
                + " (a refresh appends exactly what RefreshTrailer.append writes)");
    }
}
