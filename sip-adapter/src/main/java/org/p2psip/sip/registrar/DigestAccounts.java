package org.p2psip.sip.registrar;

import java.util.Map;
import java.util.Optional;

/** Per-user digest accounts: user name to password. A placeholder for the node's account configuration. */
public record DigestAccounts(Map<String, String> passwords) {
    public DigestAccounts {
        passwords = Map.copyOf(passwords);
    }

    public static DigestAccounts of(Map<String, String> passwords) {
        return new DigestAccounts(passwords);
    }

    public Optional<String> password(String user) {
        return Optional.ofNullable(passwords.get(user));
    }
}
