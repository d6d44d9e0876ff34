package org.p2psip.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.TestSupport;
import org.p2psip.node.cli.CliRunner.Cli;
import picocli.CommandLine;

/** The configuration file and environment overrides of {@code p2psip run}, with real nodes started in process. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConfigTest {
    @TempDir
    Path tmp;

    private static Cli cli(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.newCommandLine(env);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Cli(code, out.toString(), err.toString());
    }

    /** Starts {@code run} with {@code env} and {@code args}, waits for the control port, returns its STATUS, stops. */
    private static String runAndStatus(int control, Map<String, String> env, String... args) throws Exception {
        CommandLine cl = Main.newCommandLine(env);
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        RunCommand run = cl.getSubcommands().get("run").getCommand();
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> cl.execute(args));
        Cli status = null;
        for (int i = 0; i < 200 && !exit.isDone(); i++) {
            status = CliRunner.cli("status", "--control-port", Integer.toString(control));
            if (status.code() == 0) {
                break;
            }
            Thread.sleep(100);
        }
        run.stop();
        assertEquals(0, exit.get(20, TimeUnit.SECONDS), err.toString());
        assertTrue(status != null && status.code() == 0, "no status on control port " + control + ": " + err);
        return status.out();
    }

    private Path dataDir(String toml) throws Exception {
        Path d = Files.createDirectories(tmp.resolve("d"));
        Files.writeString(d.resolve(ConfigDefaults.FILE_NAME), toml);
        return d;
    }

    @Test
    void theFileInTheDataDirSetsTheOptions() throws Exception {
        int port = TestSupport.freeUdpPort();
        int control = TestSupport.freeTcpPort();
        Path d = dataDir("port = " + port + "\ncontrol-port = " + control + "\nbind = \"127.0.0.1\"\nxmlrpc-port = -1\nmetrics-port = -1\n"
                + "sip-port = 0\nsip-domain = [\"example.net\"]\n");
        String status = runAndStatus(control, Map.of(), "run", "--data-dir", d.toString());
        assertTrue(status.contains("address 127.0.0.1:" + port + "\n"), status);
        assertTrue(status.contains("sip 127.0.0.1:") && status.contains("sip-registrations 0\n"),
                "the file's sip-port = 0 started SIP on a free port: " + status);
        assertTrue(!status.contains("xmlrpc "), "the file disabled the gateway: " + status);
    }

    @Test
    void theEnvironmentOverridesTheFileAndTheCommandLineOverridesBoth() throws Exception {
        int filePort = TestSupport.freeUdpPort();
        int envPort = TestSupport.freeUdpPort();
        int cliPort = TestSupport.freeUdpPort();
        int control = TestSupport.freeTcpPort();
        Path conf = tmp.resolve("elsewhere.toml");
        Files.writeString(conf, "# a comment\nport = " + filePort + "\ncontrol-port = " + control
                + "\nbind = \"127.0.0.1\"\nxmlrpc-port = 0\nmetrics-port = 0\nbootstrap = []\nsip-port = -1\n");
        String d = tmp.resolve("d2").toString();
        Map<String, String> env = Map.of("P2PSIP_PORT", Integer.toString(envPort), "P2PSIP_CONFIG", conf.toString());
        String byEnv = runAndStatus(control, env, "run", "--data-dir", d);
        assertTrue(byEnv.contains("address 127.0.0.1:" + envPort + "\n"), byEnv);
        String byCli = runAndStatus(control, env, "run", "--data-dir", d, "--port", Integer.toString(cliPort));
        assertTrue(byCli.contains("address 127.0.0.1:" + cliPort + "\n"), byCli);
    }

    /** The run command's bootstrap list after parsing {@code args} as `p2psip` would (both passes). */
    private static java.util.List<String> bootstrapAfterParse(Map<String, String> env, String... args) {
        CommandLine cl = Main.newCommandLine(env);
        CommandLine.ParseResult first = cl.parseArgs(args);
        ConfigDefaults d = (ConfigDefaults) first.subcommand().commandSpec().defaultValueProvider();
        d.load(first.subcommand());
        cl.parseArgs(d.withRepeatableOptions(first.originalArgs(), first.subcommand()).toArray(new String[0]));
        return ((RunCommand) cl.getSubcommands().get("run").getCommand()).bootstrap;
    }

    @Test
    void repeatableOptionsTakeArraysAndCommaSeparatedVariables() throws Exception {
        String d = dataDir("bootstrap = [\"192.0.2.10:4222\", \"[2001:db8::1]:4222\", \"boot.example.net\"]\n").toString();
        assertEquals(java.util.List.of("192.0.2.10:4222", "[2001:db8::1]:4222", "boot.example.net"),
                bootstrapAfterParse(Map.of(), "run", "--data-dir", d));
        assertEquals(java.util.List.of("192.0.2.20:4222", "192.0.2.21:4222"),
                bootstrapAfterParse(Map.of("P2PSIP_BOOTSTRAP", "192.0.2.20:4222, 192.0.2.21:4222"), "run", "--data-dir", d));
        assertEquals(java.util.List.of("192.0.2.30:4222"), bootstrapAfterParse(Map.of("P2PSIP_BOOTSTRAP", "192.0.2.20:4222"),
                "run", "--data-dir", d, "--bootstrap", "192.0.2.30:4222"));
        Cli bad = cli(Map.of(), "run", "--data-dir", dataDir("bootstrap = [\"192.0.2.10:notaport\"]\n").toString());
        assertEquals(Main.USAGE, bad.code());
        assertTrue(bad.err().contains("--bootstrap") && bad.err().contains("key 'bootstrap'"), bad.err());
    }

    @Test
    void sipDomainsComeFromAnArrayKeyOrTheCommandLine() throws Exception {
        String d = dataDir("sip-domain = [\"example.net\", \"example.org\"]\nsip-port = 5070\n").toString();
        CommandLine cl = Main.newCommandLine(Map.of());
        CommandLine.ParseResult first = cl.parseArgs("run", "--data-dir", d);
        ConfigDefaults defaults = (ConfigDefaults) first.subcommand().commandSpec().defaultValueProvider();
        defaults.load(first.subcommand());
        cl.parseArgs(defaults.withRepeatableOptions(first.originalArgs(), first.subcommand()).toArray(new String[0]));
        RunCommand run = cl.getSubcommands().get("run").getCommand();
        assertEquals(java.util.List.of("example.net", "example.org"), run.sipDomains);
        assertEquals(5070, run.sipPort);
    }

    @Test
    void anUnknownKeyIsRefusedAndNamed() throws Exception {
        Path d = dataDir("prot = 4222\n");
        Cli r = cli(Map.of(), "run", "--data-dir", d.toString());
        assertEquals(Main.USAGE, r.code());
        assertTrue(r.err().contains("unknown key 'prot'") && r.err().contains(ConfigDefaults.FILE_NAME)
                && r.err().contains("port, "), r.err());
        // The file's own location and help options are not keys either.
        assertEquals(Main.USAGE, cli(Map.of(), "run", "--data-dir", dataDir("config = \"x.toml\"\n").toString()).code());
        assertEquals(Main.USAGE, cli(Map.of(), "run", "--data-dir", dataDir("help = true\n").toString()).code());
    }

    @Test
    void aBadValueIsRefusedWithItsKeyOrVariableNamed() throws Exception {
        Cli notInt = cli(Map.of(), "run", "--data-dir", dataDir("port = \"abc\"\n").toString());
        assertEquals(Main.USAGE, notInt.code());
        assertTrue(notInt.err().contains("key 'port'") && notInt.err().contains("abc"), notInt.err());
        Cli range = cli(Map.of(), "run", "--data-dir", dataDir("port = 70000\n").toString());
        assertEquals(Main.USAGE, range.code());
        assertTrue(range.err().contains("--port must be within") && range.err().contains("key 'port'"), range.err());
        Cli twoPorts = cli(Map.of(), "run", "--data-dir", dataDir("port = [1, 2]\n").toString());
        assertEquals(Main.USAGE, twoPorts.code());
        assertTrue(twoPorts.err().contains("key 'port' takes one value"), twoPorts.err());
        Cli bind = cli(Map.of(), "run", "--data-dir", dataDir("xmlrpc-bind = \"192.0.2.1\"\n").toString());
        assertEquals(Main.USAGE, bind.code());
        assertTrue(bind.err().contains("key 'xmlrpc-bind'"), bind.err());
        Cli table = cli(Map.of(), "run", "--data-dir", dataDir("[run]\nport = 1\n").toString());
        assertEquals(Main.USAGE, table.code());
        assertTrue(table.err().contains("'run' is a table"), table.err());
        Cli notToml = cli(Map.of(), "run", "--data-dir", dataDir("port = = 3\n").toString());
        assertEquals(Main.USAGE, notToml.code());
        assertTrue(notToml.err().contains("is not valid TOML"), notToml.err());
        Cli env = cli(Map.of("P2PSIP_CONTROL_PORT", "many"), "run", "--data-dir", tmp.resolve("d3").toString());
        assertEquals(Main.USAGE, env.code());
        assertTrue(env.err().contains("P2PSIP_CONTROL_PORT") && env.err().contains("many"), env.err());
        Cli security = cli(Map.of(), "run", "--data-dir", dataDir("link-security = \"tls\"\n").toString());
        assertEquals(Main.USAGE, security.code());
        assertTrue(security.err().contains("--link-security must be 'dtls'") && security.err().contains("'tls'")
                && security.err().contains("key 'link-security'"), security.err());
        Cli securityEnv = cli(Map.of("P2PSIP_LINK_SECURITY", "off"), "run", "--data-dir", tmp.resolve("d4").toString());
        assertEquals(Main.USAGE, securityEnv.code());
        assertTrue(securityEnv.err().contains("P2PSIP_LINK_SECURITY"), securityEnv.err());
        Cli missing = cli(Map.of(), "run", "--config", tmp.resolve("nope.toml").toString());
        assertEquals(Main.USAGE, missing.code());
        assertTrue(missing.err().contains("nope.toml does not exist"), missing.err());
    }

    @Test
    void theExampleFileHoldsOnlyKnownKeys() throws Exception {
        Path example = Path.of("p2psip.example.toml");
        assertTrue(Files.isRegularFile(example), "node/p2psip.example.toml is missing");
        ConfigFile f = ConfigFile.load(example);
        CommandLine run = Main.newCommandLine(Map.of()).getSubcommands().get("run");
        for (String key : f.values().keySet()) {
            assertTrue(run.getCommandSpec().findOption("--" + key) != null, "the example sets an unknown key " + key);
        }
        // Every value in it passes the options' own checks: the run gets as far as the command line's bad port.
        Cli r = cli(Map.of(), "run", "--config", example.toString(), "--data-dir", tmp.resolve("x").toString(), "--port", "70000");
        assertEquals(Main.USAGE, r.code());
        assertTrue(r.err().lines().findFirst().orElse("").equals("--port must be within 0..65535"), r.err());
    }
}
