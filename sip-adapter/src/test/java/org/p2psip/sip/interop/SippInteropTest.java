package org.p2psip.sip.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.sip.SipStack;
import org.p2psip.testing.Prerequisites;
import org.p2psip.sip.transaction.TimerConfig;
import org.p2psip.sip.transport.SipTransport;

/**
 * Real sipp (Debian package {@code sip-tester}) against a tiny UAS on our stack over loopback. Under {@code CI=true}
 * a missing sipp fails the tests. Each run asserts sipp's exit status 0 and its successful-call count.
 */
class SippInteropTest {
    static final int CALLS = 20;

    @TempDir
    Path dir;
    TinyUas uas;
    SipStack stack;

    @BeforeEach
    void start() throws Exception {
        Prerequisites.requireTools("sipp");
        uas = new TinyUas();
        stack = SipStack.start(SipTransport.Config.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)),
                TimerConfig.DEFAULT, uas);
    }

    @AfterEach
    void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    record Result(int exit, long successful, long failed, String output) {
    }

    Path scenario(String name) throws Exception {
        Path p = dir.resolve(name);
        try (InputStream in = getClass().getResourceAsStream("/sipp/" + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    Result sipp(Path scenario, String transport, int calls) throws Exception {
        Path stats = dir.resolve(scenario.getFileName() + "-" + transport + ".csv");
        List<String> cmd = new ArrayList<>(List.of(Prerequisites.which("sipp"),
                "127.0.0.1:" + stack.transport().localAddress().getPort(),
                "-sf", scenario.toString(), "-t", transport, "-i", "127.0.0.1", "-s", "uas",
                "-m", Integer.toString(calls), "-r", "20", "-l", "10",
                "-nostdin", "-timeout", "30s", "-timeout_error",
                "-trace_stat", "-stf", stats.toString(), "-fd", "1"));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("sipp did not finish: " + cmd);
        }
        String output = new String(out, StandardCharsets.UTF_8);
        List<String> lines = Files.readAllLines(stats);
        List<String> header = Arrays.asList(lines.get(0).split(";"));
        String[] last = lines.get(lines.size() - 1).split(";");
        long ok = Long.parseLong(last[header.indexOf("SuccessfulCall(C)")]);
        long failed = Long.parseLong(last[header.indexOf("FailedCall(C)")]);
        return new Result(p.exitValue(), ok, failed, output);
    }

    void assertAllSucceeded(Result r, int calls) {
        String tail = r.output().length() > 4000 ? r.output().substring(r.output().length() - 4000) : r.output();
        assertEquals(0, r.exit(), "sipp exit status; output:\n" + tail);
        assertEquals(calls, r.successful(), tail);
        assertEquals(0, r.failed(), tail);
    }

    @Test
    void optionsOverUdp() throws Exception {
        assertAllSucceeded(sipp(scenario("options.xml"), "u1", CALLS), CALLS);
        assertEquals(CALLS, uas.answered.get());
        assertEquals(0, stack.transport().stats().malformed());
    }

    @Test
    void registerAndUnregisterOverUdp() throws Exception {
        assertAllSucceeded(sipp(scenario("register.xml"), "u1", CALLS), CALLS);
        assertEquals(2 * CALLS, uas.answered.get());
    }

    @Test
    void registerAndUnregisterOverTcp() throws Exception {
        assertAllSucceeded(sipp(scenario("register.xml"), "t1", CALLS), CALLS);
        assertEquals(2 * CALLS, uas.answered.get());
        assertEquals(0, stack.transport().stats().malformed());
    }

    @Test
    void tenKibMessageOverUdpArrivesWhole() throws Exception {
        String body = "0123456789abcdef".repeat(640); // 10 KiB
        String xml = new String(getClass().getResourceAsStream("/sipp/options.xml").readAllBytes(),
                StandardCharsets.UTF_8)
                .replace("OPTIONS sip:", "MESSAGE sip:")
                .replace("CSeq: 1 OPTIONS", "CSeq: 1 MESSAGE")
                .replace("Accept: application/sdp", "Content-Type: text/plain")
                .replace("Content-Length: [len]\n\n", "Content-Length: [len]\n\n      " + body + "\n");
        Path scenario = dir.resolve("message10k.xml");
        Files.writeString(scenario, xml);
        assertAllSucceeded(sipp(scenario, "u1", 5), 5);
        assertTrue(uas.largestBody.get() >= 10 * 1024, "largest body " + uas.largestBody.get());
    }
}
