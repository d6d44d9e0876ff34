package org.p2psip.sip.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * Test prerequisites (external tools, root). Under {@code CI=true} a missing prerequisite fails the test; elsewhere
 * it skips it, with the reason.
 */
public final class Prerequisites {
    private Prerequisites() {
    }

    public static boolean underCi() {
        return "true".equals(System.getenv("CI"));
    }

    /** Fails (CI) or skips (elsewhere) unless {@code problems} is empty. */
    public static void require(List<String> problems) {
        require(problems, underCi());
    }

    /** As {@link #require(List)}, with the CI flag given (so both behaviours can be tested anywhere). */
    static void require(List<String> problems, boolean ci) {
        if (problems.isEmpty()) {
            return;
        }
        String msg = "missing prerequisites: " + String.join("; ", problems);
        if (ci) {
            fail(msg + " (CI=true: a missing prerequisite is a failure, not a skip)");
        }
        Assumptions.abort(msg);
    }

    /** The full path of {@code tool} on PATH (or in /usr/sbin, /sbin), or null. */
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

    public static void requireTools(String... tools) {
        List<String> missing = new java.util.ArrayList<>();
        for (String t : tools) {
            if (which(t) == null) {
                missing.add("'" + t + "' not on PATH");
            }
        }
        require(missing);
    }
}
