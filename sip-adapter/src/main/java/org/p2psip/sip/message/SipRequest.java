package org.p2psip.sip.message;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** A SIP request. Methods are case-sensitive tokens (RFC 3261 §7.1). */
public final class SipRequest extends SipMessage {
    public static final String INVITE = "INVITE";
    public static final String ACK = "ACK";
    public static final String CANCEL = "CANCEL";
    public static final String BYE = "BYE";
    public static final String OPTIONS = "OPTIONS";
    public static final String REGISTER = "REGISTER";
    public static final String MESSAGE = "MESSAGE";
    public static final String SUBSCRIBE = "SUBSCRIBE";
    public static final String NOTIFY = "NOTIFY";

    private final String method;
    private final Uri requestUri;

    public SipRequest(String method, Uri requestUri, Headers headers, byte[] body) {
        super(headers, body);
        if (!SipGrammar.isToken(method)) {
            throw new IllegalArgumentException("method is not a token: " + method);
        }
        this.method = method;
        this.requestUri = requestUri;
    }

    public String method() {
        return method;
    }

    public Uri requestUri() {
        return requestUri;
    }

    public boolean isMethod(String m) {
        return method.equals(m);
    }

    @Override
    public boolean isRequest() {
        return true;
    }

    @Override
    public SipRequest withHeaders(Headers h) {
        return new SipRequest(method, requestUri, h, bodyRef()).reuseParsed(this);
    }

    /**
     * This request with only the headers every response copies (Via, From, To, Call-ID, CSeq) and no body: what a
     * completed server transaction keeps for the seconds it answers retransmissions (RFC 3261 Timer J), where the
     * whole request (credentials, Contacts, body) would stay alive, and be copied by the garbage collector, with it.
     */
    public SipRequest essentials() {
        List<Header> keep = new java.util.ArrayList<>(8);
        for (Header h : headers().asList()) {
            if (h.name().equals(HeaderNames.VIA) || SipResponse.COPIED.contains(h.name())) {
                keep.add(h);
            }
        }
        return new SipRequest(method, requestUri, Headers.of(keep), null).reuseParsed(this);
    }

    public SipRequest withRequestUri(Uri uri) {
        return new SipRequest(method, uri, headers(), bodyRef()).reuseParsed(this);
    }

    /**
     * A copy whose top Via is {@code top} (the others as they are), e.g. with received and rport stamped. The copy's
     * parsed Vias are {@code top} and this request's, so {@code top} must parse back from its text to an equal Via.
     */
    public SipRequest withTopVia(Via top) {
        List<Via> old = vias();
        List<String> values = headers().all(HeaderNames.VIA);
        values.set(0, top.toString());
        SipRequest copy = withHeaders(headers().setAll(HeaderNames.VIA, values));
        List<Via> parsed = new java.util.ArrayList<>(old);
        parsed.set(0, top);
        copy.vias(parsed);
        return copy;
    }

    public SipRequest withBody(byte[] body, String contentType) {
        Headers h = contentType == null ? headers().remove(HeaderNames.CONTENT_TYPE)
                : headers().set(HeaderNames.CONTENT_TYPE, contentType);
        return new SipRequest(method, requestUri, h, body.clone());
    }

    /** Starts a request with the given method and Request-URI. */
    public static Builder builder(String method, Uri requestUri) {
        return new Builder(method, requestUri);
    }

    /** Builds a request header by header. */
    public static final class Builder {
        private final String method;
        private final Uri uri;
        private Headers headers = Headers.EMPTY;
        private byte[] body = new byte[0];

        private Builder(String method, Uri uri) {
            this.method = method;
            this.uri = uri;
        }

        public Builder header(String name, Object value) {
            headers = headers.add(name, value.toString());
            return this;
        }

        public Builder body(String contentType, String text) {
            headers = headers.set(HeaderNames.CONTENT_TYPE, contentType);
            body = text.getBytes(StandardCharsets.UTF_8);
            return this;
        }

        public SipRequest build() {
            return new SipRequest(method, uri, headers, body);
        }
    }
}
