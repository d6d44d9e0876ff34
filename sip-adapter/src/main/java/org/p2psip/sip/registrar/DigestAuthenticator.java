package org.p2psip.sip.registrar;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HTTP digest for SIP (RFC 3261 §22, RFC 7616, RFC 8760): challenges offer the configured algorithms (SHA-256 and
 * MD5 by default, in that order of preference) with {@code qop="auth"}; credentials without qop (RFC 2069 style) are
 * accepted too. The nonce is stateless: an 8-byte timestamp, 8 random bytes (so that two challenges of the same
 * millisecond differ) and an HMAC-SHA256 of both under a key of this instance, so a nonce older than the lifetime is
 * answered {@code stale=true} and a forged one is re-challenged.
 *
 * <p>Replays are refused ({@link NonceCounts}): a phone may reuse a nonce with a growing {@code nc} (RFC 7616), but
 * credentials whose count was already accepted with that nonce, or credentials without qop (no count) presented a
 * second time, get a fresh challenge with {@code stale=true}: a genuine phone whose request crossed another one, or
 * whose retransmission came after its transaction ended, retries at once, while whoever copied the header cannot
 * answer the new nonce. At most {@value #TRACKED_NONCES} nonces are tracked.
 *
 * <p>Not yet: {@code qop=auth-int}, {@code userhash}, SHA-512-256.
 */
public final class DigestAuthenticator {
    /** Outcome of a check. */
    public sealed interface Result permits Authenticated, Challenge {
    }

    /** Valid credentials for {@code user}. */
    public record Authenticated(String user) implements Result {
    }

    /** Answer 401 with these WWW-Authenticate values. */
    public record Challenge(List<String> wwwAuthenticate, String why) implements Result {
    }

    public static final List<String> DEFAULT_ALGORITHMS = List.of("SHA-256", "MD5");
    /**
     * Nonces whose highest count is remembered: about 200 bytes each. One REGISTER with a 401 uses one nonce, so this
     * covers 6.5 s of 10,000 fresh REGISTERs a second, and the 5-minute lifetime below 200 a second; a phone whose
     * nonce was pushed out is asked again with {@code stale=true}.
     */
    public static final int TRACKED_NONCES = 65_536;

    private final String realm;
    private final Credentials accounts;
    private final List<String> algorithms;
    private final long nonceLifetimeMillis;
    private final LongSupplier clock;
    private final byte[] key = new byte[32];
    private final NonceCounts counts;
    private final byte[] realmBytes;
    /**
     * One HMAC per thread under this instance's key: {@code Mac.getInstance} (a provider search) and {@code init} on
     * every nonce cost more than the HMAC itself. A Mac is not thread-safe, hence per thread.
     */
    private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newMac);
    /** Digests never used, only cloned: a clone skips getInstance's provider search. Read-only, so shareable. */
    private static final MessageDigest MD5 = prototype("MD5");
    private static final MessageDigest SHA_256 = prototype("SHA-256");

    public DigestAuthenticator(String realm, Credentials accounts) {
        this(realm, accounts, DEFAULT_ALGORITHMS, 300_000, System::currentTimeMillis);
    }

    public DigestAuthenticator(String realm, Credentials accounts, List<String> algorithms,
            long nonceLifetimeMillis, LongSupplier clock) {
        this.realm = realm;
        this.realmBytes = realm.getBytes(StandardCharsets.UTF_8);
        this.accounts = accounts;
        this.algorithms = List.copyOf(algorithms);
        this.nonceLifetimeMillis = nonceLifetimeMillis;
        this.clock = clock;
        this.counts = new NonceCounts(TRACKED_NONCES, nonceLifetimeMillis);
        new SecureRandom().nextBytes(key);
        for (String a : this.algorithms) {
            digestName(a); // fails early on an unknown algorithm
        }
    }

    public String realm() {
        return realm;
    }

    /**
     * Checks the Authorization values of a request against {@code expectedUser} (the AOR's user part). Only the
     * credentials for our realm are considered.
     */
    public Result check(String method, List<String> authorization, String expectedUser) {
        for (String value : authorization) {
            Map<String, String> p = parse(value);
            if (p == null || !realm.equals(p.get("realm"))) {
                continue;
            }
            String user = p.get("username");
            String nonce = p.get("nonce");
            String uri = p.get("uri");
            String response = p.get("response");
            String algorithm = p.getOrDefault("algorithm", "MD5");
            if (user == null || nonce == null || uri == null || response == null) {
                return challenge(false, "incomplete credentials");
            }
            if (algorithms.stream().noneMatch(a -> a.equalsIgnoreCase(algorithm))) {
                return challenge(false, "algorithm " + algorithm + " not offered");
            }
            long age = nonceAge(nonce);
            if (age < 0) {
                return challenge(false, "nonce not ours");
            }
            if (!user.equals(expectedUser)) {
                return challenge(false, "digest user " + user + " does not match the AOR's user " + expectedUser);
            }
            Optional<String> storedHa1 = accounts.ha1(user, realm, algorithm);
            if (storedHa1.isEmpty()) {
                return challenge(false, accounts.whyNot(user, realm));
            }
            String qop = p.get("qop");
            String ha1 = storedHa1.get().toLowerCase(Locale.ROOT);
            String ha2 = h(algorithm, method + ":" + uri);
            String expected;
            long count = 1; // credentials without qop carry no count: such a nonce is good once
            if (qop == null) {
                expected = h(algorithm, ha1 + ":" + nonce + ":" + ha2);
            } else if (qop.equalsIgnoreCase("auth")) {
                String nc = p.get("nc");
                String cnonce = p.get("cnonce");
                if (nc == null || cnonce == null) {
                    return challenge(false, "qop=auth without nc or cnonce");
                }
                count = nonceCount(nc);
                if (count < 1) {
                    return challenge(false, "nc " + nc + " is not 8 hex digits above zero");
                }
                expected = h(algorithm, ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + ha2);
            } else {
                return challenge(false, "qop " + qop + " not offered");
            }
            if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                    response.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII))) {
                return challenge(false, "wrong response");
            }
            if (age > nonceLifetimeMillis) {
                return challenge(true, "stale nonce"); // right password, old nonce: the phone retries silently
            }
            // only now, with the response checked, so that a forgery cannot use up a genuine phone's counts
            // per user too: another account holder who saw this nonce in a 401 cannot use up its counts first
            switch (counts.accept(nonce + ":" + user, NonceCounts.issuedAtOf(nonce), count, clock.getAsLong())) {
                case REPLAYED:
                    return challenge(true, "nonce count " + count + " already used with this nonce (a replay)");
                case FORGOTTEN:
                    return challenge(true, "nonce no longer tracked");
                default:
                    return new Authenticated(user);
            }
        }
        return challenge(false, "no credentials for realm " + realm);
    }

    /** A fresh challenge. */
    public Challenge challenge(boolean stale, String why) {
        String nonce = newNonce();
        List<String> out = new ArrayList<>();
        for (String a : algorithms) {
            out.add("Digest realm=\"" + realm + "\", nonce=\"" + nonce + "\", algorithm=" + a + ", qop=\"auth\""
                    + (stale ? ", stale=true" : ""));
        }
        return new Challenge(out, why);
    }

    String newNonce() {
        byte[] ts = ByteBuffer.allocate(16).putLong(clock.getAsLong())
                .putLong(java.util.concurrent.ThreadLocalRandom.current().nextLong()).array();
        return HexFormat.of().formatHex(ts) + HexFormat.of().formatHex(mac(ts));
    }

    /** The value of an {@code nc} parameter (exactly 8 hex digits, RFC 7616 §3.4), or -1. */
    static long nonceCount(String nc) {
        if (nc.length() != 8 || !nc.chars().allMatch(HexFormat::isHexDigit)) {
            return -1;
        }
        return Long.parseLong(nc, 16);
    }

    /** Nonces whose counts are tracked now, and how many were pushed out because the table was full. */
    public record NonceStats(int tracked, long forgotten) {
    }

    public NonceStats nonceStats() {
        return new NonceStats(counts.size(), counts.forgotten());
    }

    /** Milliseconds since the nonce was issued, or -1 if it is not one of ours. */
    long nonceAge(String nonce) {
        if (nonce.length() != 32 + 32) {
            return -1;
        }
        byte[] ts;
        byte[] tag;
        try {
            ts = HexFormat.of().parseHex(nonce.substring(0, 32));
            tag = HexFormat.of().parseHex(nonce.substring(32));
        } catch (IllegalArgumentException e) {
            return -1;
        }
        if (!MessageDigest.isEqual(tag, mac(ts))) {
            return -1;
        }
        long age = clock.getAsLong() - ByteBuffer.wrap(ts).getLong();
        return age < -60_000 ? -1 : Math.max(0, age);
    }

    private byte[] mac(byte[] ts) {
        Mac m = macs.get();
        m.update(ts);
        m.update(realmBytes);
        byte[] full = m.doFinal(); // doFinal also resets it for the next use
        byte[] out = new byte[16];
        System.arraycopy(full, 0, out, 0, 16);
        return out;
    }

    private Mac newMac() {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(key, "HmacSHA256"));
            return m;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static MessageDigest prototype(String name) {
        try {
            return MessageDigest.getInstance(name);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks " + name + ", which SIP digest needs", e);
        }
    }

    static String digestName(String algorithm) {
        return switch (algorithm.toUpperCase(Locale.ROOT)) {
            case "MD5" -> "MD5";
            case "SHA-256" -> "SHA-256";
            default -> throw new IllegalArgumentException("unsupported digest algorithm " + algorithm);
        };
    }

    /** Hex digest of {@code s} with {@code algorithm} (MD5 or SHA-256). */
    public static String h(String algorithm, String s) {
        MessageDigest prototype = digestName(algorithm).equals("MD5") ? MD5 : SHA_256;
        try {
            return HexFormat.of().formatHex(((MessageDigest) prototype.clone())
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses {@code Digest k=v, k="v"...}; null if it is not a Digest credential. Keys are lower-cased. */
    static Map<String, String> parse(String value) {
        String v = value.strip();
        if (v.length() < 7 || !v.regionMatches(true, 0, "Digest", 0, 6) || !Character.isWhitespace(v.charAt(6))) {
            return null;
        }
        Map<String, String> out = new LinkedHashMap<>();
        int i = 7;
        int n = v.length();
        while (i < n) {
            while (i < n && (v.charAt(i) == ',' || Character.isWhitespace(v.charAt(i)))) {
                i++;
            }
            int eq = v.indexOf('=', i);
            if (eq < 0) {
                break;
            }
            String k = v.substring(i, eq).strip().toLowerCase(Locale.ROOT);
            i = eq + 1;
            while (i < n && Character.isWhitespace(v.charAt(i))) {
                i++;
            }
            StringBuilder val = new StringBuilder();
            if (i < n && v.charAt(i) == '"') {
                i++;
                while (i < n && v.charAt(i) != '"') {
                    if (v.charAt(i) == '\\' && i + 1 < n) {
                        i++;
                    }
                    val.append(v.charAt(i++));
                }
                i++; // closing quote
            } else {
                while (i < n && v.charAt(i) != ',') {
                    val.append(v.charAt(i++));
                }
            }
            out.putIfAbsent(k, val.toString().strip());
        }
        return out;
    }
}
