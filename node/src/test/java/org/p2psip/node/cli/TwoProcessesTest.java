package org.p2psip.node.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.p2psip.node.cli.CliRunner.cli;

import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.xmlrpc.client.XmlRpcClient;
import org.apache.xmlrpc.client.XmlRpcClientConfigImpl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.TestSupport;
import org.p2psip.node.cli.CliRunner.Cli;

/**
 * The acceptance: two {@code p2psip run} processes (separate JVMs) on loopback find each other through
 * {@code --bootstrap}; a value put through one is got through the other, with the CLI and with an XML-RPC client.
 * The second process is configured through its configuration file and the environment. Site mode too: the second
 * runs with role auto (from the environment) and a third with {@code --role leaf}, on a static site list; the second
 * is elected superpeer of their site and the leaf's gets go through it.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TwoProcessesTest {
    @TempDir
    Path tmp;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    private Process run(Path log, List<String> args, java.util.Map<String, String> env) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "run"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("P2PSIP_"));
        pb.environment().putAll(env);
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    private static void awaitJoined(int control, Path log) throws Exception {
        Cli s = null;
        for (int i = 0; i < 600; i++) {
            s = cli("status", "--control-port", Integer.toString(control));
            if (s.code() == 0 && s.out().contains("joined yes") && !s.out().contains("neighbours 0\n")) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the node on control port " + control + " did not join: " + (s == null ? "" : s.out() + s.err())
                + "\n" + Files.readString(log));
    }

    private static XmlRpcClient xmlrpc(int port) throws Exception {
        XmlRpcClientConfigImpl c = new XmlRpcClientConfigImpl();
        c.setServerURL(new URL("http://127.0.0.1:" + port + "/RPC2"));
        c.setReplyTimeout(40_000);
        XmlRpcClient x = new XmlRpcClient();
        x.setConfig(c);
        return x;
    }

    @Test
    void twoRunProcessesShareValuesThroughTheCliAndXmlRpc() throws Exception {
        int udp1 = TestSupport.freeUdpPort();
        int control1 = TestSupport.freeTcpPort();
        int xml1 = TestSupport.freeTcpPort();
        int control2 = TestSupport.freeTcpPort();
        int xml2 = TestSupport.freeTcpPort();
        int control3 = TestSupport.freeTcpPort();
        int xml3 = TestSupport.freeTcpPort();
        int site2 = TestSupport.freeUdpPort();
        int site3 = TestSupport.freeUdpPort();
        run(tmp.resolve("1.log"), List.of("--data-dir", tmp.resolve("n1").toString(), "--bind", "127.0.0.1",
                "--port", Integer.toString(udp1), "--control-port", Integer.toString(control1),
                "--xmlrpc-port", Integer.toString(xml1), "--metrics-port", "-1", "--sip-port", "0"), java.util.Map.of());
        Path conf = tmp.resolve("n2.toml");
        Files.writeString(conf, "bind = \"127.0.0.1\"\nport = 0\ncontrol-port = " + control2 + "\nxmlrpc-port = " + xml2
                + "\nmetrics-port = -1\nsip-port = 0\nsite-port = " + site2 + "\nsite-multicast = false\n");
        run(tmp.resolve("2.log"), List.of("--config", conf.toString()), java.util.Map.of(
                "P2PSIP_DATA_DIR", tmp.resolve("n2").toString(), "P2PSIP_BOOTSTRAP", "127.0.0.1:" + udp1,
                "P2PSIP_ROLE", "auto", "P2PSIP_SITE_PEER", "127.0.0.1:" + site3));
        run(tmp.resolve("3.log"), List.of("--data-dir", tmp.resolve("n3").toString(), "--bind", "127.0.0.1",
                "--port", "0", "--control-port", Integer.toString(control3), "--xmlrpc-port", Integer.toString(xml3),
                "--metrics-port", "-1", "--sip-port", "-1", "--bootstrap", "127.0.0.1:" + udp1, "--role", "leaf",
                "--site-peer", "127.0.0.1:" + site2, "--site-port", Integer.toString(site3), "--site-multicast", "false"),
                java.util.Map.of());
        awaitJoined(control2, tmp.resolve("2.log"));
        awaitJoined(control1, tmp.resolve("1.log"));
        awaitJoined(control3, tmp.resolve("3.log"));
        String status2 = cli("status", "--control-port", Integer.toString(control2)).out();
        String status3 = cli("status", "--control-port", Integer.toString(control3)).out();
        assertTrue(status2.contains("role superpeer\n") && status2.contains("site-size 2\n"), status2);
        assertTrue(status3.contains("role leaf\n") && status3.contains("site-size 2\n"), status3);
        String id2 = status2.lines().filter(l -> l.startsWith("id ")).findFirst().orElseThrow().substring(3);
        assertTrue(status3.contains("primary " + id2 + "\n"), "the leaf's primary is the elected node:\n" + status3);

        Cli put = cli("put", "colors", "red", "--control-port", Integer.toString(control1));
        assertEquals(0, put.code(), put.err());
        Cli get = cli("get", "colors", "--control-port", Integer.toString(control2));
        assertEquals(0, get.code(), get.err());
        assertEquals("red\n", get.out());

        byte[] key = MessageDigest.getInstance("SHA-1").digest("sizes".getBytes(StandardCharsets.UTF_8));
        assertEquals(0, xmlrpc(xml2).execute("put", new Object[] {key, "large".getBytes(StandardCharsets.UTF_8), 600, "test"}));
        Object[] res = (Object[]) xmlrpc(xml1).execute("get", new Object[] {key, 10, new byte[0], "test"});
        Object[] values = (Object[]) res[0];
        assertEquals(1, values.length);
        assertArrayEquals("large".getBytes(StandardCharsets.UTF_8), (byte[]) values[0]);
        // and across: the CLI's name is the XML-RPC key SHA-1(name)
        assertEquals("large\n", cli("get", "sizes", "--control-port", Integer.toString(control1)).out());

        // the leaf reads and writes through its superpeer, with the CLI and XML-RPC
        assertEquals("red\n", cli("get", "colors", "--control-port", Integer.toString(control3)).out());
        Object[] fromLeaf = (Object[]) xmlrpc(xml3).execute("get", new Object[] {key, 10, new byte[0], "test"});
        assertArrayEquals("large".getBytes(StandardCharsets.UTF_8), (byte[]) ((Object[]) fromLeaf[0])[0]);
        assertEquals(0, cli("put", "shapes", "round", "--control-port", Integer.toString(control3)).code());
        assertEquals("round\n", cli("get", "shapes", "--control-port", Integer.toString(control1)).out());
    }
}
