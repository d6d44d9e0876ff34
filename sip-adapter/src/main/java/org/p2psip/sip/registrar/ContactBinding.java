package org.p2psip.sip.registrar;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One registered device of an AOR: the Contact as the phone sent it (name-addr, without {@code expires}), its q
 * value, the absolute expiry, the SIP URI of the peer that registered it ({@code path}), which is where other
 * peers forward requests for this contact, and the REGISTER's Path headers (RFC 3327, e.g. a superpeer in front of a
 * leaf's phone), which requests for it are routed through after that peer.
 *
 * <p>The stored form ({@link #encode}) holds everything but the expiry, which the DHT value carries, so a refresh of
 * an unchanged binding re-puts the same bytes with a later expiry.
 */
public record ContactBinding(String aor, String contact, String q, String path, List<String> pathHeaders,
        long expiresAtMillis) {
    static final String VERSION = "p2psip-contact/1";

    public ContactBinding {
        pathHeaders = List.copyOf(pathHeaders);
    }

    /** A binding registered directly (no Path headers). */
    public ContactBinding(String aor, String contact, String q, String path, long expiresAtMillis) {
        this(aor, contact, q, path, List.of(), expiresAtMillis);
    }

    public ContactBinding withExpiry(long expiresAtMillis) {
        return new ContactBinding(aor, contact, q, path, pathHeaders, expiresAtMillis);
    }

    /** Seconds left at {@code nowMillis}, rounded up. */
    public long remainingSeconds(long nowMillis) {
        return Math.max(0, (expiresAtMillis - nowMillis + 999) / 1000);
    }

    /** The compact text form: a version line and key=value lines (values have no CR/LF). */
    public String encode() {
        StringBuilder sb = new StringBuilder(VERSION).append('\n');
        line(sb, "aor", aor);
        line(sb, "contact", contact);
        if (q != null) {
            line(sb, "q", q);
        }
        line(sb, "path", path);
        for (String h : pathHeaders) {
            line(sb, "route", h);
        }
        return sb.toString();
    }

    private static void line(StringBuilder sb, String k, String v) {
        if (v.indexOf('\n') >= 0 || v.indexOf('\r') >= 0) {
            throw new IllegalArgumentException(k + " contains a line break");
        }
        sb.append(k).append('=').append(v).append('\n');
    }

    /** Parses {@link #encode}'s form; throws IllegalArgumentException for anything else. */
    public static ContactBinding decode(String text, long expiresAtMillis) {
        String[] lines = text.split("\n");
        if (lines.length == 0 || !lines[0].equals(VERSION)) {
            throw new IllegalArgumentException("not a contact record");
        }
        Map<String, String> m = new LinkedHashMap<>();
        List<String> routes = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            int eq = lines[i].indexOf('=');
            if (eq > 0) {
                String k = lines[i].substring(0, eq);
                if (k.equals("route")) {
                    routes.add(lines[i].substring(eq + 1));
                } else {
                    m.put(k, lines[i].substring(eq + 1));
                }
            }
        }
        String aor = m.get("aor");
        String contact = m.get("contact");
        String path = m.get("path");
        if (aor == null || contact == null || path == null) {
            throw new IllegalArgumentException("contact record misses aor, contact or path");
        }
        return new ContactBinding(aor, contact, m.get("q"), path, routes, expiresAtMillis);
    }
}
