package org.p2psip.testbed;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The reference side of {@code bench sip}: Kamailio (Debian {@code kamailio}) started on 127.0.0.1 as a minimal
 * in-memory registrar ({@code kamailio/kamailio.cfg}: usrloc {@code db_mode 0}, registrar, sl), measured with the same
 * sipp REGISTER sweep as our peer. Two runs, each on a fresh Kamailio: without authentication (the reference)
 * and with MD5 digest ({@code -A WITH_AUTH}, the same 401 and second REGISTER as ours).
 */
final class KamailioReference {
    /** One sipp sweep against a registrar listening on 127.0.0.1:port. */
    @FunctionalInterface
    interface Sweeper {
        SipBench.Sweep sweep(String label, String scenario, int port, java.util.function.LongSupplier cpuNanos)
                throws Exception;
    }

    /** Kamailio's sustained REGISTER rates, without and with digest. */
    record Figures(SipBench.Sweep plain, SipBench.Sweep digest) {
    }

    private final String binaryName;
    private final Path dir;
    private final PrintWriter out;

    KamailioReference(String binaryName, Path dir, PrintWriter out) {
        this.binaryName = binaryName;
        this.dir = dir;
        this.out = out;
    }

    /** Runs both sweeps, or returns null (with a note on the output) when Kamailio is off or not installed. */
    Figures measure(Sweeper sweeper) throws Exception {
        if ("none".equals(binaryName)) {
            return null;
        }
        String binary = SipBench.findExecutable(binaryName);
        if (binary == null && !binaryName.contains("/")) {
            binary = SipBench.findExecutable("/usr/sbin/" + binaryName);
        }
        if (binary == null) {
            out.printf("kamailio not found (%s): no side-by-side reference; install it with 'apt-get install kamailio'"
                    + " (Debian 12: 5.6), or give its path with --kamailio%n", binaryName);
            out.flush();
            return null;
        }
        Path cfg = dir.resolve("kamailio.cfg");
        try (InputStream in = KamailioReference.class.getResourceAsStream("/kamailio/kamailio.cfg")) {
            Files.copy(in, cfg);
        }
        Path runtime = Files.createDirectories(dir.resolve("kamailio-run"));
        SipBench.Sweep plain;
        SipBench.Sweep digest;
        int port = freeUdpPort();
        Process k = start(binary, cfg, runtime, port, false);
        try {
            plain = sweeper.sweep("kamailio REGISTER (no auth)", "bench_register_noauth.xml", port, cpuOf(k));
        } finally {
            stop(k);
        }
        port = freeUdpPort();
        k = start(binary, cfg, runtime, port, true);
        try {
            digest = sweeper.sweep("kamailio REGISTER (digest)", "bench_register.xml", port, cpuOf(k));
        } finally {
            stop(k);
        }
        return new Figures(plain, digest);
    }

    private Process start(String binary, Path cfg, Path runtime, int port, boolean auth) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(binary, "-f", cfg.toString(), "-DD", "-E",
                "-l", "udp:127.0.0.1:" + port, "-Y", runtime.toString(), "-m", "64", "-M", "8"));
        if (auth) {
            cmd.addAll(List.of("-A", "WITH_AUTH"));
        }
        Path log = dir.resolve(auth ? "kamailio-digest.log" : "kamailio.log");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        out.printf("kamailio %s on 127.0.0.1:%d (pid %d, log %s)%n", auth ? "with digest" : "without auth", port,
                p.pid(), log);
        out.flush();
        awaitAnswer(p, port, log);
        return p;
    }

    /** Waits until Kamailio answers an OPTIONS on its port (its cfg answers 405), up to 20 s. */
    private static void awaitAnswer(Process p, int port, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            s.setSoTimeout(200);
            String options = "OPTIONS sip:ping@127.0.0.1:" + port + " SIP/2.0\r\n"
                    + "Via: SIP/2.0/UDP 127.0.0.1:" + s.getLocalPort() + ";branch=z9hG4bK-bench-ping;rport\r\n"
                    + "From: <sip:bench@127.0.0.1>;tag=ping\r\nTo: <sip:ping@127.0.0.1>\r\nCall-ID: bench-ping\r\n"
                    + "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
            byte[] req = options.getBytes(StandardCharsets.US_ASCII);
            byte[] buf = new byte[4096];
            while (System.nanoTime() < deadline) {
                if (!p.isAlive()) {
                    throw new IllegalStateException("kamailio exited with " + p.exitValue() + "; see " + log);
                }
                s.send(new DatagramPacket(req, req.length, new InetSocketAddress("127.0.0.1", port)));
                try {
                    s.receive(new DatagramPacket(buf, buf.length));
                    return;
                } catch (SocketTimeoutException notYet) {
                    // not listening yet
                }
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("kamailio did not answer on 127.0.0.1:" + port + " within 20 s; see " + log);
    }

    /** SIGTERM to Kamailio's main process (it stops its children), SIGKILL after 10 s. */
    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    /** CPU time of Kamailio's main process and its workers (ns), or -1 where the OS does not tell. */
    private static java.util.function.LongSupplier cpuOf(Process p) {
        return () -> {
            long[] sum = {0};
            boolean[] known = {true};
            java.util.stream.Stream.concat(java.util.stream.Stream.of(p.toHandle()), p.descendants()).forEach(h ->
                    h.info().totalCpuDuration().ifPresentOrElse(d -> sum[0] += d.toNanos(), () -> known[0] = false));
            return known[0] ? sum[0] : -1;
        };
    }

    private static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
