package org.p2psip.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * coturn's echo peer {@code turnutils_peer} on 127.0.0.1, for tests that drive {@code turnutils_uclient}. Its port p
 * has p+1 free too, since uclient sends RTCP to the port after the peer's.
 *
 * <p>Readiness is read from {@code /proc/net/udp}, never by binding the port to see whether it is taken: such a probe
 * holds the port for a moment, and a peer that binds in that moment fails (a CI run failed so). If the peer exits
 * anyway (another process took the port), it is started again on another pair.
 */
public final class EchoPeer implements AutoCloseable {
    private final Process process;
    private final int port;

    private EchoPeer(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts the peer and returns once it holds its port; an AssertionError after three failed tries. */
    public static EchoPeer start() throws Exception {
        String binary = Prerequisites.which("turnutils_peer");
        String last = "";
        for (int attempt = 0; attempt < 3; attempt++) {
            int port = freePortPair();
            Process p = new ProcessBuilder(binary, "-L", "127.0.0.1", "-p", String.valueOf(port))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (p.isAlive() && !listening(port) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            if (p.isAlive() && listening(port)) {
                return new EchoPeer(p, port);
            }
            last = p.isAlive() ? "still not listening after 10 s" : "exited with " + p.exitValue();
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        throw new AssertionError("turnutils_peer did not bind a UDP port on 127.0.0.1 in 3 tries (last: " + last
                + "); check that coturn's tools run here");
    }

    /** The peer's UDP port on 127.0.0.1. */
    public int port() {
        return port;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    /** Whether a UDP socket is bound to 127.0.0.1:port, as the kernel lists it. */
    static boolean listening(int port) {
        String needle = String.format(Locale.ROOT, "0100007F:%04X ", port);
        try {
            for (String line : Files.readAllLines(Path.of("/proc/net/udp"))) {
                if (line.contains(needle)) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/net/udp to see whether turnutils_peer is up", e);
        }
    }

    /** A port p below 65000 with p+1 free as well. */
    static int freePortPair() throws IOException {
        for (int i = 0; i < 50; i++) {
            int port;
            try (DatagramSocket s = new DatagramSocket(0)) {
                port = s.getLocalPort();
            }
            if (port >= 65_000) {
                continue;
            }
            try (DatagramSocket next = new DatagramSocket(port + 1)) {
                return port;
            } catch (SocketException taken) {
                // try another
            }
        }
        throw new IllegalStateException("no free UDP port pair on this machine after 50 tries");
    }
}
