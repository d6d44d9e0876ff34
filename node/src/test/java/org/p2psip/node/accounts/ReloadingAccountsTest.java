package org.p2psip.node.accounts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The accounts file is re-read when it changes (its version checked at most once a second); a broken version keeps
 * the accounts read before.
 */
class ReloadingAccountsTest {
    @TempDir
    Path tmp;

    @Test
    void followsTheFile() throws Exception {
        Path f = tmp.resolve(DigestAccounts.FILE_NAME);
        long[] nanos = {0};
        ReloadingAccounts acc = ReloadingAccounts.open(f, "p2p.test", () -> nanos[0] += ReloadingAccounts.CHECK_INTERVAL_NANOS);
        assertEquals(0, acc.size(), "no file: no accounts");

        DigestAccounts.Account bob = DigestAccounts.account("bob", "p2p.test", "pw".toCharArray());
        DigestAccounts.put(f, bob);
        assertEquals(bob.md5Ha1(), acc.ha1("bob", "p2p.test", "MD5").orElseThrow(), "added: seen at the next use");
        assertEquals(bob.sha256Ha1(), acc.recordSecret("bob", "p2p.test").orElseThrow());

        DigestAccounts.put(f, DigestAccounts.account("alice", "p2p.test", "pw2".toCharArray()));
        assertEquals(2, acc.size());

        Files.writeString(f, "this line is broken\n", StandardOpenOption.APPEND);
        assertEquals(2, acc.size(), "a broken file keeps the accounts read before");
        assertTrue(acc.ha1("bob", "p2p.test", "MD5").isPresent());

        Files.writeString(f, "bob:p2p.test:" + bob.md5Ha1() + ":" + bob.sha256Ha1() + "\n");
        assertEquals(1, acc.size(), "fixed: read again");
        assertTrue(acc.ha1("alice", "p2p.test", "MD5").isEmpty());

        Files.delete(f);
        assertEquals(0, acc.size(), "deleted: no accounts");
        assertTrue(acc.reloads() >= 4, "reloads: " + acc.reloads());
    }

    @Test
    void statsTheFileAtMostOnceASecond() throws Exception {
        Path f = tmp.resolve(DigestAccounts.FILE_NAME);
        long[] nanos = {0};
        ReloadingAccounts acc = ReloadingAccounts.open(f, "p2p.test", () -> nanos[0]);
        DigestAccounts.put(f, DigestAccounts.account("bob", "p2p.test", "pw".toCharArray()));
        nanos[0] += ReloadingAccounts.CHECK_INTERVAL_NANOS - 1;
        assertEquals(0, acc.size(), "within a second of the last check: the file is not looked at");
        assertEquals(0, acc.reloads());
        nanos[0] += 1;
        assertEquals(1, acc.size(), "a second later: the change is seen");
        assertEquals(1, acc.reloads());
    }
}
