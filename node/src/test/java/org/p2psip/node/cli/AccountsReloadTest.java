package org.p2psip.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;
import org.p2psip.node.sip.SipOptions;
import org.p2psip.testing.Sipp;
import org.p2psip.storage.PrivateKeyRecord;

/**
 * {@code p2psip user add} on a running node takes effect without a restart: a real sipp REGISTER with digest is
 * refused while bob has no account, succeeds after {@code user add bob@p2p.test} (the CLI, in this JVM, writing the
 * node's {@code sip-users}), and is refused again after {@code user rm}.
 */
@Timeout(120)
class AccountsReloadTest {
    static final String DOMAIN = "p2p.test";

    @TempDir
    Path tmp;

    @Test
    void userAddTakesEffectOnARunningNode() throws Exception {
        Sipp sipp = Sipp.require(tmp, DOMAIN);
        Path dir = tmp.resolve("node");
        Files.createDirectories(dir);
        Path pw = tmp.resolve("pw");
        Files.writeString(pw, "bob-secret\n");
        SipOptions sip = new SipOptions(0, List.of(DOMAIN), null, null).withAlgorithms(List.of("MD5"))
                .withKeyKdf(new PrivateKeyRecord.KdfParams(1024, 1, 1));
        try (Peer p = TestSupport.peer(dir).sip(sip).build()) {
            p.start().get(60, TimeUnit.SECONDS);
            Sipp.Result before = register(sipp, p);
            assertNotEquals(1, before.successful(), "no account yet: the REGISTER is refused\n" + before.output());

            CliRunner.Cli add = CliRunner.cli("user", "add", "bob@" + DOMAIN, "--password-file", pw.toString(),
                    "--data-dir", dir.toString());
            assertEquals(0, add.code(), add.err());
            awaitRecheck();
            Sipp.assertAllSucceeded(register(sipp, p), 1, "REGISTER after 'p2psip user add', no restart");
            assertEquals(1, p.sip().registrar().localBindings());

            CliRunner.Cli rm = CliRunner.cli("user", "rm", "bob@" + DOMAIN, "--data-dir", dir.toString());
            assertEquals(0, rm.code(), rm.err());
            awaitRecheck();
            assertNotEquals(1, register(sipp, p).successful(), "the account is gone: refused again");
        }
    }

    /** The node looks at the accounts file at most once a second: let that second pass. */
    static void awaitRecheck() throws InterruptedException {
        Thread.sleep(org.p2psip.node.accounts.ReloadingAccounts.CHECK_INTERVAL_NANOS / 1_000_000 + 200);
    }

    private static Sipp.Result register(Sipp sipp, Peer p) throws Exception {
        int port = TestSupport.freeUdpPort();
        Process reg = sipp.start("register_auth.xml", p.sip().localAddress(), port, 1, "-s", "bob", "-au", "bob",
                "-ap", "bob-secret");
        return sipp.await(reg, "register_auth.xml", port);
    }
}
