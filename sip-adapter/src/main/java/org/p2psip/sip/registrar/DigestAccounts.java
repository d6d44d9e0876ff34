package org.p2psip.sip.registrar;

import java.util.Map;
import java.util.Optional;

/** Per-user digest accounts held as plaintext passwords (user name to password), valid in any realm. Tests and benches. */
public record DigestAccounts(Map<String, String> passwords) implements Credentials {
    public DigestAccounts {
        passwords = Map.copyOf(passwords);
    }

    public static DigestAccounts of(Map<String, String> passwords) {
        return new DigestAccounts(passwords);
    }

    public Optional<String> password(String user) {
        return Optional.ofNullable(passwords.get(user));
    }

    @Override
    public Optional<String> ha1(String user, String realm, String algorithm) {
        return password(user).map(pw -> DigestAuthenticator.h(algorithm, user + ":" + realm + ":" + pw));
    }

    /** The password itself (as before HA1 accounts existed, so existing {@code private:} records still open). */
    @Override
    public Optional<String> recordSecret(String user, String realm) {
        return password(user);
    }

    @Override
    public int size() {
        return passwords.size();
    }
}
