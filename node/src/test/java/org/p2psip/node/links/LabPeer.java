package org.p2psip.node.links;

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
import org.p2psip.nat.lab.NatLab;

/** A {@link LabPeerMain} in a child JVM inside a lab namespace, driven by commands. */
final class LabPeer implements AutoCloseable {
    final String name;
    final String id;
    final String address;
    private final Process process;
    private final Writer in;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuilder log = new StringBuilder();

    private LabPeer(String name, Process process) throws Exception {
        this.name = name;
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
        }, "lab-peer-" + name);
        reader.setDaemon(true);
        reader.start();
        String ready = next(120);
        while (!ready.startsWith("ready ") && !ready.startsWith("error=")) {
            ready = next(120);
        }
        if (!ready.startsWith("ready ")) {
            throw new IOException(name + " did not start:\n" + log);
        }
        Map<String, String> kv = parse(List.of(ready.substring(6).split(" ")));
        this.id = kv.get("id");
        this.address = kv.get("address");
    }

    static LabPeer start(NatLab lab, String name, String namespace, List<String> args) throws Exception {
        return new LabPeer(name, lab.spawn(namespace, NatLab.javaCommand(LabPeerMain.class.getName(), args)));
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
    Map<String, String> run(String command) throws Exception {
        return parse(runLines(command));
    }

    /** Runs one command; the lines it printed before {@code ok} (log lines of the child included). */
    List<String> runLines(String command) throws Exception {
        synchronized (log) {
            log.append("> ").append(command).append('\n');
        }
        in.write(command + "\n");
        in.flush();
        List<String> out = new ArrayList<>();
        while (true) {
            String l = next(150);
            if (l.equals("ok")) {
                return out;
            }
            if (l.startsWith("error=")) {
                throw new AssertionError(name + ": '" + command + "' failed: " + l + "\n" + log());
            }
            out.add(l);
        }
    }

    String log() {
        synchronized (log) {
            return log.toString();
        }
    }

    static Map<String, String> parse(List<String> lines) {
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
