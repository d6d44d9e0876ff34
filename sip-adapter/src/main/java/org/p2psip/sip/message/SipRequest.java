package org.p2psip.sip.message;

import java.nio.charset.StandardCharsets;

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
        return new SipRequest(method, requestUri, h, bodyRef());
    }

    public SipRequest withRequestUri(Uri uri) {
        return new SipRequest(method, uri, headers(), bodyRef());
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
