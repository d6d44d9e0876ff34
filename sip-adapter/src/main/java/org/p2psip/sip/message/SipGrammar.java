package org.p2psip.sip.message;

/** Character classes of the RFC 3261 §25 grammar. */
final class SipGrammar {
    private SipGrammar() {
    }

    static boolean isAlphaNum(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }

    static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    static boolean isHex(int c) {
        return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    /** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
    static boolean isTokenChar(int c) {
        return isAlphaNum(c) || "-.!%*_+`'~".indexOf(c) >= 0;
    }

    /** word: token characters plus ( ) < > : \ DQUOTE / [ ] ? { } */
    static boolean isWordChar(int c) {
        return isTokenChar(c) || "()<>:\\\"/[]?{}".indexOf(c) >= 0;
    }

    /** mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")" */
    static boolean isUnreserved(int c) {
        return isAlphaNum(c) || "-_.!~*'()".indexOf(c) >= 0;
    }

    static boolean isUserChar(int c) {
        return isUnreserved(c) || "&=+$,;?/".indexOf(c) >= 0;
    }

    static boolean isPasswordChar(int c) {
        return isUnreserved(c) || "&=+$,".indexOf(c) >= 0;
    }

    static boolean isParamChar(int c) {
        return isUnreserved(c) || "[]/:&+$".indexOf(c) >= 0;
    }

    static boolean isHeaderChar(int c) {
        return isUnreserved(c) || "[]/?:+$".indexOf(c) >= 0;
    }

    static boolean isWsp(int c) {
        return c == ' ' || c == '\t';
    }

    static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!isTokenChar(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    static boolean allDigits(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!isDigit(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** All digits but the last leading zeros dropped ({@code "007"} → {@code "7"}, {@code "000"} → {@code "0"}). */
    static String stripLeadingZeros(String digits) {
        int i = 0;
        while (i < digits.length() - 1 && digits.charAt(i) == '0') {
            i++;
        }
        return digits.substring(i);
    }

    /** Parses delta-seconds style digits; values beyond {@code max} fail. */
    static long parseBoundedDigits(String s, long max, String what) {
        if (!allDigits(s)) {
            throw new SipParseException("Bad " + what);
        }
        String t = stripLeadingZeros(s);
        if (t.length() > 18 || Long.parseLong(t) > max) {
            throw new SipParseException("Bad " + what + " (too large)");
        }
        return Long.parseLong(t);
    }

    /** Removes one level of quoting and backslash escapes from a quoted-string (with its quotes). */
    static String unquote(String quoted) {
        if (quoted.length() < 2 || quoted.charAt(0) != '"' || quoted.charAt(quoted.length() - 1) != '"') {
            return quoted;
        }
        StringBuilder sb = new StringBuilder(quoted.length());
        for (int i = 1; i < quoted.length() - 1; i++) {
            char c = quoted.charAt(i);
            if (c == '\\' && i + 1 < quoted.length() - 1) {
                c = quoted.charAt(++i);
            }
            sb.append(c);
        }
        return sb.toString();
    }

    /** Quotes {@code s} as a quoted-string, escaping DQUOTE and backslash. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.append('"').toString();
    }
}
