package org.p2psip.superpeer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.p2psip.testing.Prerequisites;

/**
 * Multicast discovery between two network namespaces joined by a veth pair (192.0.2.1/24 and 192.0.2.2/24), each
 * running {@link MulticastLabMain} in its own JVM. Needs root and {@code ip}; when they are missing the test is
 * skipped, except under {@code CI=true} where it fails.
 */
class MulticastNamespaceTest {
    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out.trim());
        }
        return out;
    }

    private static void prerequisite(boolean ok, String what) {
        Prerequisites.require(ok ? List.of() : List.of("the multicast namespace lab cannot run: " + what));
    }

    @Test
    void twoNamespacesFindEachOtherByMulticastAndAgree() throws Exception {
        String uid;
        try {
            uid = run("id", "-u").trim();
        } catch (IOException e) {
            uid = "?";
        }
        prerequisite("0".equals(uid), "needs root (uid " + uid + ")");
        String suffix = Long.toString(ProcessHandle.current().pid() % 100000);
        String nsA = "spmc-a-" + suffix;
        String nsB = "spmc-b-" + suffix;
        String vA = "spmca" + suffix;
        String vB = "spmcb" + suffix;
        List<Process> children = new ArrayList<>();
        try {
            try {
                run("ip", "netns", "add", nsA);
                run("ip", "netns", "add", nsB);
                run("ip", "link", "add", vA, "netns", nsA, "type", "veth", "peer", "name", vB, "netns", nsB);
                run("ip", "-n", nsA, "addr", "add", "192.0.2.1/24", "dev", vA);
                run("ip", "-n", nsB, "addr", "add", "192.0.2.2/24", "dev", vB);
                for (String[] nv : new String[][] {{nsA, vA}, {nsB, vB}}) {
                    run("ip", "-n", nv[0], "link", "set", "lo", "up");
                    run("ip", "-n", nv[0], "link", "set", nv[1], "up");
                }
            } catch (IOException e) {
                prerequisite(false, e.getMessage());
            }
            String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
            String java = ProcessHandle.current().info().command().orElse("java");
            Map2 last = new Map2();
            String[][] who = {{nsA, "192.0.2.1", vA}, {nsB, "192.0.2.2", vB}};
            for (String[] w : who) {
                Process p = new ProcessBuilder("ip", "netns", "exec", w[0], java, "-Xmx64m", "-XX:TieredStopAtLevel=1",
                        "-cp", cp, MulticastLabMain.class.getName(), w[1], w[2], "true", "15")
                        .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .start();
                children.add(p);
                Thread t = new Thread(() -> {
                    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                            StandardCharsets.UTF_8))) {
                        String line;
                        while ((line = r.readLine()) != null) {
                            if (line.startsWith("STATUS ")) {
                                last.put(w[0], line);
                            } else if (line.contains("WARN") || line.contains("Exception") || line.contains("role")) {
                                System.out.println(w[0] + ": " + line);
                            }
                        }
                    } catch (IOException ignored) {
                        // child gone
                    }
                });
                t.setDaemon(true);
                t.start();
            }
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(14);
            String a = null;
            String b = null;
            while (System.nanoTime() < end) {
                a = last.get(nsA);
                b = last.get(nsB);
                if (a != null && b != null) {
                    String[] fa = a.split(" ");
                    String[] fb = b.split(" ");
                    if (fa[2].equals("2") && fb[2].equals("2") && fa[3].equals(fb[3]) && fa[3].contains(",")
                            && v6(fa) > 0 && v6(fb) > 0) {
                        break;
                    }
                }
                Thread.sleep(100);
            }
            System.out.println("A: " + a + "\nB: " + b);
            assertTrue(a != null && b != null, "both children report");
            String[] fa = a.split(" ");
            String[] fb = b.split(" ");
            assertEquals("2", fa[2], "A sees B by multicast");
            assertEquals("2", fb[2], "B sees A by multicast");
            assertEquals(fa[3], fb[3], "both elect the same superpeers");
            assertTrue(v4(fa) > 0 && v4(fb) > 0, "IPv4 multicast (239.255.42.42) delivered");
            assertTrue(v6(fa) > 0 && v6(fb) > 0, "IPv6 multicast (ff02::4242:5350) delivered");
        } finally {
            for (Process p : children) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
            for (String ns : new String[] {nsA, nsB}) {
                try {
                    run("ip", "netns", "del", ns);
                } catch (IOException ignored) {
                    // was never created
                }
            }
        }
    }

    private static long v4(String[] f) {
        return Long.parseLong(f[5].substring(3));
    }

    private static long v6(String[] f) {
        return Long.parseLong(f[6].substring(3));
    }

    private static final class Map2 extends ConcurrentHashMap<String, String> {
    }
}
