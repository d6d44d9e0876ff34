package org.p2psip.sip.message;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a parsed request beyond what every element needs, before a UAS or registrar acts on it: the URI scheme
 * (416), the headers the parser leaves for later (Contact, Route, Record-Route, Path, Expires, Date, Content-Type;
 * 400) and Require (420). A proxy forwarding a request needs only the parser's checks and, for Proxy-Require, {@link
 * #unsupported}.
 */
public final class SipValidator {
    /** Why a request is refused, and the Unsupported values for a 420. */
    public record Rejection(int status, String reason, List<String> unsupported) {
    }

    private static final Pattern RFC1123_GMT = Pattern.compile(
            "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
                    + "[0-9]{2}:[0-9]{2}:[0-9]{2} GMT");
    private static final Pattern MEDIA_TYPE = Pattern.compile(
            "[-.!%*_+`'~a-zA-Z0-9]+[ \t]*/[ \t]*[-.!%*_+`'~a-zA-Z0-9]+([ \t]*;.*)?");

    private SipValidator() {
    }

    /** The first reason to refuse {@code request} as a UAS that supports {@code extensions}, if any. */
    public static Optional<Rejection> checkForUas(SipRequest request, Set<String> extensions) {
        if (!(request.requestUri() instanceof SipUri)) {
            return Optional.of(new Rejection(416, "Unsupported URI Scheme", List.of()));
        }
        try {
            if (request.isMethod(SipRequest.REGISTER) && !(request.to().uri() instanceof SipUri)) {
                return reject("To of a REGISTER must be a SIP or SIPS URI");
            }
            List<Contact> contacts = request.contacts();
            if (contacts.size() > 1 && contacts.stream().anyMatch(Contact::wildcard)) {
                return reject("Bad Contact: '*' must be the only Contact");
            }
            for (Contact c : contacts) {
                c.expires();
                c.q();
            }
            request.routes();
            request.recordRoutes();
            request.paths();
            request.expires();
            Optional<String> date = request.headers().first(HeaderNames.DATE);
            if (date.isPresent() && !RFC1123_GMT.matcher(date.get()).matches()) {
                return reject("Bad Date");
            }
            Optional<String> ct = request.contentType();
            if (ct.isPresent() && !MEDIA_TYPE.matcher(ct.get()).matches()) {
                return reject("Bad Content-Type");
            }
            if (request.bodyLength() > 0 && ct.isEmpty()) {
                return reject("Missing Content-Type");
            }
        } catch (SipParseException e) {
            return reject(e.reason());
        }
        List<String> unsupported = unsupported(request.headers().all(HeaderNames.REQUIRE), extensions);
        if (!unsupported.isEmpty() && !request.isMethod(SipRequest.ACK) && !request.isMethod(SipRequest.CANCEL)) {
            return Optional.of(new Rejection(420, "Bad Extension", unsupported));
        }
        return Optional.empty();
    }

    /** The option tags of {@code required} (Require or Proxy-Require values) not in {@code supported}. */
    public static List<String> unsupported(List<String> required, Set<String> supported) {
        List<String> out = new ArrayList<>();
        for (String tag : required) {
            String t = tag.strip();
            if (!supported.contains(t.toLowerCase(Locale.ROOT)) && !supported.contains(t)) {
                out.add(t);
            }
        }
        return out;
    }

    private static Optional<Rejection> reject(String reason) {
        return Optional.of(new Rejection(400, reason, List.of()));
    }
}
