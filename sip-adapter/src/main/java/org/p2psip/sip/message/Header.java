package org.p2psip.sip.message;

/** One header field value; list headers hold one entry per comma-separated element. */
public record Header(String name, String value) {
    public Header {
        name = HeaderNames.canonical(name);
        if (!SipGrammar.isToken(name)) {
            throw new IllegalArgumentException("header name is not a token: " + name);
        }
        if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("header value contains CR or LF");
        }
    }

    public boolean is(String other) {
        return name.equalsIgnoreCase(HeaderNames.canonical(other));
    }
}
