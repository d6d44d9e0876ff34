package org.p2psip.node.control;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The token encoding of the control protocol. A request line is UTF-8 text; its tokens are separated by
 * spaces or tabs. Inside a token, {@code %XX} (two hex digits) stands for the byte XX, so a token can carry
 * spaces ({@code %20}), a percent sign ({@code %25}), line breaks or any byte. Every other character
 * stands for itself. Replies encode values the same way.
 */
public final class ControlText {
    private ControlText() { }

    /** Splits a request line into tokens on runs of spaces and tabs; tokens stay encoded. */
    public static List<String> split(String line) {
        List<String> out = new ArrayList<>();
        int i = 0;
        int n = line.length();
        while (i < n) {
            while (i < n && isSeparator(line.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < n && !isSeparator(line.charAt(i))) {
                i++;
            }
            if (i > start) {
                out.add(line.substring(start, i));
            }
        }
        return out;
    }

    private static boolean isSeparator(char c) {
        return c == ' ' || c == '\t';
    }

    /** The bytes a token stands for. */
    public static byte[] decode(String token) {
        if (token.indexOf('%') < 0) {
            return token.getBytes(StandardCharsets.UTF_8);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(token.length());
        int i = 0;
        while (i < token.length()) {
            char c = token.charAt(i);
            if (c == '%') {
                if (i + 3 > token.length()) {
                    throw new IllegalArgumentException("a '%' must be followed by two hex digits (write %25 for '%')");
                }
                int hi = Character.digit(token.charAt(i + 1), 16);
                int lo = Character.digit(token.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("a '%' must be followed by two hex digits (write %25 for '%')");
                }
                out.write(hi << 4 | lo);
                i += 3;
            } else {
                int cp = token.codePointAt(i);
                byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
                i += Character.charCount(cp);
            }
        }
        return out.toByteArray();
    }

    /** A token decoded to text; fails when its bytes are not valid UTF-8. */
    public static String decodeUtf8(String token) {
        return strictUtf8(decode(token));
    }

    /** {@code bytes} as UTF-8, or an {@link IllegalArgumentException} when they are not valid UTF-8. */
    public static String strictUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not valid UTF-8");
        }
    }

    /** Encodes text as one token: separators, line breaks, control characters and '%' become %XX. */
    public static String encode(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 8);
        text.codePoints().forEach(cp -> {
            if (cp == '%' || Character.isWhitespace(cp) || Character.isISOControl(cp) || Character.isSpaceChar(cp)
                    || Character.getType(cp) == Character.FORMAT || Character.getType(cp) == Character.SURROGATE) {
                for (byte b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
                    appendHex(sb, b);
                }
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.toString();
    }

    /**
     * Encodes bytes as one token: valid UTF-8 as {@link #encode(String)} does, anything else byte by byte
     * with every byte outside printable ASCII as %XX.
     */
    public static String encode(byte[] bytes) {
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            return encode(chars.toString());
        } catch (CharacterCodingException e) {
            StringBuilder sb = new StringBuilder(bytes.length * 2);
            for (byte b : bytes) {
                if (b > 0x20 && b < 0x7f && b != '%') {
                    sb.append((char) b);
                } else {
                    appendHex(sb, b);
                }
            }
            return sb.toString();
        }
    }

    private static void appendHex(StringBuilder sb, byte b) {
        sb.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
                .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
    }

    /** Makes a message safe for one reply line: no line breaks or control characters. */
    public static String oneLine(String message) {
        if (message == null || message.isBlank()) {
            return "failed";
        }
        StringBuilder sb = new StringBuilder(message.length());
        message.codePoints().forEach(cp -> sb.appendCodePoint(Character.isISOControl(cp) ? ' ' : cp));
        String s = sb.toString().trim();
        return s.length() > 1000 ? s.substring(0, 1000) + "..." : s;
    }
}
