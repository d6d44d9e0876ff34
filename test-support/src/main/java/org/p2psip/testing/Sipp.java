package org.p2psip.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs real sipp (Debian: sip-tester) with the scenarios of the calling module's {@code src/test/resources/sipp}, in
 * the project's style: {@code -key domain}, {@code -key caller}, {@code -key expires}; {@code -s} is the callee or
 * registering user. Each run writes its statistics file in the test's directory, from which the final success and
 * failure counts are read. Without sipp a test fails under {@code CI=true} and skips elsewhere.
 */
public final class Sipp {
    /** A finished sipp run: exit status, final success and failure counts, output. */
    public record Result(int exit, long successful, long failed, String output) {
    }

    private final Path dir;
    private final String domain;
    private final String binary;

    private Sipp(Path dir, String domain, String binary) {
        this.dir = dir;
        this.domain = domain;
        this.binary = binary;
    }

    /** sipp with its work files in {@code dir}; fails (CI) or skips (elsewhere) when it is not installed. */
    public static Sipp require(Path dir, String domain) {
        Prerequisites.requireTools("sipp");
        return new Sipp(dir, domain, Prerequisites.which("sipp"));
    }

    private Path scenario(String name) throws IOException {
        Path p = dir.resolve(name);
        if (!Files.exists(p)) {
            try (InputStream in = Sipp.class.getResourceAsStream("/sipp/" + name)) {
                if (in == null) {
                    throw new IOException("no sipp scenario /sipp/" + name + " in the test resources");
                }
                Files.copy(in, p);
            }
        }
        return p;
    }

    private Path stats(String scenario, int port) {
        return dir.resolve(scenario + "-" + port + ".csv");
    }

    /** Starts sipp over UDP on 127.0.0.1:{@code localPort}; {@code remote} null for a UAS. */
    public Process start(String scenario, InetSocketAddress remote, int localPort, int calls, String... extra)
            throws IOException {
        return startOver("u1", scenario, remote, localPort, calls, extra);
    }

    /** As {@link #start}, over sipp's {@code -t} {@code transport} ({@code u1}, {@code t1}, {@code l1}...). */
    public Process startOver(String transport, String scenario, InetSocketAddress remote, int localPort, int calls,
                             String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(binary));
        if (remote != null) {
            cmd.add("127.0.0.1:" + remote.getPort());
        }
        cmd.addAll(List.of("-sf", scenario(scenario).toString(), "-t", transport, "-i", "127.0.0.1",
                "-p", Integer.toString(localPort), "-m", Integer.toString(calls), "-r", "10", "-l", "1",
                "-key", "domain", domain, "-key", "expires", "3600", "-key", "caller", "alice",
                "-nostdin", "-timeout", "30s", "-timeout_error",
                "-trace_stat", "-stf", stats(scenario, localPort).toString(), "-fd", "1"));
        cmd.addAll(Arrays.asList(extra));
        return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    }

    /**
     * Starts a sipp UAS (a phone that waits for calls) over UDP on 127.0.0.1:{@code localPort} and returns once it
     * holds that port, so that what the test sends next finds it listening (a fixed sleep was too short for a cold
     * sipp on a loaded machine).
     *
     * @throws AssertionError with sipp's output when it exited first (e.g. another process took the port) or did
     *         not bind within 20 s
     */
    public Process startUas(String scenario, int localPort, int calls, String... extra) throws Exception {
        Process p = start(scenario, null, localPort, calls, extra);
        if (UdpPorts.awaitBound(p, localPort, 20_000)) {
            return p;
        }
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        throw new AssertionError("the sipp UAS " + scenario + " did not bind 127.0.0.1:" + localPort
                + " within 20 s (was the port taken by another process?); its output:\n" + output);
    }

    /** Waits for a sipp run (at most 60 s) and reads its final success and failure counts. */
    public Result await(Process p, String scenario, int port) throws Exception {
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
        return new Result(p.exitValue(), Long.parseLong(last[header.indexOf("SuccessfulCall(C)")]),
                Long.parseLong(last[header.indexOf("FailedCall(C)")]), output);
    }

    /** Asserts exit 0, exactly {@code calls} successful and none failed, with sipp's output tail in the message. */
    public static void assertAllSucceeded(Result r, int calls, String what) {
        String tail = r.output().length() > 4000 ? r.output().substring(r.output().length() - 4000) : r.output();
        assertEquals(0, r.exit(), what + ": sipp exit status; output:\n" + tail);
        assertEquals(calls, r.successful(), what + "\n" + tail);
        assertEquals(0, r.failed(), what + "\n" + tail);
    }
}
