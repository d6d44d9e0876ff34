package org.p2psip.nat.turn;

import java.util.Map;
import org.p2psip.nat.stun.StunCodec;

/** Long-term credentials (RFC 8489 section 9.2) of a TURN server's users. */
@FunctionalInterface
public interface CredentialStore {
    /** The long-term key MD5(username ":" realm ":" password) of {@code username}, or null if there is no such user. */
    byte[] key(String username, String realm);

    /** Users and their passwords (the keys are derived per request; nothing is cached). */
    static CredentialStore passwords(Map<String, String> passwords) {
        Map<String, String> copy = Map.copyOf(passwords);
        return (user, realm) -> {
            String p = copy.get(user);
            return p == null ? null : StunCodec.longTermKey(user, realm, p);
        };
    }
}
