package org.p2psip.sip.message;

import java.util.Locale;

/** An absoluteURI of a scheme other than sip/sips (tel:, http:, urn:, or unknown), kept as written. */
public record GenericUri(String scheme, String schemeSpecificPart) implements Uri {
    public static GenericUri parse(String text) {
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new SipParseException("Bad URI: no scheme");
        }
        String scheme = text.substring(0, colon);
        if (!Character.isLetter(scheme.charAt(0))) {
            throw new SipParseException("Bad URI scheme");
        }
        for (int i = 0; i < scheme.length(); i++) {
            char c = scheme.charAt(i);
            if (!(SipGrammar.isAlphaNum(c) || c == '+' || c == '-' || c == '.')) {
                throw new SipParseException("Bad URI scheme");
            }
        }
        String rest = text.substring(colon + 1);
        if (rest.isEmpty()) {
            throw new SipParseException("Bad URI: empty after scheme");
        }
        for (int i = 0; i < rest.length(); i++) {
            char c = rest.charAt(i);
            // absoluteURI characters: uric = reserved / unreserved / escaped, no whitespace, quotes or angle brackets.
            if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"') {
                throw new SipParseException("Bad URI: invalid character");
            }
        }
        return new GenericUri(scheme.toLowerCase(Locale.ROOT), rest);
    }

    @Override
    public String toString() {
        return scheme + ":" + schemeSpecificPart;
    }
}
