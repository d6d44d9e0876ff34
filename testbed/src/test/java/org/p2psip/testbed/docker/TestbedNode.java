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

    /**
     * True when the node serves: {@code status} says joined, and a superpeer has at least one overlay neighbour
     * (a leaf says joined when it is attached to a superpeer; it runs no overlay node).
     */
    boolean joined() {
        Map<String, String> s = status();
        return "yes".equals(s.get("joined"))
                && ("leaf".equals(s.get("role")) || Integer.parseInt(s.getOrDefault("neighbours", "0")) > 0);
    }

    /**
     * The node's site view from {@code p2psip status}, or null when it does not answer.
     */
    SiteView view() {
        ExecResult r = cli("status");
        if (r.getExitCode() != 0) {
            return null;
        }
        Map<String, String> first = new LinkedHashMap<>();
        List<String> leaves = new java.util.ArrayList<>();
        for (String line : r.getStdout().split("\\R")) {
            int sp = line.indexOf(' ');
            if (sp <= 0) {
                continue;
            }
            String name = line.substring(0, sp);
            String value = line.substring(sp + 1).strip();
            if (name.equals("leaf")) {
                leaves.add(value.split(" ")[0]);
            } else {
                first.putIfAbsent(name, value);
            }
        }
        return new SiteView(first.getOrDefault("id", ""), first.getOrDefault("role", "?"),
                ids(first.get("site-members")), ids(first.get("site-superpeers")), first.get("primary"),
                first.get("standby"), List.copyOf(leaves), Integer.parseInt(first.getOrDefault("failovers", "0")),
                r.getStdout());
    }

    private static List<String> ids(String csv) {
        return csv == null || csv.equals("none") ? List.of() : List.of(csv.split(","));
    }

    /**
     * A node's role in its site, as {@code p2psip status} shows it.
     *
     * @param id          the node id (hex)
     * @param role        {@code superpeer}, {@code leaf} or {@code candidate}
     * @param members     the site's members (node ids), empty for a node in no site
     * @param superpeers  the site's superpeers
     * @param primary     a leaf's primary superpeer ({@code none} when detached), null for a superpeer
     * @param standby     a leaf's standby superpeer, null for a superpeer
     * @param leaves      a superpeer's leaf links (node ids, one per link: primary and standby links)
     * @param failovers   a leaf's failovers so far
     * @param text        the whole status text
     */
    record SiteView(String id, String role, List<String> members, List<String> superpeers, String primary,
                    String standby, List<String> leaves, int failovers, String text) {
        boolean isLeaf() {
            return role.equals("leaf");
        }

        boolean isSuperpeer() {
            return role.equals("superpeer");
        }
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
