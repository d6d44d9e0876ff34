package org.p2psip.sip.registrar;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Digest accounts held as HA1 values only (RFC 7616 §3.4.2: H(username:realm:password)), never passwords: what the
 * node's {@code sip-users} file stores. An account belongs to one realm; a REGISTER in another realm cannot use it
 * (HA1 depends on the realm), which {@link #whyNot} says in words.
 */
public final class Ha1Accounts implements Credentials {
    /** One account: user, realm, HA1 for MD5 (32 hex digits) and for SHA-256 (64 hex digits). */
    public record Account(String user, String realm, String md5Ha1, String sha256Ha1) {
        public Account {
            if (user == null || user.isEmpty() || realm == null || realm.isEmpty()) {
                throw new IllegalArgumentException("an account needs a user and a realm");
            }
            if (!md5Ha1.matches("[0-9a-f]{32}") || !sha256Ha1.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException("account " + user + "@" + realm
                        + ": an HA1 is 32 (MD5) or 64 (SHA-256) lower-case hex digits");
            }
        }
    }

    private final Map<String, List<Account>> byUser = new HashMap<>();
    private final int size;

    public Ha1Accounts(List<Account> accounts) {
        for (Account a : accounts) {
            byUser.computeIfAbsent(a.user(), k -> new ArrayList<>()).add(a);
        }
        byUser.replaceAll((k, v) -> List.copyOf(v));
        size = accounts.size();
    }

    private Optional<Account> find(String user, String realm) {
        return byUser.getOrDefault(user, List.of()).stream().filter(a -> a.realm().equals(realm)).findFirst();
    }

    @Override
    public Optional<String> ha1(String user, String realm, String algorithm) {
        return find(user, realm).flatMap(a -> switch (algorithm.toUpperCase(Locale.ROOT)) {
            case "MD5" -> Optional.of(a.md5Ha1());
            case "SHA-256" -> Optional.of(a.sha256Ha1());
            default -> Optional.empty();
        });
    }

    @Override
    public String whyNot(String user, String realm) {
        List<Account> other = byUser.getOrDefault(user, List.of());
        if (other.isEmpty()) {
            return "unknown user " + user;
        }
        return "user " + user + " has an account only for realm " + other.get(0).realm() + ", not for this peer's"
                + " realm " + realm + " (HA1 depends on the realm); add it again with p2psip user add " + user + "@"
                + realm;
    }

    /** The SHA-256 HA1: a secret every peer holding this account shares, as good as the password for digest. */
    @Override
    public Optional<String> recordSecret(String user, String realm) {
        return ha1(user, realm, "SHA-256");
    }

    @Override
    public int size() {
        return size;
    }

    /** The accounts whose realm is not {@code realm} (they cannot authenticate here). */
    public List<Account> outside(String realm) {
        return byUser.values().stream().flatMap(List::stream).filter(a -> !a.realm().equals(realm)).toList();
    }
}
