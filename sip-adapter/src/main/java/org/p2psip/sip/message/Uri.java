package org.p2psip.sip.message;

/** A URI in a Request-URI or an address: SIP/SIPS URIs parsed in full, any other scheme kept opaque. */
public sealed interface Uri permits SipUri, GenericUri {
    /** The scheme in lower case. */
    String scheme();

    /** Parses an absolute URI; sip: and sips: become a {@link SipUri}. */
    static Uri parse(String text) {
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new SipParseException("Bad URI: no scheme");
        }
        String scheme = text.substring(0, colon);
        if (scheme.equalsIgnoreCase("sip") || scheme.equalsIgnoreCase("sips")) {
            return SipUri.parse(text);
        }
        return GenericUri.parse(text);
    }
}
