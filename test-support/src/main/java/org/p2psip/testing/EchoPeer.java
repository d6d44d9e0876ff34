package org.p2psip.testing;

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
            int port = Ports.freeUdpPortPair();
            Process p = new ProcessBuilder(binary, "-L", "127.0.0.1", "-p", String.valueOf(port))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (UdpPorts.awaitBound(p, port, 10_000)) {
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
}
