package org.p2psip.sip.message;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Header field names: canonical spellings, the compact forms of RFC 3261 §7.3.3 (and of the extensions that define
 * one), and which headers are comma-separated lists (§7.3.1). Names compare case-insensitively.
 */
public final class HeaderNames {
    public static final String VIA = "Via";
    public static final String FROM = "From";
    public static final String TO = "To";
    public static final String CALL_ID = "Call-ID";
    public static final String CSEQ = "CSeq";
    public static final String MAX_FORWARDS = "Max-Forwards";
    public static final String CONTACT = "Contact";
    public static final String CONTENT_LENGTH = "Content-Length";
    public static final String CONTENT_TYPE = "Content-Type";
    public static final String ROUTE = "Route";
    public static final String RECORD_ROUTE = "Record-Route";
    public static final String PATH = "Path";
    public static final String EXPIRES = "Expires";
    public static final String DATE = "Date";
    public static final String REQUIRE = "Require";
    public static final String PROXY_REQUIRE = "Proxy-Require";
    public static final String SUPPORTED = "Supported";
    public static final String UNSUPPORTED = "Unsupported";
    public static final String ALLOW = "Allow";
    public static final String ACCEPT = "Accept";
    public static final String AUTHORIZATION = "Authorization";
    public static final String WWW_AUTHENTICATE = "WWW-Authenticate";
    public static final String PROXY_AUTHORIZATION = "Proxy-Authorization";
    public static final String PROXY_AUTHENTICATE = "Proxy-Authenticate";
    public static final String USER_AGENT = "User-Agent";
    public static final String SERVER = "Server";
    public static final String EVENT = "Event";

    private static final Map<String, String> CANONICAL = new HashMap<>();
    /** Each canonical spelling to itself: a name already spelled canonically (nearly all) skips toLowerCase. */
    private static final Map<String, String> EXACT = new HashMap<>();
    /** Each canonical spelling to its lower-case lookup key. */
    private static final Map<String, String> KEYS = new HashMap<>();
    private static final Map<Character, String> COMPACT = new HashMap<>();
    private static final Set<String> LISTS;

    static {
        for (String n : new String[] {VIA, FROM, TO, CALL_ID, CSEQ, MAX_FORWARDS, CONTACT, CONTENT_LENGTH, CONTENT_TYPE,
                ROUTE, RECORD_ROUTE, PATH, EXPIRES, DATE, REQUIRE, PROXY_REQUIRE, SUPPORTED, UNSUPPORTED, ALLOW, ACCEPT,
                AUTHORIZATION, WWW_AUTHENTICATE, PROXY_AUTHORIZATION, PROXY_AUTHENTICATE, USER_AGENT, SERVER, EVENT,
                "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow-Events", "Authentication-Info", "Call-Info",
                "Content-Disposition", "Content-Encoding", "Content-Language", "Error-Info", "In-Reply-To", "MIME-Version",
                "Min-Expires", "Organization", "Priority", "Reply-To", "Retry-After", "Service-Route", "Subject",
                "Timestamp", "Warning", "Refer-To", "Referred-By", "Session-Expires", "Accept-Contact",
                "Reject-Contact", "Request-Disposition", "Identity", "Identity-Info", "Subscription-State", "Reason",
                "Flow-Timer", "SIP-ETag", "SIP-If-Match", "Min-SE", "RSeq", "RAck"}) {
            CANONICAL.put(n.toLowerCase(Locale.ROOT), n);
            EXACT.put(n, n);
            KEYS.put(n, n.toLowerCase(Locale.ROOT));
        }
        String[][] compact = {{"i", CALL_ID}, {"m", CONTACT}, {"e", "Content-Encoding"}, {"l", CONTENT_LENGTH},
            {"c", CONTENT_TYPE}, {"f", FROM}, {"s", "Subject"}, {"k", SUPPORTED}, {"t", TO}, {"v", VIA},
            {"o", EVENT}, {"u", "Allow-Events"}, {"r", "Refer-To"}, {"b", "Referred-By"}, {"x", "Session-Expires"},
            {"a", "Accept-Contact"}, {"j", "Reject-Contact"}, {"d", "Request-Disposition"}, {"y", "Identity"},
            {"n", "Identity-Info"}};
        for (String[] c : compact) {
            COMPACT.put(c[0].charAt(0), c[1]);
        }
        // Headers whose grammar is a comma-separated list (RFC 3261 §7.3.1). Everything else, notably
        // WWW-Authenticate/Authorization/Proxy-* (commas inside one challenge), Date and the single-valued headers, is
        // never split.
        LISTS = Set.of("via", "contact", "route", "record-route", "path", "service-route", "allow", "supported",
                "require", "proxy-require", "unsupported", "accept", "accept-encoding", "accept-language",
                "content-encoding", "content-language", "alert-info", "call-info", "error-info", "in-reply-to",
                "warning", "allow-events", "reason", "accept-contact", "reject-contact");
    }

    private HeaderNames() {
    }

    /** The canonical spelling: compact forms expanded, known names in their RFC case, others as given. */
    public static String canonical(String name) {
        String exact = EXACT.get(name);
        if (exact != null) {
            return exact; // the constant instance, so equalsIgnoreCase meets identity
        }
        if (name.length() == 1) {
            String c = COMPACT.get(Character.toLowerCase(name.charAt(0)));
            if (c != null) {
                return c;
            }
        }
        String known = CANONICAL.get(name.toLowerCase(Locale.ROOT));
        return known != null ? known : name;
    }

    /** A lookup key: the canonical name in lower case. */
    static String key(String name) {
        String c = canonical(name);
        String known = KEYS.get(c);
        return known != null ? known : c.toLowerCase(Locale.ROOT);
    }

    /** True if the header's values may be combined into one comma-separated field (and are split on parsing). */
    public static boolean isList(String name) {
        return LISTS.contains(key(name));
    }
}
