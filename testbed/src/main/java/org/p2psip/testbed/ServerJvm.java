package org.p2psip.testbed;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The JVM a SIP server runs in, and the relaunch of {@code bench sip} in one. A peer answers signalling over UDP: a
 * garbage-collection pause longer than its socket's receive buffer lasts (4 MiB, about 100 ms at the bench's rates)
 * drops datagrams, which the senders retransmit only after their timeouts. With the JVM's default pause goal
 * (G1, 200 ms) `bench sip` measured pauses of 100-250 ms, kernel drops at the peer's sockets and a sustained 3,941
 * REGISTERs a second; with a 20 ms goal, pauses of 26 ms (median) to 63 ms, no drops and 6,705 a second (testbed
 * README, "bench sip"). A deployment runs the node with these options (node README); the bench measures the peers
 * as deployed.
 */
final class ServerJvm {
    /** The options: G1 with a 20 ms pause goal. */
    static final List<String> OPTIONS = List.of("-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20");
    /** Set on the relaunched JVM: it runs the command itself, and ends if the launching JVM ends. */
    static final String RELAUNCHED = "p2psip.relaunched";
    /** Environment variable: {@code inherit} runs the bench in the JVM as started, with its own options. */
    static final String ENV = "P2PSIP_BENCH_JVM";

    private ServerJvm() {
    }

    /**
     * The command that runs {@code args} in a JVM with {@link #OPTIONS}, or empty when this JVM runs them itself:
     * they are not {@code bench sip}, ask for help, this JVM was relaunched already, its options choose a collector or
     * a pause goal of their own, or {@link #ENV} is {@code inherit}.
     *
     * @param jvmArgs the options this JVM was started with (kept: logging, heap size)
     */
    static Optional<List<String>> relaunch(String[] args, List<String> jvmArgs, String java, String classPath,
            String env, boolean relaunched) {
        if (relaunched || "inherit".equals(env) || args.length < 2 || !args[0].equals("bench") || !args[1].equals("sip")) {
            return Optional.empty();
        }
        for (String a : args) {
            if (a.equals("-h") || a.equals("--help") || a.equals("-V") || a.equals("--version")) {
                return Optional.empty();
            }
        }
        for (String o : jvmArgs) {
            if (o.startsWith("-XX:MaxGCPauseMillis") || o.matches("-XX:\\+Use\\w*GC")) {
                return Optional.empty();
            }
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(jvmArgs);
        cmd.addAll(OPTIONS);
        cmd.add("-D" + RELAUNCHED + "=true");
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add(TestbedMain.class.getName());
        cmd.addAll(List.of(args));
        return Optional.of(cmd);
    }

    /** This JVM's {@code java} executable. */
    static String javaExecutable() {
        return ProcessHandle.current().info().command()
                .orElse(System.getProperty("java.home") + "/bin/java");
    }
}
