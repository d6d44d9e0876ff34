package org.p2psip.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.p2psip.node.cli.CliRunner.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.accounts.DigestAccounts;
import org.p2psip.node.cli.CliRunner.Cli;
import org.p2psip.node.identity.SecureFiles;

/** {@code p2psip user add/rm/list} and the HA1 hashes it stores, checked against RFC 7616's worked example. */
class UserCommandTest {
    @TempDir
    Path tmp;

    private static String h(String alg, String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance(alg).digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    /** RFC 7616 §3.9.1: the response computed from our stored HA1 must be the RFC's. */
    private static String response(String alg, String ha1) throws Exception {
        String ha2 = h(alg, "GET:/dir/index.html");
        return h(alg, ha1 + ":7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v:00000001:"
                + "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ:auth:" + ha2);
    }

    @Test
    void addStoresHa1HashesThatAnswerRfc7616sChallenge() throws Exception {
        Path dd = tmp.resolve("d");
        Path pw = tmp.resolve("pw");
        Files.writeString(pw, "Circle of Life\n");
        Cli add = cli("user", "add", "Mufasa", "--realm", "http-auth@example.org", "--password-file", pw.toString(),
                "--data-dir", dd.toString());
        assertEquals(0, add.code(), add.err());
        Path file = dd.resolve(DigestAccounts.FILE_NAME);
        if (SecureFiles.posix(dd)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        }
        String text = Files.readString(file);
        assertTrue(!text.contains("Circle of Life"), "the password itself is never stored");
        DigestAccounts.Account a = DigestAccounts.find(file, "Mufasa", "http-auth@example.org").orElseThrow();
        assertEquals("8ca523f5e9506fed4657c9700eebdbec", response("MD5", a.ha1("MD5").orElseThrow()));
        assertEquals("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
                response("SHA-256", a.ha1("SHA-256").orElseThrow()));
    }

    @Test
    void addChangeListRemove() throws Exception {
        String dd = tmp.resolve("d").toString();
        Path pw = tmp.resolve("pw");
        Files.writeString(pw, "s3cret");
        assertTrue(cli("user", "add", "sip:bob@Example.NET", "--password-file", pw.toString(), "--data-dir", dd).out()
                .startsWith("added bob in realm example.net"));
        assertEquals(0, cli("user", "add", "alice@example.net", "--password-file", pw.toString(), "--data-dir", dd).code());
        Files.writeString(pw, "n3w");
        assertTrue(cli("user", "add", "bob@example.net", "--password-file", pw.toString(), "--data-dir", dd).out()
                .startsWith("changed the password of bob"));
        assertEquals("bob@example.net\nalice@example.net\n".lines().sorted().toList(),
                cli("user", "list", "--data-dir", dd).out().lines().sorted().toList());
        DigestAccounts.Account bob = DigestAccounts.find(Path.of(dd, DigestAccounts.FILE_NAME), "bob", "example.net").orElseThrow();
        assertEquals(h("SHA-256", "bob:example.net:n3w"), bob.sha256Ha1());
        assertEquals(0, cli("user", "rm", "bob@example.net", "--data-dir", dd).code());
        Cli again = cli("user", "rm", "bob@example.net", "--data-dir", dd);
        assertEquals(1, again.code());
        assertTrue(again.err().contains("no account bob in realm example.net"), again.err());
        assertEquals("alice@example.net\n", cli("user", "list", "--data-dir", dd).out());
    }

    @Test
    void badInputIsRefused() throws Exception {
        String dd = tmp.resolve("d").toString();
        Path pw = tmp.resolve("pw");
        Files.writeString(pw, "x");
        assertEquals(2, cli("user", "add", "bob", "--password-file", pw.toString(), "--data-dir", dd).code(), "no realm");
        assertEquals(2, cli("user", "add", "b:ob@example.net", "--password-file", pw.toString(), "--data-dir", dd).code());
        assertEquals(2, cli("user", "add", "bob@example.net", "--password-file", tmp.resolve("none").toString(),
                "--data-dir", dd).code());
        Files.writeString(pw, "\n");
        assertEquals(2, cli("user", "add", "bob@example.net", "--password-file", pw.toString(), "--data-dir", dd).code(), "empty");
        Cli noTerminal = cli("user", "add", "bob@example.net", "--data-dir", dd);
        assertEquals(2, noTerminal.code());
        assertTrue(noTerminal.err().contains("--password-file"), noTerminal.err());
        Files.createDirectories(Path.of(dd));
        Files.writeString(Path.of(dd, DigestAccounts.FILE_NAME), "# ok\nbob:example.net:zz:yy\n");
        Cli damaged = cli("user", "list", "--data-dir", dd);
        assertEquals(1, damaged.code());
        assertTrue(damaged.err().contains("line 2"), damaged.err());
    }
}
