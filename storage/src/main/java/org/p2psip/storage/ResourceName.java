package org.p2psip.storage;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import org.p2psip.overlay.NodeId;

/**
 * A resource name of the P2P-SIP draft, whose SHA-1 is the DHT key:
 * <ul>
 * <li>{@code sip:bob@example.net}: Bob's contacts;</li>
 * <li>{@code certificate:bob@example.net}: Bob's certificates;</li>
 * <li>{@code private:bob@example.net:<secret>}: Bob's encrypted private key and configuration;</li>
 * <li>{@code subscribe:presence:bob@example.net}: the (encrypted) list of Bob's watchers for an event package;</li>
 * <li>{@code offline:bob@example.net}: (encrypted) messages left for Bob.</li>
 * </ul>
 * The canonical form, which is hashed, has the host in lower case; the user part is kept as written
 * (SIP user parts are case-sensitive).
 */
public record ResourceName(Kind kind, String user, String event, String secret) {
    /** Longest resource name accepted. */
    public static final int MAX_LENGTH = 512;

    private static final Pattern USER = Pattern.compile("[A-Za-z0-9\\-_.!~*'()&=+$,;?/%]{1,128}@[A-Za-z0-9.\\-]{1,253}");
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9.!%*_+`'~\\-]{1,64}");
    private static final Pattern SECRET = Pattern.compile("[\\x21-\\x7e]{1,256}");

    /** The draft's five kinds of resource. */
    public enum Kind {
        SIP("sip:", true),
        CERTIFICATE("certificate:", true),
        PRIVATE("private:", true),
        SUBSCRIBE("subscribe:", false),
        OFFLINE("offline:", false);

        private final String prefix;
        private final boolean ownedByUser;

        Kind(String prefix, boolean ownedByUser) {
            this.prefix = prefix;
            this.ownedByUser = ownedByUser;
        }

        public String prefix() {
            return prefix;
        }

        /**
         * True when only the user (or the user's domain) may write the name; false for lists that others
         * append to (watchers of Bob, messages for Bob), where each writer owns only its own values.
         */
        public boolean ownedByUser() {
            return ownedByUser;
        }
    }

    public ResourceName {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(user, "user");
        if (!USER.matcher(user).matches()) {
            throw new IllegalArgumentException("not a user@domain: " + user);
        }
        int at = user.lastIndexOf('@');
        user = user.substring(0, at + 1) + user.substring(at + 1).toLowerCase(Locale.ROOT);
        if ((kind == Kind.SUBSCRIBE) != (event != null)) {
            throw new IllegalArgumentException("an event package is needed for, and only for, subscribe: names");
        }
        if (event != null && !TOKEN.matcher(event).matches()) {
            throw new IllegalArgumentException("not an event package token: " + event);
        }
        if ((kind == Kind.PRIVATE) != (secret != null)) {
            throw new IllegalArgumentException("a secret is needed for, and only for, private: names");
        }
        if (secret != null && !SECRET.matcher(secret).matches()) {
            throw new IllegalArgumentException("a secret is 1 to 256 visible ASCII characters");
        }
    }

    public static ResourceName sip(String user) {
        return new ResourceName(Kind.SIP, user, null, null);
    }

    public static ResourceName certificate(String user) {
        return new ResourceName(Kind.CERTIFICATE, user, null, null);
    }

    public static ResourceName privateData(String user, String secret) {
        return new ResourceName(Kind.PRIVATE, user, null, secret);
    }

    public static ResourceName subscribe(String event, String user) {
        return new ResourceName(Kind.SUBSCRIBE, user, event, null);
    }

    public static ResourceName offline(String user) {
        return new ResourceName(Kind.OFFLINE, user, null, null);
    }

    /** Parses one of the draft's forms; refuses anything else with {@link Refusal#BAD_NAME}. */
    public static ResourceName parse(String name) throws RecordException {
        if (name == null || name.isEmpty() || name.length() > MAX_LENGTH) {
            throw new RecordException(Refusal.BAD_NAME, "a resource name has 1 to " + MAX_LENGTH + " characters");
        }
        try {
            for (Kind k : Kind.values()) {
                if (!name.startsWith(k.prefix)) {
                    continue;
                }
                String rest = name.substring(k.prefix.length());
                switch (k) {
                    case SUBSCRIBE: {
                        int c = rest.indexOf(':');
                        if (c < 0) {
                            throw new IllegalArgumentException("subscribe:<event>:<user@domain> expected");
                        }
                        return new ResourceName(k, rest.substring(c + 1), rest.substring(0, c), null);
                    }
                    case PRIVATE: {
                        int at = rest.indexOf('@');
                        int c = at < 0 ? -1 : rest.indexOf(':', at);
                        if (c < 0) {
                            throw new IllegalArgumentException("private:<user@domain>:<secret> expected");
                        }
                        return new ResourceName(k, rest.substring(0, c), null, rest.substring(c + 1));
                    }
                    default:
                        return new ResourceName(k, rest, null, null);
                }
            }
        } catch (IllegalArgumentException e) {
            throw new RecordException(Refusal.BAD_NAME, e.getMessage() + " in " + quote(name));
        }
        throw new RecordException(Refusal.BAD_NAME, "unknown kind of resource name " + quote(name)
                + " (sip:, certificate:, private:, subscribe:, offline:)");
    }

    private static String quote(String s) {
        return "\"" + (s.length() > 80 ? s.substring(0, 80) + "..." : s) + "\"";
    }

    /** The canonical text, which {@link #key()} hashes. */
    public String format() {
        switch (kind) {
            case SUBSCRIBE:
                return kind.prefix + event + ":" + user;
            case PRIVATE:
                return kind.prefix + user + ":" + secret;
            default:
                return kind.prefix + user;
        }
    }

    /** The DHT key: SHA-1 of the canonical text. */
    public NodeId key() {
        return NodeId.ofName(format());
    }

    /** The domain of the user, in lower case. */
    public String domain() {
        return user.substring(user.lastIndexOf('@') + 1);
    }

    /** The user's address of record, {@code sip:user@domain}. */
    public String aor() {
        return "sip:" + user;
    }

    @Override
    public String toString() {
        return kind == Kind.PRIVATE ? kind.prefix + user + ":<secret>" : format();
    }
}
