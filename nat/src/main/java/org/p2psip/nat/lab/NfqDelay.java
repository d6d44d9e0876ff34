package org.p2psip.nat.lab;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The lab's delay where the kernel has no sch_netem: the C program {@code nfq-delay} (nat/src/main/c, shipped as a
 * class path resource) holds every packet of an NFQUEUE for a fixed time before accepting it. One instance per
 * namespace; iptables sends the packets a namespace <em>receives</em> on any interface but {@code lo} to it, from
 * the raw table's PREROUTING, i.e. before conntrack and NAT see them, so a held packet has no unconfirmed conntrack
 * entry that a later packet of the same flow could clash with (a clash would make MASQUERADE pick another port).
 * The rule has {@code --queue-bypass}: if the program dies, packets pass undelayed instead of stalling.
 *
 * <p>The program is compiled once per lab with gcc against libnetfilter_queue, into the lab's temporary directory.
 */
final class NfqDelay {
    static final String CHAIN = "P2PDELAY";
    static final int QUEUE = 7;
    private static final String RESOURCE = "/org/p2psip/nat/lab/nfq-delay.c";

    private final NatLab lab;
    private final Map<String, Running> running = new HashMap<>();
    private Path dir;
    private Path binary;

    private record Running(Process process, ProcessLog log, Duration delay) {
    }

    NfqDelay(NatLab lab) {
        this.lab = lab;
    }

    /** What stops the fallback from working here (empty when it can): gcc and libnetfilter_queue's header. */
    static List<String> prerequisiteProblems() {
        List<String> problems = new ArrayList<>();
        if (NatLab.which("gcc") == null) {
            problems.add("'gcc' not found (Debian package gcc)");
        }
        if (!Files.isRegularFile(Path.of("/usr/include/libnetfilter_queue/libnetfilter_queue.h"))) {
            problems.add("libnetfilter_queue's header not found (Debian package libnetfilter-queue-dev)");
        }
        return problems;
    }

    /**
     * Delays every packet {@code ns} receives (not on lo) by {@code delay}, replacing an earlier delay there. Returns
     * once the program has bound its queue and the rule is in place.
     */
    synchronized void start(String ns, Duration delay) {
        stop(ns);
        Path bin = compile();
        Process p = lab.spawn(ns, List.of(bin.toString(), String.valueOf(QUEUE), String.valueOf(delay.toMillis())));
        ProcessLog log = new ProcessLog(p, "nfq-delay " + ns);
        log.await(l -> l.startsWith("ready "), l -> l.startsWith("nfq-delay: "), 20, "nfq-delay in " + ns);
        running.put(ns, new Running(p, log, delay));
        lab.iptables(ns, List.of("-t", "raw", "-N", CHAIN));
        lab.iptables(ns, List.of("-t", "raw", "-A", CHAIN, "-j", "NFQUEUE", "--queue-num", String.valueOf(QUEUE),
                "--queue-bypass"));
        lab.iptables(ns, List.of("-t", "raw", "-A", "PREROUTING", "!", "-i", "lo", "-j", CHAIN));
    }

    /** Removes the rule and stops the program in {@code ns} (held packets are accepted at once); no-op if none. */
    synchronized void stop(String ns) {
        Running r = running.remove(ns);
        if (r == null) {
            return;
        }
        // Rule first, so no packet is queued to a queue nobody will bind again.
        lab.iptables(ns, List.of("-t", "raw", "-D", "PREROUTING", "!", "-i", "lo", "-j", CHAIN));
        lab.iptables(ns, List.of("-t", "raw", "-F", CHAIN));
        lab.iptables(ns, List.of("-t", "raw", "-X", CHAIN));
        String stats = terminate(r);
        if (stats != null) {
            System.err.println("nfq-delay in " + ns + ": " + stats);
        }
    }

    /**
     * SIGTERM through the process handle (Process.destroy would also close the pipe, losing the statistics line),
     * then the statistics line, or null if the program printed none within 2 s.
     */
    private static String terminate(Running r) {
        r.process().toHandle().destroy();
        try {
            r.process().waitFor(2, java.util.concurrent.TimeUnit.SECONDS);
            return r.log().await(l -> l.startsWith("stats "), l -> false, 2, "nfq-delay's statistics");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (LabException noStats) {
            return null;
        }
    }

    /**
     * Stops every instance (the lab calls this first on close, while the rules are still there: held packets are
     * accepted) and returns their summed statistics, or null when none ran.
     */
    synchronized String stopAll() {
        if (running.isEmpty()) {
            return null;
        }
        long[] sums = new long[3];
        int reported = 0;
        String[] keys = {"delayed=", "dropped_full=", "netlink_overruns="};
        for (Running r : running.values()) {
            String line = terminate(r);
            if (line == null) {
                continue;
            }
            reported++;
            for (int i = 0; i < keys.length; i++) {
                int at = line.indexOf(keys[i]);
                if (at >= 0) {
                    sums[i] += Long.parseLong(line.substring(at + keys[i].length()).split("\\s+")[0]);
                }
            }
        }
        int n = running.size();
        running.clear();
        return String.format(java.util.Locale.ROOT, "nfq-delay: %d instances (%d reported): %d packets delayed,"
                + " %d dropped (ring full), %d netlink overruns", n, reported, sums[0], sums[1], sums[2]);
    }

    /** Compiles the program once (into the lab's temporary directory) and returns its path. */
    private Path compile() {
        if (binary != null) {
            return binary;
        }
        List<String> problems = prerequisiteProblems();
        if (!problems.isEmpty()) {
            throw new LabException("cannot emulate delay: this kernel has no sch_netem, and the NFQUEUE fallback"
                    + " (nfq-delay) cannot be built: " + String.join("; ", problems)
                    + ". Install them (apt-get install gcc libnetfilter-queue-dev)");
        }
        try {
            dir = Files.createTempDirectory(lab.prefix() + "-nfqdelay");
            Path source = dir.resolve("nfq-delay.c");
            try (InputStream in = NfqDelay.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new LabException("resource " + RESOURCE + " missing from the class path (a broken build"
                            + " of the nat module: it comes from nat/src/main/c)");
                }
                Files.copy(in, source, StandardCopyOption.REPLACE_EXISTING);
            }
            Path bin = dir.resolve("nfq-delay");
            NatLab.Shell.run(List.of("gcc", "-O2", "-Wall", "-o", bin.toString(), source.toString(),
                    "-lnetfilter_queue"));
            binary = bin;
            return bin;
        } catch (IOException e) {
            throw new LabException("cannot build nfq-delay in " + dir + ": " + e.getMessage());
        }
    }

    /** Deletes the build directory (the lab has already killed the instances). */
    synchronized void deleteFiles() {
        running.clear();
        if (dir == null) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | java.io.UncheckedIOException ignored) {
            // best effort
        }
    }
}
