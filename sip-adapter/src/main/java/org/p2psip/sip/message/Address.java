package org.p2psip.sip.message;

import java.util.Optional;

/**
 * A name-addr or addr-spec with header parameters, as in From, To, Contact, Route, Record-Route and Path
 * (RFC 3261 §20, §25.1). The display name is held unquoted and unescaped.
 */
public record Address(String displayName, Uri uri, Params params) {
    public Address {
        if (uri == null || params == null) {
            throw new IllegalArgumentException("uri and params are required");
        }
    }

    public static Address of(Uri uri) {
        return new Address(null, uri, Params.EMPTY);
    }

    public Optional<String> display() {
        return Optional.ofNullable(displayName);
    }

    /** The {@code tag} parameter (From, To). */
    public Optional<String> tag() {
        return params.get("tag");
    }

    public Address withTag(String tag) {
        return new Address(displayName, uri, params.with("tag", tag));
    }

    public Address withParams(Params p) {
        return new Address(displayName, uri, p);
    }

    /** The URI when it is a SIP or SIPS URI. */
    public Optional<SipUri> sipUri() {
        return uri instanceof SipUri s ? Optional.of(s) : Optional.empty();
    }

    /** Always encodes the name-addr form, so that URI parameters cannot be mistaken for header parameters. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        if (displayName != null) {
            sb.append(SipGrammar.quote(displayName)).append(' ');
        }
        return sb.append('<').append(uri).append('>').append(params).toString();
    }

    /** Parses a name-addr or addr-spec with header parameters. */
    public static Address parse(String value, String what) {
        Cursor c = new Cursor(value, what);
        c.skipSws();
        String display = null;
        String uriText;
        if (c.peek() == '"') {
            display = SipGrammar.unquote(c.quotedString());
            c.skipSws();
            if (c.peek() != '<') {
                throw c.fail("expected '<' after display name");
            }
        }
        int lt = c.peek() == '<' ? c.pos : topLevelLt(value, c.pos);
        if (lt >= 0) {
            if (display == null && lt > c.pos) {
                display = displayTokens(value.substring(c.pos, lt), c);
            }
            c.pos = lt + 1;
            int gt = value.indexOf('>', c.pos);
            if (gt < 0) {
                throw c.fail("missing '>'");
            }
            uriText = value.substring(c.pos, gt);
            if (uriText.isEmpty() || SipGrammar.isWsp(uriText.charAt(0))
                    || SipGrammar.isWsp(uriText.charAt(uriText.length() - 1))) {
                throw c.fail("whitespace inside <>");
            }
            c.pos = gt + 1;
        } else {
            // addr-spec: header parameters start at the first ';'. A URI that needs ';', ',' or '?' must be in <>.
            int semi = value.indexOf(';', c.pos);
            int end = semi >= 0 ? semi : value.length();
            uriText = value.substring(c.pos, end).stripTrailing();
            if (uriText.isEmpty()) {
                throw c.fail("no URI");
            }
            for (int i = 0; i < uriText.length(); i++) {
                char ch = uriText.charAt(i);
                if (SipGrammar.isWsp(ch) || ch == '?' || ch == ',' || ch == '"' || ch == '>') {
                    throw c.fail("an addr-spec with '" + ch + "' must be enclosed in <>");
                }
            }
            c.pos = end;
        }
        Uri uri;
        try {
            uri = Uri.parse(uriText);
        } catch (SipParseException e) {
            throw c.fail(e.getMessage());
        }
        Params params = c.params();
        return new Address(display, uri, params);
    }

    private static int topLevelLt(String v, int from) {
        for (int i = from; i < v.length(); i++) {
            char ch = v.charAt(i);
            if (ch == '<') {
                return i;
            }
            if (ch == '"' || ch == ';') {
                return -1;
            }
        }
        return -1;
    }

    /** display-name = *(token LWS) / quoted-string, the unquoted form. */
    private static String displayTokens(String text, Cursor c) {
        String t = text.strip();
        if (t.isEmpty()) {
            return null;
        }
        for (String part : t.split("[ \t]+")) {
            if (!SipGrammar.isToken(part)) {
                throw c.fail("display name must be tokens or a quoted string");
            }
        }
        return t.replaceAll("[ \t]+", " ");
    }
}
