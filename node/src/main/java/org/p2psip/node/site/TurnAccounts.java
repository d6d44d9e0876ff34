package org.p2psip.node.site;

import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.p2psip.nat.turn.CredentialStore;
import org.p2psip.node.accounts.ReloadingAccounts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's SIP digest accounts as TURN long-term credentials. RFC 8489 §9.2.2's key is MD5(user:realm:password),
 * which is the account's MD5 HA1 when the TURN realm is the SIP realm: a phone uses its SIP username and password
 * for TURN, and the node stores no new secret. Read through {@link ReloadingAccounts}, so {@code p2psip user add}
 * applies to the next Allocate. An account without an MD5 HA1 cannot use TURN (logged once per user).
 */
public final class TurnAccounts implements CredentialStore {
    private static final Logger LOG = LoggerFactory.getLogger(TurnAccounts.class);
    private static final int MAX_WARNED = 1024;

    private final ReloadingAccounts accounts;
    private final Set<String> warned = ConcurrentHashMap.newKeySet();

    public TurnAccounts(ReloadingAccounts accounts) {
        this.accounts = accounts;
    }

    @Override
    public byte[] key(String username, String realm) {
        Optional<String> ha1 = accounts.ha1(username, realm, "MD5");
        if (ha1.isEmpty()) {
            if (accounts.ha1(username, realm, "SHA-256").isPresent() && warned.size() < MAX_WARNED
                    && warned.add(username)) {
                LOG.warn("TURN: account {}@{} has no MD5 HA1, which TURN's long-term credentials need; it cannot "
                        + "allocate (add it again with 'p2psip user add {}@{}')", username, realm, username, realm);
            }
            return null;
        }
        return HexFormat.of().parseHex(ha1.get());
    }
}
