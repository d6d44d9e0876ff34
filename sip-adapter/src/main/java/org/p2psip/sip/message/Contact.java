package org.p2psip.sip.message;

import java.math.BigDecimal;
import java.util.Optional;
import java.util.OptionalLong;

/** A Contact value: the wildcard {@code *} (REGISTER removal of all bindings) or an address with expires and q. */
public record Contact(boolean wildcard, Address address) {
    private static final java.util.regex.Pattern Q_VALUE = java.util.regex.Pattern.compile("(0(\\.[0-9]{0,3})?|1(\\.0{0,3})?)");
    public static final Contact WILDCARD = new Contact(true, null);
    /** delta-seconds larger than this are taken as this (RFC 3261 §20.19 / §25.1: a 32-bit value). */
    public static final long MAX_DELTA_SECONDS = 0xFFFF_FFFFL;

    public static Contact of(Address address) {
        return new Contact(false, address);
    }

    public static Contact parse(String value) {
        if (value.strip().equals("*")) {
            return WILDCARD;
        }
        return new Contact(false, Address.parse(value, "Contact"));
    }

    /** The expires parameter in seconds, saturated at 2^32-1. */
    public OptionalLong expires() {
        if (wildcard) {
            return OptionalLong.empty();
        }
        Optional<String> e = address.params().get("expires");
        if (e.isEmpty()) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(deltaSeconds(e.get(), "Contact expires"));
    }

    /** The q parameter, 0 to 1 with at most three decimals. */
    public Optional<BigDecimal> q() {
        if (wildcard) {
            return Optional.empty();
        }
        Optional<String> q = address.params().get("q");
        if (q.isEmpty()) {
            return Optional.empty();
        }
        String s = q.get();
        if (!Q_VALUE.matcher(s).matches()) {
            throw new SipParseException("Bad Contact: q=" + s);
        }
        return Optional.of(new BigDecimal(s));
    }

    static long deltaSeconds(String s, String what) {
        if (!SipGrammar.allDigits(s)) {
            throw new SipParseException("Bad " + what);
        }
        String t = SipGrammar.stripLeadingZeros(s);
        return t.length() > 10 ? MAX_DELTA_SECONDS : Math.min(Long.parseLong(t), MAX_DELTA_SECONDS);
    }

    @Override
    public String toString() {
        return wildcard ? "*" : address.toString();
    }
}
