package org.p2psip.sip.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.p2psip.testing.Prerequisites;

/** Runs the sipp scenarios of {@code src/test/resources/sipp} from a test's directory and reads their counts. */
final class Sipp {
    record Result(int exit, long successful, long failed, String output) {
    }

    private final Path dir;
    private final String domain;

    Sipp(Path dir, String domain) {
        this.dir = dir;
        this.domain = domain;
    }

    static int freeUdpPort() throws Exception {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private Path scenario(String name) throws Exception {
        Path p = dir.resolve(name);
        if (!Files.exists(p)) {
            try (InputStream in = Sipp.class.getResourceAsStream("/sipp/" + name)) {
                Files.copy(in, p);
            }
        }
        return p;
    }

    /** Starts sipp over UDP from {@code localPort}: {@code remote} null for a UAS. */
    Process start(String scenario, InetSocketAddress remote, int localPort, int calls, String... extra)
            throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Prerequisites.which("sipp")));
        if (remote != null) {
            cmd.add("127.0.0.1:" + remote.getPort());
        }
        cmd.addAll(List.of("-sf", scenario(scenario).toString(), "-t", "u1", "-i", "127.0.0.1",
                "-p", Integer.toString(localPort), "-m", Integer.toString(calls), "-r", "10", "-l", "1",
                "-key", "domain", domain, "-key", "expires", "3600", "-key", "caller", "alice",
                "-nostdin", "-timeout", "30s", "-timeout_error",
                "-trace_stat", "-stf", stats(scenario, localPort).toString(), "-fd", "1"));
        cmd.addAll(Arrays.asList(extra));
        return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    }

    private Path stats(String scenario, int port) {
        return dir.resolve(scenario + "-" + port + ".csv");
    }

    /** Waits for sipp to finish and reads its last SuccessfulCall and FailedCall counts. */
    Result await(Process p, String scenario, int port) throws Exception {
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("sipp did not finish: " + scenario);
        }
        String output = new String(out, StandardCharsets.UTF_8);
        List<String> lines = Files.readAllLines(stats(scenario, port));
        List<String> header = Arrays.asList(lines.get(0).split(";"));
        String[] last = lines.get(lines.size() - 1).split(";");
        long ok = Long.parseLong(last[header.indexOf("SuccessfulCall(C)")]);
        long failed = Long.parseLong(last[header.indexOf("FailedCall(C)")]);
        return new Result(p.exitValue(), ok, failed, output);
    }

    static void assertAllSucceeded(Result r, int calls, String what) {
        String tail = r.output().length() > 4000 ? r.output().substring(r.output().length() - 4000) : r.output();
        assertEquals(0, r.exit(), what + ": sipp exit status; output:\n" + tail);
        assertEquals(calls, r.successful(), what + "\n" + tail);
        assertEquals(0, r.failed(), what + "\n" + tail);
    }
}
