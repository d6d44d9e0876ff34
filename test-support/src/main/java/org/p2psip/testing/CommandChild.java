package org.p2psip.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child process (a lab node's JVM in a network namespace, say) driven by a line protocol on its stdin and stdout:
 * at start it prints {@code ready id=... address=...}; each command line is answered with {@code key=value} lines and
 * then {@code ok}, or with {@code error=...}; {@code quit} ends it. Every line is kept for the failure report.
 */
public final class CommandChild implements AutoCloseable {
    /** The name used in messages and the reader thread's name. */
    public final String name;
    /** The {@code id} of the ready line. */
    public final String id;
    /** The {@code address} of the ready line. */
    public final String address;
    private final int commandSeconds;
    private final Process process;
    private final Writer in;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuilder log = new StringBuilder();

    private CommandChild(String name, Process process, int startSeconds, int commandSeconds) throws Exception {
        this.name = name;
        this.commandSeconds = commandSeconds;
        this.process = process;
        this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    lines.add(l);
                }
            } catch (IOException e) {
                // the process ended
            }
            lines.add("error=the process ended");
        }, "child-" + name);
        reader.setDaemon(true);
        reader.start();
        String ready = next(startSeconds);
        while (!ready.startsWith("ready ") && !ready.startsWith("error=")) {
            ready = next(startSeconds);
        }
        if (!ready.startsWith("ready ")) {
            throw new IOException(name + " did not start:\n" + log);
        }
        Map<String, String> kv = parse(List.of(ready.substring(6).split(" ")));
        this.id = kv.get("id");
        this.address = kv.get("address");
    }

    /**
     * Waits for the child's ready line.
     *
     * @param startSeconds   how long the ready line may take (a cold JVM on a loaded machine is slow)
     * @param commandSeconds how long each output line of a command may take
     */
    public static CommandChild start(String name, Process process, int startSeconds, int commandSeconds)
            throws Exception {
        return new CommandChild(name, process, startSeconds, commandSeconds);
    }

    private String next(int seconds) throws Exception {
        String l = lines.poll(seconds, TimeUnit.SECONDS);
        if (l == null) {
            throw new IOException(name + ": no output within " + seconds + " s:\n" + log);
        }
        synchronized (log) {
            log.append(l).append('\n');
        }
        return l;
    }

    /** Runs one command; its key=value lines (a repeated key keeps the last value). Fails on {@code error=}. */
    public Map<String, String> run(String command) throws Exception {
        return parse(runLines(command));
    }

    /** Runs one command; the lines it printed before {@code ok} (log lines of the child included). */
    public List<String> runLines(String command) throws Exception {
        synchronized (log) {
            log.append("> ").append(command).append('\n');
        }
        in.write(command + "\n");
        in.flush();
        List<String> out = new ArrayList<>();
        while (true) {
            String l = next(commandSeconds);
            if (l.equals("ok")) {
                return out;
            }
            if (l.startsWith("error=")) {
                throw new AssertionError(name + ": '" + command + "' failed: " + l + "\n" + log());
            }
            out.add(l);
        }
    }

    /** Everything the child printed and every command sent, in order. */
    public String log() {
        synchronized (log) {
            return log.toString();
        }
    }

    /** The {@code key=value} lines of {@code lines} (a repeated key keeps the last value). */
    public static Map<String, String> parse(List<String> lines) {
        Map<String, String> kv = new LinkedHashMap<>();
        for (String line : lines) {
            int eq = line.indexOf('=');
            int sp = line.indexOf(' ');
            if (eq > 0 && (sp < 0 || eq < sp)) {
                kv.put(line.substring(0, eq), line.substring(eq + 1).trim());
            }
        }
        return kv;
    }

    @Override
    public void close() {
        try {
            in.write("quit\n");
            in.flush();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (Exception e) {
            process.destroyForcibly();
        }
    }
}
