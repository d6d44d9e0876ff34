package org.p2psip.testbed.docker;

import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;

/**
 * One p2psip node of the testbed, driven as a user would: {@code docker exec <container> p2psip ...}.
 *
 * @param spec      its name, address and port
 * @param site      its site's name, or {@code public}
 * @param container its running container
 */
record TestbedNode(Topology.PeerSpec spec, String site, GenericContainer<?> container) {
    private static final Pattern STORED = Pattern.compile("stored on (\\d+) of (\\d+) replicas");

    String name() {
        return spec.name();
    }

    /** Runs {@code p2psip ARGS} in the container. */
    ExecResult cli(String... args) {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "p2psip";
        System.arraycopy(args, 0, cmd, 1, args.length);
        try {
            return container.execInContainer(cmd);
        } catch (IOException e) {
            throw new IllegalStateException("docker exec in " + name() + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during docker exec in " + name(), e);
        }
    }

    /** {@code p2psip status} as name/value pairs; empty when the node does not answer. */
    Map<String, String> status() {
        ExecResult r = cli("status");
        Map<String, String> out = new LinkedHashMap<>();
        if (r.getExitCode() != 0) {
            return out;
        }
        for (String line : r.getStdout().split("\\R")) {
            int sp = line.indexOf(' ');
            if (sp > 0) {
                out.put(line.substring(0, sp), line.substring(sp + 1).strip());
            }
        }
        return out;
    }

    /** True when {@code status} says joined, with at least one neighbour. */
    boolean joined() {
        Map<String, String> s = status();
        return "yes".equals(s.get("joined")) && Integer.parseInt(s.getOrDefault("neighbours", "0")) > 0;
    }

    /** A number from {@code status} ({@code -1} when the node does not answer). */
    int statusNumber(String name) {
        String v = status().get(name);
        return v == null ? -1 : Integer.parseInt(v.split("/")[0]);
    }

    /**
     * {@code p2psip put NAME VALUE --ttl TTL}: the outcome, with the number of replicas that accepted (0 when the
     * command failed).
     */
    PutOutcome put(String key, String value, int ttlSeconds) {
        ExecResult r = cli("put", key, value, "--ttl", String.valueOf(ttlSeconds));
        Matcher m = STORED.matcher(r.getStdout());
        int accepted = r.getExitCode() == 0 && m.find() ? Integer.parseInt(m.group(1)) : 0;
        return new PutOutcome(accepted, (r.getStdout() + r.getStderr()).strip());
    }

    /** {@code p2psip get NAME}: the values, empty when there is none or the command failed. */
    List<String> get(String key) {
        ExecResult r = cli("get", key);
        if (r.getExitCode() != 0) {
            return List.of();
        }
        return Arrays.stream(r.getStdout().split("\\R")).filter(l -> !l.isBlank()).toList();
    }

    /** The container's log so far. */
    String logs() {
        return container.getLogs();
    }

    /** The outcome of a put: replicas that accepted, and what the command printed. */
    record PutOutcome(int accepted, String output) {
    }
}
