package org.p2psip.testbed;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Datagrams the kernel dropped at this machine's UDP sockets because their receive buffer was full (the
 * {@code drops} column of {@code /proc/net/udp} and {@code /proc/net/udp6}), per named local port, between two
 * calls of {@link #next}. A drop at a receiver is a loss the sender only learns of by its timeout: in a bench round
 * they are what turns a short stall (a GC pause, a descheduled thread) into retransmissions and a collapse of the
 * rate. Linux only; elsewhere the line is empty.
 */
final class SocketDrops {
    private final Map<String, Integer> ports;
    private final Map<String, Long> last = new LinkedHashMap<>();

    /** @param ports a name per local UDP port to watch, in the order the line gives them */
    SocketDrops(Map<String, Integer> ports) {
        this.ports = ports;
        last.putAll(read());
    }

    /** Drops per named socket since the previous call, e.g. {@code node 0 12, peer 1 SIP 0}; empty off Linux. */
    String next() {
        Map<String, Long> now = read();
        if (now.isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, Long> e : now.entrySet()) {
            if (!b.isEmpty()) {
                b.append(", ");
            }
            b.append(e.getKey()).append(' ').append(e.getValue() - last.getOrDefault(e.getKey(), 0L));
        }
        last.clear();
        last.putAll(now);
        return b.toString();
    }

    private Map<String, Long> read() {
        Map<Integer, Long> byPort = new LinkedHashMap<>();
        for (String f : List.of("/proc/net/udp", "/proc/net/udp6")) {
            try {
                for (String line : Files.readAllLines(Path.of(f))) {
                    String[] c = line.trim().split("\\s+");
                    // sl local_address rem_address st tx:rx tr tm retrnsmt uid timeout inode ref pointer drops
                    if (c.length < 13 || !c[0].endsWith(":")) {
                        continue;
                    }
                    int colon = c[1].lastIndexOf(':');
                    int port = Integer.parseInt(c[1].substring(colon + 1).toLowerCase(Locale.ROOT), 16);
                    byPort.merge(port, Long.parseLong(c[c.length - 1]), Long::sum);
                }
            } catch (IOException | RuntimeException e) {
                // not Linux, or a format this does not know: no figures rather than wrong ones
            }
        }
        Map<String, Long> out = new LinkedHashMap<>();
        if (byPort.isEmpty()) {
            return out;
        }
        ports.forEach((name, port) -> out.put(name, byPort.getOrDefault(port, 0L)));
        return out;
    }
}
