package org.p2psip.sip.message;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.IntPredicate;

/**
 * A SIP or SIPS URI (RFC 3261 §19.1): {@code sip:user:password@host:port;uri-parameters?headers}. The user, password,
 * parameter names and values and headers are held unescaped; {@link #toString()} gives back the text as parsed (or,
 * for a built or modified URI, a canonical escaping). Equality follows §19.1.4.
 */
public final class SipUri implements Uri {
    private final boolean secure;
    private final String user; // unescaped, null if none
    private final String password; // unescaped, null if none
    private final String host; // lower case; IPv6 references keep their brackets
    private final int port; // -1 if absent
    private final List<Params.Param> params; // unescaped; value null for flags
    private final Map<String, String> headers; // unescaped
    private final String text;

    private SipUri(boolean secure, String user, String password, String host, int port, List<Params.Param> params,
            Map<String, String> headers, String text) {
        this.secure = secure;
        this.user = user;
        this.password = password;
        this.host = host;
        this.port = port;
        this.params = params;
        this.headers = headers;
        this.text = text != null ? text : encode();
    }

    public static SipUri of(String user, String host, int port) {
        return new SipUri(false, user, null, normalizeHost(host), port, List.of(), Map.of(), null);
    }

    public static SipUri parse(String text) {
        int colon = text.indexOf(':');
        if (colon < 0) {
            throw new SipParseException("Bad SIP URI: no scheme");
        }
        String scheme = text.substring(0, colon);
        boolean secure;
        if (scheme.equalsIgnoreCase("sip")) {
            secure = false;
        } else if (scheme.equalsIgnoreCase("sips")) {
            secure = true;
        } else {
            throw new SipParseException("Bad SIP URI: scheme " + scheme);
        }
        String rest = text.substring(colon + 1);
        for (int i = 0; i < rest.length(); i++) {
            char c = rest.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                throw new SipParseException("Bad SIP URI: whitespace or non-ASCII character");
            }
        }
        String user = null;
        String password = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            String userinfo = rest.substring(0, at);
            rest = rest.substring(at + 1);
            int pc = userinfo.indexOf(':');
            String u = pc >= 0 ? userinfo.substring(0, pc) : userinfo;
            if (u.isEmpty()) {
                throw new SipParseException("Bad SIP URI: empty user");
            }
            user = unescape(u, SipGrammar::isUserChar, "user");
            if (pc >= 0) {
                password = unescape(userinfo.substring(pc + 1), SipGrammar::isPasswordChar, "password");
            }
        }
        String headerPart = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            headerPart = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        String paramPart = null;
        int semi = rest.indexOf(';');
        if (semi >= 0) {
            paramPart = rest.substring(semi + 1);
            rest = rest.substring(0, semi);
        }
        String host;
        int port = -1;
        if (rest.startsWith("[")) {
            int close = rest.indexOf(']');
            if (close < 0) {
                throw new SipParseException("Bad SIP URI: unterminated IPv6 reference");
            }
            host = rest.substring(0, close + 1);
            checkIpv6(host.substring(1, host.length() - 1));
            rest = rest.substring(close + 1);
            if (!rest.isEmpty()) {
                if (rest.charAt(0) != ':') {
                    throw new SipParseException("Bad SIP URI: junk after IPv6 reference");
                }
                port = parsePort(rest.substring(1));
            }
        } else {
            int pc = rest.indexOf(':');
            host = pc >= 0 ? rest.substring(0, pc) : rest;
            if (pc >= 0) {
                port = parsePort(rest.substring(pc + 1));
            }
            checkHostname(host);
        }
        List<Params.Param> params = List.of();
        if (paramPart != null) {
            params = new ArrayList<>();
            for (String p : paramPart.split(";", -1)) {
                int eq = p.indexOf('=');
                String name = unescape(eq >= 0 ? p.substring(0, eq) : p, SipGrammar::isParamChar, "uri-parameter");
                String value = eq >= 0 ? unescape(p.substring(eq + 1), SipGrammar::isParamChar, "uri-parameter") : null;
                if (name.isEmpty() || (value != null && value.isEmpty())) {
                    throw new SipParseException("Bad SIP URI: empty uri-parameter");
                }
                for (Params.Param x : params) {
                    if (x.name().equalsIgnoreCase(name)) {
                        throw new SipParseException("Bad SIP URI: duplicate uri-parameter " + name);
                    }
                }
                params.add(new Params.Param(name, value));
            }
            params = Collections.unmodifiableList(params);
        }
        Map<String, String> headers = Map.of();
        if (headerPart != null) {
            Map<String, String> h = new LinkedHashMap<>();
            for (String kv : headerPart.split("&", -1)) {
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new SipParseException("Bad SIP URI: malformed header");
                }
                h.put(unescape(kv.substring(0, eq), SipGrammar::isHeaderChar, "header"),
                        unescape(kv.substring(eq + 1), SipGrammar::isHeaderChar, "header"));
            }
            headers = Collections.unmodifiableMap(h);
        }
        return new SipUri(secure, user, password, host.toLowerCase(Locale.ROOT), port, params, headers, text);
    }

    private static int parsePort(String s) {
        if (!SipGrammar.allDigits(s) || s.length() > 5 || Integer.parseInt(s) > 65535) {
            throw new SipParseException("Bad SIP URI: port");
        }
        return Integer.parseInt(s);
    }

    static void checkHostname(String host) {
        if (host.isEmpty()) {
            throw new SipParseException("Bad host: empty");
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (!(SipGrammar.isAlphaNum(c) || c == '-' || c == '.')) {
                throw new SipParseException("Bad host: " + host);
            }
        }
        if (host.startsWith(".") || host.startsWith("-") || host.contains("..")) {
            throw new SipParseException("Bad host: " + host);
        }
    }

    static void checkIpv6(String addr) {
        if (addr.isEmpty() || addr.length() > 45) {
            throw new SipParseException("Bad IPv6 reference");
        }
        for (int i = 0; i < addr.length(); i++) {
            char c = addr.charAt(i);
            if (!(SipGrammar.isHex(c) || c == ':' || c == '.')) {
                throw new SipParseException("Bad IPv6 reference");
            }
        }
        if (addr.indexOf(':') < 0) {
            throw new SipParseException("Bad IPv6 reference");
        }
    }

    /** Lower case; IPv6 addresses in brackets. */
    public static String normalizeHost(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.indexOf(':') >= 0 && !h.startsWith("[")) {
            h = "[" + h + "]";
        }
        return h;
    }

    /** Decodes %XX escapes; every other character must satisfy {@code allowed}. */
    static String unescape(String s, IntPredicate allowed, String what) {
        if (s.indexOf('%') < 0) {
            for (int i = 0; i < s.length(); i++) {
                if (!allowed.test(s.charAt(i))) {
                    throw new SipParseException("Bad SIP URI: character '" + s.charAt(i) + "' in " + what);
                }
            }
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length() || !SipGrammar.isHex(s.charAt(i + 1)) || !SipGrammar.isHex(s.charAt(i + 2))) {
                    throw new SipParseException("Bad SIP URI: bad escape in " + what);
                }
                out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 2;
            } else if (allowed.test(c)) {
                out.write(c);
            } else {
                throw new SipParseException("Bad SIP URI: character '" + c + "' in " + what);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    static String escape(String s, IntPredicate allowed) {
        StringBuilder sb = new StringBuilder(s.length());
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c < 0x80 && allowed.test(c)) {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return sb.toString();
    }

    private String encode() {
        StringBuilder sb = new StringBuilder(secure ? "sips:" : "sip:");
        if (user != null) {
            sb.append(escape(user, SipGrammar::isUserChar));
            if (password != null) {
                sb.append(':').append(escape(password, SipGrammar::isPasswordChar));
            }
            sb.append('@');
        }
        sb.append(host);
        if (port >= 0) {
            sb.append(':').append(port);
        }
        for (Params.Param p : params) {
            sb.append(';').append(escape(p.name(), SipGrammar::isParamChar));
            if (p.value() != null) {
                sb.append('=').append(escape(p.value(), SipGrammar::isParamChar));
            }
        }
        char sep = '?';
        for (Map.Entry<String, String> h : headers.entrySet()) {
            sb.append(sep).append(escape(h.getKey(), SipGrammar::isHeaderChar)).append('=')
                    .append(escape(h.getValue(), SipGrammar::isHeaderChar));
            sep = '&';
        }
        return sb.toString();
    }

    @Override
    public String scheme() {
        return secure ? "sips" : "sip";
    }

    public boolean secure() {
        return secure;
    }

    public Optional<String> user() {
        return Optional.ofNullable(user);
    }

    public Optional<String> password() {
        return Optional.ofNullable(password);
    }

    /** The host in lower case; an IPv6 reference keeps its brackets. */
    public String host() {
        return host;
    }

    /** The port, or -1 when the URI has none. */
    public int port() {
        return port;
    }

    public List<Params.Param> params() {
        return params;
    }

    public boolean hasParam(String name) {
        return params.stream().anyMatch(p -> p.name().equalsIgnoreCase(name));
    }

    /** An unescaped parameter value ({@code ""} for a flag parameter). */
    public Optional<String> param(String name) {
        for (Params.Param p : params) {
            if (p.name().equalsIgnoreCase(name)) {
                return Optional.of(p.value() == null ? "" : p.value());
            }
        }
        return Optional.empty();
    }

    public Map<String, String> headers() {
        return headers;
    }

    /** {@code transport} parameter in lower case, if any. */
    public Optional<String> transport() {
        return param("transport").map(t -> t.toLowerCase(Locale.ROOT));
    }

    public boolean looseRouting() {
        return hasParam("lr");
    }

    public SipUri withParam(String name, String value) {
        List<Params.Param> l = new ArrayList<>(params);
        l.removeIf(p -> p.name().equalsIgnoreCase(name));
        l.add(new Params.Param(name, value));
        return new SipUri(secure, user, password, host, port, List.copyOf(l), headers, null);
    }

    public SipUri withoutParam(String name) {
        List<Params.Param> l = new ArrayList<>(params);
        l.removeIf(p -> p.name().equalsIgnoreCase(name));
        return new SipUri(secure, user, password, host, port, List.copyOf(l), headers, null);
    }

    public SipUri withoutHeaders() {
        return new SipUri(secure, user, password, host, port, params, Map.of(), null);
    }

    public SipUri withHostPort(String newHost, int newPort) {
        return new SipUri(secure, user, password, normalizeHost(newHost), newPort, params, headers, null);
    }

    /** The address-of-record form {@code sip:user@host} (no port, parameters or headers). */
    public SipUri aor() {
        return new SipUri(secure, user, null, host, -1, List.of(), Map.of(), null);
    }

    @Override
    public String toString() {
        return text;
    }

    /** RFC 3261 §19.1.4 comparison. */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SipUri u)) {
            return false;
        }
        if (secure != u.secure || !Objects.equals(user, u.user) || !Objects.equals(password, u.password)
                || !host.equalsIgnoreCase(u.host) || port != u.port) {
            return false;
        }
        for (String special : new String[] {"user", "ttl", "method", "maddr", "transport"}) {
            Optional<String> a = param(special);
            Optional<String> b = u.param(special);
            if (a.isPresent() != b.isPresent() || (a.isPresent() && !a.get().equalsIgnoreCase(b.get()))) {
                return false;
            }
        }
        for (Params.Param p : params) {
            Optional<String> other = u.param(p.name());
            if (other.isPresent() && !other.get().equalsIgnoreCase(p.value() == null ? "" : p.value())) {
                return false;
            }
        }
        if (headers.size() != u.headers.size()) {
            return false;
        }
        for (Map.Entry<String, String> h : headers.entrySet()) {
            String v = null;
            for (Map.Entry<String, String> x : u.headers.entrySet()) {
                if (x.getKey().equalsIgnoreCase(h.getKey())) {
                    v = x.getValue();
                }
            }
            if (!h.getValue().equals(v)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return Objects.hash(secure, user, host.toLowerCase(Locale.ROOT), port);
    }
}
