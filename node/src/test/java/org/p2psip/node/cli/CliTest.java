package org.p2psip.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.p2psip.node.cli.CliRunner.cli;

import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.TestSupport;
import org.p2psip.node.cli.CliRunner.Cli;
import picocli.CommandLine;

/** The CLI without a cluster: usage errors, no node, version, and `run` in process. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CliTest {
    @TempDir
    Path tmp;

    @Test
    void noNodeOnTheControlPortIsAClearFailure() throws Exception {
        int port = TestSupport.freeTcpPort();
        Cli r = cli("status", "--control-port", Integer.toString(port));
        assertEquals(1, r.code());
        assertEquals("p2psip: no node answers on 127.0.0.1:" + port + "; start one with `p2psip run`\n", r.err());
        assertEquals(1, cli("get", "x", "--control-port", Integer.toString(port)).code());
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertEquals(2, cli().code());
        assertEquals(2, cli("frobnicate").code());
        assertEquals(2, cli("put", "only-a-name").code());
        assertEquals(2, cli("rm", "name", "value").code(), "rm without --secret");
        assertEquals(2, cli("get", "x", "--control-port", "abc").code());
        assertEquals(2, cli("get", "x", "--control-port", "70000").code());
        assertEquals(2, cli("put", "n", "v", "--ttl", "0").code());
        assertEquals(2, cli("put", "n", "x".repeat(80 * 1024)).code());
        assertEquals(2, cli("run", "--bootstrap", "host:notaport").code());
        assertEquals(2, cli("run", "--port", "-3").code());
    }

    @Test
    void versionAndHelp() {
        Cli v = cli("version");
        assertEquals(0, v.code());
        assertTrue(v.out().startsWith("p2psip "), v.out());
        assertEquals(0, cli("--version").code());
        Cli help = cli("help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("run") && help.out().contains("status"), help.out());
    }

    @Test
    void runServesUntilStopped() throws Exception {
        int control = TestSupport.freeTcpPort();
        CommandLine cl = Main.newCommandLine();
        RunCommand run = cl.getSubcommands().get("run").getCommand();
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> cl.execute("run",
                "--data-dir", tmp.resolve("d").toString(), "--bind", "127.0.0.1", "--port", "0",
                "--control-port", Integer.toString(control), "--xmlrpc-port", "0", "--metrics-port", "0", "--sip-port", "-1"));
        Cli status = null;
        for (int i = 0; i < 100; i++) {
            status = cli("status", "--control-port", Integer.toString(control));
            if (status.code() == 0) {
                break;
            }
            Thread.sleep(100);
        }
        assertEquals(0, status.code(), status.err());
        assertTrue(status.out().contains("joined yes"), status.out());
        run.stop();
        assertEquals(0, exit.get(20, TimeUnit.SECONDS));
        // The data dir is released: a second run with the same key can start.
        assertTrue(tmp.resolve("d").resolve("node.key").toFile().isFile());
    }

    @Test
    void runFailsCleanlyWhenThePortIsTaken() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(TestSupport.localhost(), 0))) {
            Cli r = cli("run", "--data-dir", tmp.resolve("d").toString(), "--bind", "127.0.0.1",
                    "--port", Integer.toString(taken.getLocalPort()), "--control-port", "0");
            assertEquals(1, r.code());
            assertTrue(r.err().contains("cannot start the node") && r.err().contains("--port"), r.err());
        }
    }

    @Test
    void runFailsCleanlyWhenTheSipPortIsTaken() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 5, TestSupport.localhost())) {
            Cli r = cli("run", "--data-dir", tmp.resolve("d").toString(), "--bind", "127.0.0.1", "--port", "0",
                    "--control-port", "-1", "--xmlrpc-port", "-1", "--metrics-port", "-1",
                    "--sip-port", Integer.toString(taken.getLocalPort()));
            assertEquals(1, r.code(), r.err());
            assertTrue(r.err().contains("cannot open the SIP port " + taken.getLocalPort())
                    && r.err().contains("--sip-port"), r.err());
        }
        assertEquals(2, cli("run", "--sip-port", "70000").code());
        Cli digest = cli("run", "--sip-digest", "SHA-1");
        assertEquals(2, digest.code(), digest.err());
        assertTrue(digest.err().contains("choose SHA-256 and/or MD5"), digest.err());
    }
}
