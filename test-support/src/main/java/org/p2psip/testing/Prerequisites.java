package org.p2psip.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * Test prerequisites (external tools, root, namespaces, Docker). Under {@code CI=true} a missing prerequisite fails
 * the test, because a skipped test proves nothing in CI; elsewhere it skips the test, with the reason.
 */
public final class Prerequisites {
    private Prerequisites() {
    }

    /** Whether this run is CI's ({@code CI=true}). */
    public static boolean underCi() {
        return "true".equals(System.getenv("CI"));
    }

    /** Fails (CI) or skips (elsewhere) unless {@code problems} is empty. */
    public static void require(List<String> problems) {
        require(problems, underCi());
    }

    /** As {@link #require(List)}, with the CI flag given (so both behaviours can be tested anywhere). */
    public static void require(List<String> problems, boolean ci) {
        if (problems.isEmpty()) {
            return;
        }
        String msg = "missing prerequisites: " + String.join("; ", problems);
        if (ci) {
            fail(msg + " (CI=true: a missing prerequisite is a failure, not a skip)");
        }
        Assumptions.abort(msg);
    }

    /** The full path of {@code tool} on PATH (or in /usr/sbin, /sbin, /usr/bin, /bin), or null. */
    public static String which(String tool) {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin:/sbin:/usr/bin:/bin";
        for (String dir : path.split(File.pathSeparator)) {
            File f = new File(dir, tool);
            if (!dir.isEmpty() && f.isFile() && f.canExecute()) {
                return f.getPath();
            }
        }
        return null;
    }

    /** Requires every tool on PATH; the problem names the missing ones. */
    public static void requireTools(String... tools) {
        List<String> missing = new ArrayList<>();
        for (String t : tools) {
            if (which(t) == null) {
                missing.add("'" + t + "' not on PATH");
            }
        }
        require(missing);
    }
}
