package org.p2psip.testbed.docker;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.p2psip.testing.Prerequisites;

/**
 * What the Docker testbed needs: the {@code docker} command and a daemon that answers. Under {@code CI=true} a
 * missing prerequisite fails the test (CI must never pass by skipping the scenarios); elsewhere it skips, with the
 * reason. Building the base image also needs root and {@code debootstrap}; {@code build-base.sh} says so itself.
 */
final class DockerPrerequisites {
    private DockerPrerequisites() {
    }

    /** Fails (CI) or skips (elsewhere) unless Docker is usable. */
    static void require() {
        require(problems(), Prerequisites.underCi());
    }

    /** Fails when {@code ci}, else skips, unless {@code problems} is empty. */
    static void require(List<String> problems, boolean ci) {
        List<String> all = new ArrayList<>(problems);
        if (!all.isEmpty()) {
            all.add("the Docker testbed cannot run (.ci/run installs docker.io and starts dockerd)");
        }
        Prerequisites.require(all, ci);
    }

    static List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (Prerequisites.which("docker") == null) {
            problems.add("'docker' is not on PATH (apt-get install -y docker.io)");
            return problems;
        }
        try {
            Process p = new ProcessBuilder("docker", "info", "--format", "{{.ServerVersion}}")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                problems.add("'docker info' did not answer within 60 s");
            } else if (p.exitValue() != 0) {
                problems.add("no Docker daemon answers ('docker info': " + out + "); start one with 'dockerd &'");
            }
        } catch (IOException e) {
            problems.add("cannot run 'docker info': " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problems.add("interrupted while running 'docker info'");
        }
        return problems;
    }
}
