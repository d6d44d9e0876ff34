package org.p2psip.sip.message;

import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One Via value (RFC 3261 §20.42): {@code SIP/2.0/transport host[:port];params}, with branch, received and rport
 * (RFC 3581) accessors.
 */
public record Via(String transport, String host, int port, Params params) {
    private static final java.util.regex.Pattern IPV4 = java.util.regex.Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    private static final java.util.regex.Pattern IPV6 = java.util.regex.Pattern.compile("\\[?[0-9a-fA-F.]*:[0-9a-fA-F:.]*]?");
    /** The RFC 3261 branch prefix. */
    public static final String MAGIC_COOKIE = "z9hG4bK";

    public Via {
        transport = transport.toUpperCase(Locale.ROOT);
        host = SipUri.normalizeHost(host);
    }

    public static Via of(String transport, String host, int port, String branch) {
        return new Via(transport, host, port, Params.builder().add("branch", branch).build());
    }

    public static Via parse(String value) {
        Cursor c = new Cursor(value, "Via");
        c.skipSws();
        String protocol = c.token();
        if (!c.skipSwsAnd('/')) {
            throw c.fail("expected '/'");
        }
        String version = c.token();
        if (!c.skipSwsAnd('/')) {
            throw c.fail("expected '/'");
        }
        String transport = c.token();
        if (!protocol.equalsIgnoreCase("SIP") || !version.equals("2.0")) {
            throw c.fail("unsupported protocol " + protocol + "/" + version);
        }
        if (!SipGrammar.isWsp(c.peek())) {
            throw c.fail("expected LWS before sent-by");
        }
        c.skipSws();
        String host;
        if (c.peek() == '[') {
            int close = value.indexOf(']', c.pos);
            if (close < 0) {
                throw c.fail("unterminated IPv6 reference");
            }
            host = value.substring(c.pos, close + 1);
            SipUri.checkIpv6(host.substring(1, host.length() - 1));
            c.pos = close + 1;
        } else {
            int start = c.pos;
            while (!c.atEnd() && (SipGrammar.isAlphaNum(c.peek()) || c.peek() == '-' || c.peek() == '.')) {
                c.pos++;
            }
            host = value.substring(start, c.pos);
            try {
                SipUri.checkHostname(host);
            } catch (SipParseException e) {
                throw c.fail("bad sent-by host");
            }
        }
        int port = -1;
        if (c.skipSwsAnd(':')) {
            int start = c.pos;
            while (SipGrammar.isDigit(c.peek())) {
                c.pos++;
            }
            port = (int) SipGrammar.parseBoundedDigits(value.substring(start, c.pos), 65535, "Via port");
        }
        Params params = c.params();
        for (Params.Param p : params.asList()) {
            String n = p.name().toLowerCase(Locale.ROOT);
            String v = p.value();
            switch (n) {
                case "branch" -> {
                    if (v == null || !SipGrammar.isToken(v)) {
                        throw c.fail("bad branch");
                    }
                }
                case "rport" -> {
                    if (v != null) {
                        SipGrammar.parseBoundedDigits(v, 65535, "Via rport");
                    }
                }
                case "received" -> {
                    if (v == null || !(IPV4.matcher(v).matches() || IPV6.matcher(v).matches())) {
                        throw c.fail("bad received");
                    }
                }
                case "ttl" -> {
                    if (v == null) {
                        throw c.fail("bad ttl");
                    }
                    SipGrammar.parseBoundedDigits(v, 255, "Via ttl");
                }
                case "maddr" -> {
                    if (v == null) {
                        throw c.fail("bad maddr");
                    }
                }
                default -> {
                }
            }
        }
        return new Via(transport, host, port, params);
    }

    public Optional<String> branch() {
        return params.get("branch");
    }

    /** True if the branch carries the RFC 3261 magic cookie and an identifier after it. */
    public boolean hasRfc3261Branch() {
        return branch().map(b -> b.length() > MAGIC_COOKIE.length() && b.startsWith(MAGIC_COOKIE)).orElse(false);
    }

    public Optional<String> received() {
        return params.get("received");
    }

    /** True if an rport parameter is present (with or without a value). */
    public boolean hasRport() {
        return params.has("rport");
    }

    /** The rport value filled in by the server (RFC 3581), if any. */
    public OptionalInt rport() {
        Optional<String> r = params.get("rport");
        return r.isPresent() && !r.get().isEmpty() ? OptionalInt.of(Integer.parseInt(r.get())) : OptionalInt.empty();
    }

    public Optional<String> maddr() {
        return params.get("maddr");
    }

    /** The sent-by port, or the transport's default (5061 for TLS, else 5060). */
    public int portOrDefault() {
        return port >= 0 ? port : transport.equals("TLS") ? 5061 : 5060;
    }

    /** {@code host:port} as written (no port when none was given): with the branch, part of the transaction key. */
    public String sentBy() {
        return port >= 0 ? host + ":" + port : host;
    }

    public boolean reliable() {
        return !transport.equals("UDP");
    }

    public Via withParam(String name, String value) {
        return new Via(transport, host, port, params.with(name, value));
    }

    @Override
    public String toString() {
        return "SIP/2.0/" + transport + " " + sentBy() + params;
    }
}
