package org.p2psip.testbed.docker;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The testbed's images, built on this machine by {@code testbed/docker/build-images.sh} (the same script users
 * run): a Debian base made with debootstrap and cached under a hash of its recipe, and the node, router and phone
 * images on top. The script's progress is copied to stdout as it comes.
 *
 * @param base   the base image, {@code p2psip/base:<recipe hash>}
 * @param node   the node image
 * @param router the NAT router image
 * @param phone  the sipp image
 * @param took   how long the build took (seconds when the base was cached, minutes when it was not)
 */
record TestbedImages(String base, String node, String router, String phone, Duration took) {
    private static final Pattern LAST = Pattern.compile("images base=(\\S+) node=(\\S+) router=(\\S+) phone=(\\S+)");
    private static final long TIMEOUT_MINUTES = 15;

    /** Runs the build script of the repository that holds {@code testbedDir} and returns the image names. */
    static TestbedImages build(Path testbedDir) throws IOException, InterruptedException {
        Path script = testbedDir.resolve("docker/build-images.sh");
        if (!Files.isRegularFile(script)) {
            throw new IllegalStateException(script + " is missing; run the tests from the p2psip repository");
        }
        long start = System.nanoTime();
        Process p = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true).start();
        String last = null;
        StringBuilder all = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                System.out.println("[images] " + line);
                all.append(line).append('\n');
                last = line;
            }
        }
        if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("building the testbed images took over " + TIMEOUT_MINUTES
                    + " minutes; run " + script + " by hand to see where it hangs");
        }
        Matcher m = last == null ? null : LAST.matcher(last);
        if (p.exitValue() != 0 || m == null || !m.matches()) {
            throw new IllegalStateException("building the testbed images failed (exit " + p.exitValue() + "); output:\n"
                    + all + "fix what it says, or run " + script + " by hand");
        }
        return new TestbedImages(m.group(1), m.group(2), m.group(3), m.group(4),
                Duration.ofNanos(System.nanoTime() - start));
    }
}
