package org.p2psip.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Whether a program started by a test holds its UDP port yet, read from {@code /proc/net/udp}: never by binding the
 * port to see whether it is taken (such a probe holds the port for a moment, and the program binding in that moment
 * fails), and never by a fixed sleep (a cold program on a loaded machine takes longer than any sleep one picks).
 */
public final class UdpPorts {
    private UdpPorts() {
    }

    /** Whether a UDP socket is bound to 127.0.0.1:{@code port}, as the kernel lists it. */
    public static boolean boundOnLoopback(int port) {
        String needle = String.format(Locale.ROOT, "0100007F:%04X ", port);
        try {
            for (String line : Files.readAllLines(Path.of("/proc/net/udp"))) {
                if (line.contains(needle)) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/net/udp to see whether port " + port + " is bound", e);
        }
    }

    /**
     * Waits up to {@code maxMillis} until {@code process} holds 127.0.0.1:{@code port}.
     *
     * @return true once it does; false when the process exited first or the time ran out
     */
    public static boolean awaitBound(Process process, int port, long maxMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        while (process.isAlive() && System.nanoTime() < deadline) {
            if (boundOnLoopback(port)) {
                return true;
            }
            Thread.sleep(20);
        }
        return process.isAlive() && boundOnLoopback(port);
    }
}
