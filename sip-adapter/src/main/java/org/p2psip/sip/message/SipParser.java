package org.p2psip.sip.message;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Parses SIP messages (RFC 3261 §7, §25). {@link #parseDatagram} takes one message per datagram, where
 * Content-Length is optional and octets after the body are discarded (§18.3); streams go through
 * {@link SipStreamFramer}, which uses the same steps. Thread-safe (stateless apart from its limits).
 *
 * <p>The parser checks the header fields every message needs: exactly one Call-ID, From, To and CSeq (with the
 * request's method), at least one Via, at most one Max-Forwards (0-255) and Content-Length, all well-formed, and a
 * Request-URI without headers. Other headers are parsed when used (see {@link SipValidator}).
 */
public final class SipParser {
    private final SipLimits limits;

    public SipParser() {
        this(SipLimits.DEFAULT);
    }

    public SipParser(SipLimits limits) {
        this.limits = limits;
    }

    public SipLimits limits() {
        return limits;
    }

    public SipMessage parseDatagram(byte[] data) {
        return parseDatagram(data, 0, data.length);
    }

    /** One message from one datagram. Throws {@link SipParseException}. */
    public SipMessage parseDatagram(byte[] data, int off, int len) {
        if (len > limits.maxMessageBytes()) {
            throw new SipParseException(513, "Message Too Large");
        }
        int end = off + len;
        int start = off;
        while (start < end && (data[start] == '\r' || data[start] == '\n')) {
            start++; // §7.5: CRLFs before the start line are ignored
        }
        if (start == end) {
            throw new SipParseException("Empty message");
        }
        int bodyStart = findHeaderEnd(data, start, end);
        if (bodyStart < 0) {
            throw new SipParseException("No empty line after the headers");
        }
        RawHead raw = splitHead(data, start, bodyStart);
        long cl = -1;
        List<String> clValues = raw.values("content-length");
        if (clValues.size() == 1 && SipGrammar.allDigits(clValues.get(0))) {
            cl = SipGrammar.parseBoundedDigits(clValues.get(0), Integer.MAX_VALUE, "Content-Length");
        }
        int available = end - bodyStart;
        byte[] body;
        if (cl < 0) {
            body = java.util.Arrays.copyOfRange(data, bodyStart, end); // no (usable) Content-Length: the rest
        } else if (cl > available) {
            throw raw.answerable(new SipParseException("Content-Length larger than message"));
        } else {
            body = java.util.Arrays.copyOfRange(data, bodyStart, bodyStart + (int) cl);
        }
        return build(raw, body);
    }

    /** Index after the empty line that ends the headers (CRLFCRLF, or bare LFs), or -1. */
    static int findHeaderEnd(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] == '\n') {
                if (i + 1 < to && b[i + 1] == '\n') {
                    return i + 2;
                }
                if (i + 2 < to && b[i + 1] == '\r' && b[i + 2] == '\n') {
                    return i + 3;
                }
            }
        }
        return -1;
    }

    /** The start line and raw header fields, split and unfolded but not interpreted. */
    static final class RawHead {
        final String startLine;
        final List<String[]> fields = new ArrayList<>();
        String problem;

        RawHead(String startLine) {
            this.startLine = startLine;
        }

        List<String> values(String canonicalLower) {
            List<String> out = new ArrayList<>(1);
            for (String[] f : fields) {
                if (HeaderNames.key(f[0]).equals(canonicalLower)) {
                    out.add(f[1]);
                }
            }
            return out;
        }

        boolean looksLikeRequest() {
            String[] p = startLine.split(" ", -1);
            return p.length >= 3 && !startLine.regionMatches(true, 0, "SIP/", 0, 4) && SipGrammar.isToken(p[0]);
        }

        /** Adds the request as read so far to {@code e} if it can be answered. */
        SipParseException answerable(SipParseException e) {
            if (!looksLikeRequest() || values("via").isEmpty()) {
                return e;
            }
            String[] p = startLine.split(" ", -1);
            Uri uri;
            try {
                uri = Uri.parse(p[1]);
            } catch (SipParseException x) {
                uri = new GenericUri("invalid", p[1].isEmpty() ? "-" : p[1]);
            }
            List<Header> hs = new ArrayList<>();
            for (String[] f : fields) {
                try {
                    hs.add(new Header(f[0], f[1]));
                } catch (IllegalArgumentException x) {
                    // unusable header name: left out of the answerable copy
                }
            }
            return e.withAnswerable(new SipRequest(p[0], uri, Headers.of(hs), new byte[0]));
        }
    }

    RawHead splitHead(byte[] data, int start, int bodyStart) {
        // One pass over the decoded head by index (no split, no copy per line): a line is a substring unless
        // continuation lines fold into it, which only then takes a StringBuilder.
        String text = decode(data, start, bodyStart - start);
        int n = text.length();
        int eol = text.indexOf('\n');
        int next = eol < 0 ? n : eol + 1;
        String startLine = text.substring(0, withoutCr(text, 0, eol < 0 ? n : eol));
        if (startLine.length() > limits.maxLineLength()) {
            throw new SipParseException(513, "Message Too Large (start line)");
        }
        RawHead raw = new RawHead(startLine);
        List<CharSequence> pending = new ArrayList<>(16);
        int currentLength = -1; // -1: no header line yet
        while (next < n) {
            int from = next;
            eol = text.indexOf('\n', from);
            if (eol < 0) {
                eol = n;
            }
            next = eol + 1;
            int to = withoutCr(text, from, eol);
            if (to == from) {
                continue; // the terminating empty line
            }
            if (SipGrammar.isWsp(text.charAt(from))) {
                if (currentLength < 0) {
                    raw.problem = "Continuation line without a header";
                    continue;
                }
                int last = pending.size() - 1;
                StringBuilder folded = pending.get(last) instanceof StringBuilder sb ? sb
                        : new StringBuilder(pending.get(last));
                folded.append(' ').append(text.substring(from, to).strip()); // §7.3.1: folding is replaced by one SP
                pending.set(last, folded);
                currentLength = folded.length();
            } else {
                pending.add(text.substring(from, to));
                currentLength = to - from;
                if (pending.size() > limits.maxHeaders()) {
                    throw new SipParseException(513, "Message Too Large (too many headers)");
                }
            }
            if (currentLength > limits.maxLineLength()) {
                throw new SipParseException(513, "Message Too Large (header line too long)");
            }
        }
        for (CharSequence cs : pending) {
            String line = cs.toString();
            int colon = line.indexOf(':');
            String name = colon > 0 ? line.substring(0, colon).stripTrailing() : "";
            if (!SipGrammar.isToken(name)) {
                raw.problem = "Malformed header line";
                continue;
            }
            raw.fields.add(new String[] {name, line.substring(colon + 1).strip()});
        }
        return raw;
    }

    /** The end of the line {@code from..eol} without one trailing CR. */
    private static int withoutCr(String s, int from, int eol) {
        return eol > from && s.charAt(eol - 1) == '\r' ? eol - 1 : eol;
    }

    private static String decode(byte[] b, int off, int len) {
        // malformed UTF-8 becomes U+FFFD, as with a decoder set to REPLACE
        return new String(b, off, len, StandardCharsets.UTF_8);
    }

    /** Interprets the split head; {@code body} is the message body as framed. */
    SipMessage build(RawHead raw, byte[] body) {
        try {
            return buildUnchecked(raw, body);
        } catch (SipParseException e) {
            throw raw.answerable(e);
        }
    }

    private SipMessage buildUnchecked(RawHead raw, byte[] body) {
        String line = raw.startLine;
        boolean response = line.regionMatches(true, 0, "SIP/", 0, 4);
        SipRequest requestLine = null;
        int status = 0;
        String reason = null;
        if (response) {
            String[] p = line.split(" ", 3);
            if (!p[0].equalsIgnoreCase(SipMessage.VERSION)) {
                throw new SipParseException(505, "Version Not Supported");
            }
            if (p.length < 2 || p[1].length() != 3 || !SipGrammar.allDigits(p[1])) {
                throw new SipParseException("Bad status code");
            }
            status = Integer.parseInt(p[1]);
            if (status < 100 || status > 699) {
                throw new SipParseException("Bad status code");
            }
            reason = p.length == 3 ? p[2] : "";
        } else {
            String[] p = line.split(" ", -1);
            if (p.length != 3 || p[0].isEmpty() || p[1].isEmpty() || p[2].isEmpty()) {
                throw new SipParseException("Malformed Request-Line");
            }
            if (!SipGrammar.isToken(p[0])) {
                throw new SipParseException("Bad method");
            }
            if (!p[2].toUpperCase(Locale.ROOT).startsWith("SIP/")) {
                throw new SipParseException("Malformed Request-Line");
            }
            if (!p[2].equalsIgnoreCase(SipMessage.VERSION)) {
                throw new SipParseException(505, "Version Not Supported");
            }
            Uri uri = Uri.parse(p[1]);
            if (uri instanceof SipUri su && !su.headers().isEmpty()) {
                throw new SipParseException("Request-URI must not contain headers");
            }
            requestLine = new SipRequest(p[0], uri, Headers.EMPTY, null);
        }
        if (raw.problem != null) {
            throw new SipParseException(raw.problem);
        }
        List<Header> headers = new ArrayList<>(raw.fields.size() + 4);
        for (String[] f : raw.fields) {
            String name = f[0];
            if (HeaderNames.isList(name)) {
                for (String v : splitList(f[1], name)) {
                    headers.add(new Header(name, v));
                }
            } else {
                headers.add(new Header(name, f[1]));
            }
        }
        Headers hs = Headers.of(headers);
        SipMessage m = response ? new SipResponse(status, reason, hs, body)
                : new SipRequest(requestLine.method(), requestLine.requestUri(), hs, body);
        checkEssentials(m);
        return m;
    }

    private static void checkEssentials(SipMessage m) {
        m.contentLength();
        String callId = m.callId().strip();
        checkCallId(callId);
        m.from();
        m.to();
        CSeq cseq = m.cseq();
        if (m instanceof SipRequest r && !cseq.method().equals(r.method())) {
            throw new SipParseException("CSeq method does not match the Request-Line");
        }
        if (m.vias().isEmpty()) {
            throw new SipParseException("Missing Via");
        }
        m.maxForwards();
    }

    /** callid = word [ "@" word ] */
    static void checkCallId(String id) {
        int at = id.indexOf('@');
        String a = at >= 0 ? id.substring(0, at) : id;
        String b = at >= 0 ? id.substring(at + 1) : null;
        if (!isWord(a) || (b != null && !isWord(b))) {
            throw new SipParseException("Bad Call-ID");
        }
    }

    private static boolean isWord(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!SipGrammar.isWordChar(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** Splits a list header at top-level commas (outside quoted strings and angle brackets); empty elements go. */
    static List<String> splitList(String value, String name) {
        List<String> out = new ArrayList<>(2);
        boolean quoted = false;
        int angle = 0;
        int start = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (quoted) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    quoted = false;
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == '<') {
                angle++;
            } else if (c == '>' && angle > 0) {
                angle--;
            } else if (c == ',' && angle == 0) {
                add(out, value.substring(start, i));
                start = i + 1;
            }
        }
        if (quoted) {
            throw new SipParseException("Bad " + HeaderNames.canonical(name) + ": unterminated quoted string");
        }
        add(out, value.substring(start));
        return out;
    }

    private static void add(List<String> out, String v) {
        String s = v.strip();
        if (!s.isEmpty()) {
            out.add(s);
        }
    }
}
