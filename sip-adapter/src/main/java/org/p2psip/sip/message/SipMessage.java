package org.p2psip.sip.message;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * An immutable SIP message. Headers are held as text (one entry per list element); the typed accessors parse on first
 * use and cache, and throw {@link SipParseException} if a header is malformed. The parser has already checked the
 * headers every message needs (Via, From, To, Call-ID, CSeq, Max-Forwards, Content-Length).
 */
public abstract sealed class SipMessage permits SipRequest, SipResponse {
    public static final String VERSION = "SIP/2.0";

    private final Headers headers;
    private final byte[] body;

    // Parsed on first use. Racy single-check: the cached values are immutable.
    private List<Via> vias;
    private Address from;
    private Address to;
    private CSeq cseq;
    private List<Contact> contacts;

    SipMessage(Headers headers, byte[] body) {
        this.headers = headers;
        this.body = body == null ? new byte[0] : body;
    }

    public Headers headers() {
        return headers;
    }

    /** A copy of the body. */
    public byte[] body() {
        return body.clone();
    }

    public int bodyLength() {
        return body.length;
    }

    byte[] bodyRef() {
        return body;
    }

    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    public abstract boolean isRequest();

    /** A copy with other headers (same start line and body). */
    public abstract SipMessage withHeaders(Headers h);

    public List<Via> vias() {
        List<Via> v = vias;
        if (v == null) {
            List<Via> l = new ArrayList<>();
            for (String s : headers.all(HeaderNames.VIA)) {
                l.add(Via.parse(s));
            }
            vias = v = List.copyOf(l);
        }
        return v;
    }

    public Via topVia() {
        List<Via> v = vias();
        if (v.isEmpty()) {
            throw new SipParseException("Missing Via");
        }
        return v.get(0);
    }

    public Address from() {
        Address a = from;
        if (a == null) {
            from = a = Address.parse(single(HeaderNames.FROM), "From");
        }
        return a;
    }

    public Address to() {
        Address a = to;
        if (a == null) {
            to = a = Address.parse(single(HeaderNames.TO), "To");
        }
        return a;
    }

    public String callId() {
        return single(HeaderNames.CALL_ID);
    }

    public CSeq cseq() {
        CSeq c = cseq;
        if (c == null) {
            cseq = c = CSeq.parse(single(HeaderNames.CSEQ));
        }
        return c;
    }

    public OptionalInt maxForwards() {
        String v = atMostOne(HeaderNames.MAX_FORWARDS);
        if (v == null) {
            return OptionalInt.empty();
        }
        return OptionalInt.of((int) SipGrammar.parseBoundedDigits(v.strip(), 255, "Max-Forwards"));
    }

    /** The Content-Length header if present (the body length is {@link #bodyLength()}). */
    public OptionalLong contentLength() {
        String v = atMostOne(HeaderNames.CONTENT_LENGTH);
        if (v == null) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(SipGrammar.parseBoundedDigits(v.strip(), Integer.MAX_VALUE, "Content-Length"));
    }

    public Optional<String> contentType() {
        return headers.first(HeaderNames.CONTENT_TYPE).map(String::strip);
    }

    /** The Contact values, parsed (an unmodifiable list). */
    public List<Contact> contacts() {
        List<Contact> c = contacts;
        if (c == null) {
            List<Contact> l = new ArrayList<>();
            for (String s : headers.all(HeaderNames.CONTACT)) {
                l.add(Contact.parse(s));
            }
            contacts = c = List.copyOf(l);
        }
        return c;
    }

    /**
     * Takes over what {@code older} has already parsed of the header fields this message shares with it, i.e. whose
     * values are the very same String instances in the same order (a copy with other headers, a response built from
     * its request): Via, From, To, CSeq and Contact are then not parsed again. Only on a message not yet published.
     */
    @SuppressWarnings("unchecked")
    final <M extends SipMessage> M reuseParsed(SipMessage older) {
        if (older.vias != null && sameValues(older.headers, headers, HeaderNames.VIA)) {
            vias = older.vias;
        }
        if (older.from != null && sameValues(older.headers, headers, HeaderNames.FROM)) {
            from = older.from;
        }
        if (older.to != null && sameValues(older.headers, headers, HeaderNames.TO)) {
            to = older.to;
        }
        if (older.cseq != null && sameValues(older.headers, headers, HeaderNames.CSEQ)) {
            cseq = older.cseq;
        }
        if (older.contacts != null && sameValues(older.headers, headers, HeaderNames.CONTACT)) {
            contacts = older.contacts;
        }
        return (M) this;
    }

    /** Sets the parsed Via values (the caller vouches that they are exactly what its Via header fields say). */
    final void vias(List<Via> parsed) {
        vias = List.copyOf(parsed);
    }

    /**
     * Whether {@code a} and {@code b} hold the same value instances, in order, for {@code canonicalName}, one of
     * the {@link HeaderNames} constants: a {@link Header}'s name is always {@link HeaderNames#canonical}, which
     * answers a known name with that very constant, so names compare by identity here.
     */
    private static boolean sameValues(Headers a, Headers b, String canonicalName) {
        List<Header> la = a.asList();
        List<Header> lb = b.asList();
        if (la == lb) {
            return true;
        }
        int i = 0;
        int j = 0;
        while (true) {
            while (i < la.size() && la.get(i).name() != canonicalName) {
                i++;
            }
            while (j < lb.size() && lb.get(j).name() != canonicalName) {
                j++;
            }
            if (i == la.size() || j == lb.size()) {
                return i == la.size() && j == lb.size();
            }
            if (la.get(i).value() != lb.get(j).value()) {
                return false;
            }
            i++;
            j++;
        }
    }

    public List<Address> routes() {
        return addresses(HeaderNames.ROUTE);
    }

    public List<Address> recordRoutes() {
        return addresses(HeaderNames.RECORD_ROUTE);
    }

    public List<Address> paths() {
        return addresses(HeaderNames.PATH);
    }

    /** The Expires header in seconds (saturated at 2^32-1), if present. */
    public OptionalLong expires() {
        Optional<String> e = headers.first(HeaderNames.EXPIRES);
        return e.isEmpty() ? OptionalLong.empty() : OptionalLong.of(Contact.deltaSeconds(e.get().strip(), "Expires"));
    }

    private List<Address> addresses(String name) {
        List<Address> l = new ArrayList<>();
        for (String s : headers.all(name)) {
            l.add(Address.parse(s, name));
        }
        return l;
    }

    private String single(String name) {
        String v = atMostOne(name);
        if (v == null) {
            throw new SipParseException("Missing " + name);
        }
        return v;
    }

    /** The one value of {@code name} (a HeaderNames constant), null if none; "Multiple" if more (no list copy). */
    private String atMostOne(String name) {
        String found = null;
        for (Header h : headers.asList()) {
            if (h.name().equalsIgnoreCase(name)) {
                if (found != null) {
                    throw new SipParseException("Multiple " + name);
                }
                found = h.value();
            }
        }
        return found;
    }

    /** The message in wire form (Content-Length set to the body length). */
    public byte[] encode() {
        return SipEncoder.encode(this);
    }

    @Override
    public String toString() {
        return new String(encode(), StandardCharsets.UTF_8);
    }
}
