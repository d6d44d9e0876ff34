package org.p2psip.sip.message;

/** A position in a header value, with the small scanning steps the §25 grammar needs (SWS, token, quoted-string). */
final class Cursor {
    final String s;
    int pos;
    private final String what;

    Cursor(String s, String what) {
        this.s = s;
        this.what = what;
    }

    boolean atEnd() {
        return pos >= s.length();
    }

    int peek() {
        return pos < s.length() ? s.charAt(pos) : -1;
    }

    void skipSws() {
        while (pos < s.length() && SipGrammar.isWsp(s.charAt(pos))) {
            pos++;
        }
    }

    boolean skipSwsAnd(char c) {
        int save = pos;
        skipSws();
        if (peek() == c) {
            pos++;
            skipSws();
            return true;
        }
        pos = save;
        return false;
    }

    void expect(char c) {
        if (peek() != c) {
            throw fail("expected '" + c + "'");
        }
        pos++;
    }

    String token() {
        int start = pos;
        while (pos < s.length() && SipGrammar.isTokenChar(s.charAt(pos))) {
            pos++;
        }
        if (start == pos) {
            throw fail("expected a token");
        }
        return s.substring(start, pos);
    }

    /** A quoted-string, returned with its quotes and escapes as written. */
    String quotedString() {
        int start = pos;
        expect('"');
        while (pos < s.length()) {
            char c = s.charAt(pos++);
            if (c == '\\') {
                if (pos >= s.length()) {
                    break;
                }
                char e = s.charAt(pos++);
                if (e == '\r' || e == '\n') {
                    throw fail("bad escape in quoted string");
                }
            } else if (c == '"') {
                return s.substring(start, pos);
            }
        }
        throw fail("unterminated quoted string");
    }

    /** gen-value = token / host / quoted-string. */
    String genValue() {
        if (peek() == '"') {
            return quotedString();
        }
        int start = pos;
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (SipGrammar.isTokenChar(c) || c == '[' || c == ']' || c == ':') {
                pos++;
            } else {
                break;
            }
        }
        if (start == pos) {
            throw fail("expected a parameter value");
        }
        return s.substring(start, pos);
    }

    /** *( SEMI generic-param ) to the end of the value. */
    Params params() {
        Params.Builder b = Params.builder();
        while (true) {
            skipSws();
            if (atEnd()) {
                return b.build();
            }
            if (peek() != ';') {
                throw fail("expected ';'");
            }
            pos++;
            skipSws();
            String name = token();
            String value = null;
            if (skipSwsAnd('=')) {
                value = genValue();
            }
            if (b.has(name)) {
                throw fail("duplicate parameter " + name);
            }
            b.add(name, value);
        }
    }

    SipParseException fail(String detail) {
        return new SipParseException("Bad " + what + ": " + detail);
    }
}
