package org.p2psip.node.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import org.p2psip.node.Peer;
import org.p2psip.node.control.ControlClient;
import org.p2psip.node.control.ControlServer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** A command that talks to a running node over its control port on 127.0.0.1. */
abstract class ClientCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--control-port", paramLabel = "PORT", defaultValue = "" + Peer.DEFAULT_CONTROL_PORT,
            description = "The running node's control port on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
    int controlPort;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "40",
            description = "Give up when the node has not answered after this many seconds (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** Sends one request; an ERR reply or an I/O failure becomes a {@link CliException}. */
    ControlClient.Response request(String line) {
        if (controlPort < 1 || controlPort > 65_535) {
            throw usage("--control-port must be within 1..65535");
        }
        if (timeoutSeconds < 1) {
            throw usage("--timeout must be at least 1 second");
        }
        int bytes = line.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > ControlServer.MAX_LINE_BYTES) {
            throw usage("the request is " + bytes + " bytes long once encoded; the control port takes at most "
                    + ControlServer.MAX_LINE_BYTES);
        }
        try (ControlClient c = ControlClient.connect(controlPort, timeoutSeconds * 1000)) {
            ControlClient.Response r = c.request(line);
            if (!r.ok()) {
                throw new CliException(r.error());
            }
            return r;
        } catch (IOException e) {
            throw new CliException(e.getMessage(), e);
        }
    }
}
