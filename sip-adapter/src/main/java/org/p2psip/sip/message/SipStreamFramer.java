package org.p2psip.sip.message;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts a byte stream (TCP, TLS) into SIP messages (RFC 3261 §18.3: Content-Length frames the body) and RFC 5626 §3.5.1
 * keepalives: a double CRLF is a ping, a single CRLF the pong. Not thread-safe: one framer per connection.
 *
 * <p>A message without Content-Length is framed as having no body and reported as an error (400); a Content-Length
 * that cannot be read, or a message beyond the size limit, loses the framing: the error is fatal and the connection
 * must close.
 */
public final class SipStreamFramer {
    /** Which end of the connection we are: a server answers pings; a client receives pongs. */
    public enum Role { SERVER, CLIENT }

    /** Something cut from the stream. */
    public sealed interface Frame permits Message, Ping, Pong, Error {
    }

    /** A complete message. */
    public record Message(SipMessage message) implements Frame {
    }

    /** A keepalive ping (CRLFCRLF): answer with {@link #PONG_BYTES}. */
    public record Ping() implements Frame {
    }

    /** A keepalive pong (CRLF), seen by clients. */
    public record Pong() implements Frame {
    }

    /** A message that could not be parsed; if {@code error.framingLost()}, close the connection. */
    public record Error(SipParseException error) implements Frame {
    }

    public static final byte[] PING_BYTES = {'\r', '\n', '\r', '\n'};
    public static final byte[] PONG_BYTES = {'\r', '\n'};

    private final SipParser parser;
    private final Role role;
    private byte[] buf = new byte[4096];
    private int start;
    private int end;
    private boolean dead;
    // The head of the message being read, kept while its body arrives.
    private SipParser.RawHead head;
    private int bodyStart;
    private int bodyLength;
    private boolean missingLength;

    public SipStreamFramer(SipParser parser, Role role) {
        this.parser = parser;
        this.role = role;
    }

    /** Bytes held that do not yet form a frame. */
    public int buffered() {
        return end - start;
    }

    public List<Frame> feed(byte[] data) {
        return feed(data, 0, data.length);
    }

    /** Adds bytes and returns the frames they complete. After a fatal error, returns nothing more. */
    public List<Frame> feed(byte[] data, int off, int len) {
        List<Frame> out = new ArrayList<>(1);
        if (dead) {
            return out;
        }
        append(data, off, len);
        while (start < end) {
            if (head == null && !frameKeepalive(out)) {
                break;
            }
            if (start >= end) {
                break;
            }
            if (head == null && !readHead(out)) {
                break;
            }
            if (dead) {
                break;
            }
            if (head != null) {
                if (end - bodyStart < bodyLength) {
                    break;
                }
                byte[] body = Arrays.copyOfRange(buf, bodyStart, bodyStart + bodyLength);
                SipParser.RawHead h = head;
                head = null;
                start = bodyStart + bodyLength;
                try {
                    SipMessage m = parser.build(h, body);
                    if (missingLength) {
                        out.add(new Error(h.answerable(new SipParseException("Missing Content-Length"))));
                    } else {
                        out.add(new Message(m));
                    }
                } catch (SipParseException e) {
                    out.add(new Error(e));
                }
            }
        }
        if (start == end) {
            start = end = 0;
        }
        return out;
    }

    /** Consumes leading CRLFs. Returns false if more bytes are needed to tell what they are. */
    private boolean frameKeepalive(List<Frame> out) {
        while (start < end && (buf[start] == '\r' || buf[start] == '\n')) {
            int avail = end - start;
            if (startsWith(PING_BYTES)) {
                out.add(new Ping());
                start += 4;
            } else if (startsWith(PONG_BYTES)) {
                if (role == Role.CLIENT) {
                    out.add(new Pong());
                    start += 2;
                } else if (avail >= 3 && buf[start + 2] != '\r') {
                    start += 2; // a stray CRLF before a message (§7.5)
                } else {
                    return false; // maybe the first half of a ping
                }
            } else if (buf[start] == '\r' && avail == 1) {
                return false;
            } else {
                start++; // bare LF or CR
            }
        }
        return true;
    }

    private boolean readHead(List<Frame> out) {
        int limit = parser.limits().maxMessageBytes();
        int searchEnd = Math.min(end, start + limit);
        int hEnd = SipParser.findHeaderEnd(buf, start, searchEnd);
        if (hEnd < 0) {
            if (end - start >= limit) {
                die(out, new SipParseException(513, "Message Too Large"));
            }
            return false;
        }
        SipParser.RawHead raw;
        try {
            raw = parser.splitHead(buf, start, hEnd);
        } catch (SipParseException e) {
            die(out, e);
            return false;
        }
        List<String> cl = raw.values("content-length");
        long length = 0;
        missingLength = cl.isEmpty();
        if (cl.size() > 1) {
            die(out, raw.answerable(new SipParseException("Multiple Content-Length")));
            return false;
        }
        if (cl.size() == 1) {
            if (!SipGrammar.allDigits(cl.get(0))) {
                die(out, raw.answerable(new SipParseException("Bad Content-Length")));
                return false;
            }
            String t = SipGrammar.stripLeadingZeros(cl.get(0));
            length = t.length() > 9 ? Long.MAX_VALUE : Long.parseLong(t);
        }
        if (length > limit - (hEnd - start)) {
            die(out, raw.answerable(new SipParseException(513, "Message Too Large")));
            return false;
        }
        head = raw;
        bodyStart = hEnd;
        bodyLength = (int) length;
        return true;
    }

    private void die(List<Frame> out, SipParseException e) {
        dead = true;
        out.add(new Error(e.fatal()));
        start = end = 0;
        buf = new byte[0];
    }

    private boolean startsWith(byte[] p) {
        if (end - start < p.length) {
            return false;
        }
        for (int i = 0; i < p.length; i++) {
            if (buf[start + i] != p[i]) {
                return false;
            }
        }
        return true;
    }

    private void append(byte[] data, int off, int len) {
        if (end + len > buf.length) {
            int live = end - start;
            if (start > 0 && live + len <= buf.length) {
                System.arraycopy(buf, start, buf, 0, live);
                bodyStart -= start;
                start = 0;
                end = live;
            } else {
                byte[] nb = new byte[Math.max(buf.length * 2, live + len)];
                System.arraycopy(buf, start, nb, 0, live);
                bodyStart -= start;
                start = 0;
                end = live;
                buf = nb;
            }
        }
        System.arraycopy(data, off, buf, end, len);
        end += len;
    }
}
