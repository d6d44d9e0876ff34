package org.p2psip.sip.message;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Loads the RFC 4475 messages in src/test/resources/rfc4475, applying the RFC's §2 notation. */
public final class Rfc4475 {
    private static final Pattern ALL_ONE_LINE = Pattern.compile("<allOneLine>\n?(.*?)\n?</allOneLine>", Pattern.DOTALL);
    private static final Pattern REPEAT = Pattern.compile("<repeat count=(\\d+)>(.*?)</repeat>", Pattern.DOTALL);
    private static final Pattern HEX = Pattern.compile("<hex>(.*?)</hex>", Pattern.DOTALL);

    private Rfc4475() {
    }

    /** {@code dir/name.dat} as wire bytes. */
    public static byte[] load(String dir, String name) {
        String path = "/rfc4475/" + dir + "/" + name + ".dat";
        try (InputStream in = Rfc4475.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalArgumentException("no resource " + path);
            }
            return expand(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] expand(String text) {
        Matcher m = ALL_ONE_LINE.matcher(text);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(m.group(1).replace("\n", "")));
        }
        m.appendTail(sb);
        String t = sb.toString().replace("\n", "\r\n");
        m = REPEAT.matcher(t);
        sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(m.group(2).repeat(Integer.parseInt(m.group(1)))));
        }
        m.appendTail(sb);
        t = sb.toString();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        m = HEX.matcher(t);
        int last = 0;
        while (m.find()) {
            out.writeBytes(t.substring(last, m.start()).getBytes(StandardCharsets.UTF_8));
            out.writeBytes(HexFormat.of().parseHex(m.group(1).replaceAll("\\s", "")));
            last = m.end();
        }
        out.writeBytes(t.substring(last).getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }
}
