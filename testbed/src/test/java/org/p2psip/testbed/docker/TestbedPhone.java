package org.p2psip.testbed.docker;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;

/**
 * One SIP phone of the testbed: a container of the phone image (sipp and the testbed's scenarios), driven as a user
 * would, with {@code docker exec <phone> phone register|call|message|answer|receive ...}. Each run reports sipp's own
 * counts of successful and failed calls (or MESSAGEs).
 *
 * @param spec      the phone's user, site and address
 * @param container its running container
 */
record TestbedPhone(Topology.PhoneSpec spec, GenericContainer<?> container) {
    private static final Pattern COUNTS = Pattern.compile("phone: (\\S+) successful=(\\d+) failed=(\\d+)");

    String user() {
        return spec.user();
    }

    /** REGISTERs the phone's user at {@code node}'s SIP port (digest with the user's password). */
    SippRun register(TestbedNode node) {
        return run(Duration.ofSeconds(60), "register", node.spec().ip());
    }

    /** {@code calls} INVITE/ACK/BYE calls to {@code callee} through {@code node}; the callee must be answering. */
    SippRun call(TestbedNode node, String callee, int calls, Duration within) {
        return run(within, "call", node.spec().ip(), callee, String.valueOf(calls));
    }

    /** {@code messages} MESSAGEs to {@code callee} through {@code node}; the callee must be receiving. */
    SippRun message(TestbedNode node, String callee, int messages, Duration within) {
        return run(within, "message", node.spec().ip(), callee, String.valueOf(messages));
    }

    /**
     * Answers {@code calls} calls ({@code receive}: MESSAGEs when {@code messages}), in the background; completes
     * when sipp ends (after that many, or after {@code within}). Returns once sipp listens on the phone's SIP port,
     * so that a call placed afterwards finds it.
     */
    CompletableFuture<SippRun> answer(int calls, boolean messages, Duration within, ExecutorService executor) {
        CompletableFuture<SippRun> done = CompletableFuture.supplyAsync(
                () -> run(within, messages ? "receive" : "answer", String.valueOf(calls)), executor);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!listening() && !done.isDone()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(spec.name() + ": sipp does not listen on UDP 5060 after 20 s");
            }
            sleep(100);
        }
        return done;
    }

    private boolean listening() {
        ExecResult r = exec("sh", "-c", "ss -Hlun 'sport = :5060' | grep -q 5060");
        return r.getExitCode() == 0;
    }

    private SippRun run(Duration within, String... args) {
        String[] cmd = new String[args.length + 3];
        cmd[0] = "env";
        cmd[1] = "PHONE_TIMEOUT=" + within.toSeconds();
        cmd[2] = "phone";
        System.arraycopy(args, 0, cmd, 3, args.length);
        ExecResult r = exec(cmd);
        Matcher m = COUNTS.matcher(r.getStdout());
        String out = (r.getStdout() + r.getStderr()).strip();
        if (!m.find()) {
            return new SippRun(String.join(" ", args), r.getExitCode(), 0, 0, out);
        }
        return new SippRun(String.join(" ", args), r.getExitCode(), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)), out);
    }

    private ExecResult exec(String... cmd) {
        try {
            return container.execInContainer(cmd);
        } catch (IOException e) {
            throw new IllegalStateException("docker exec in " + spec.name() + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during docker exec in " + spec.name(), e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * One sipp run: sipp's exit status and its counts.
     *
     * @param what       the phone command's arguments
     * @param exit       sipp's exit status (0 only when every call succeeded)
     * @param successful sipp's SuccessfulCall count
     * @param failed     sipp's FailedCall count
     * @param output     what the phone command printed (sipp's last lines on failure)
     */
    record SippRun(String what, int exit, int successful, int failed, String output) {
        /** True when sipp exited 0 with exactly {@code n} successful and no failed calls. */
        boolean allOf(int n) {
            return exit == 0 && successful == n && failed == 0;
        }
    }
}
