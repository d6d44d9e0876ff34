package org.p2psip.node.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code p2psip} command line. Exit codes: 0 success, 1 the operation failed, 2 usage error.
 *
 * <p>Embedders and tests call {@link #newCommandLine()} and {@code execute(args)}, with
 * {@code setOut}/{@code setErr} to capture output; {@link #main} exits the JVM with the code.
 */
@Command(name = "p2psip",
        mixinStandardHelpOptions = true,
        versionProvider = VersionCommand.Provider.class,
        description = "A peer-to-peer SIP node on a Kademlia DHT.",
        subcommands = {
                RunCommand.class,
                StatusCommand.class,
                PutCommand.class,
                GetCommand.class,
                RmCommand.class,
                IdentityCommand.class,
                UserCommand.class,
                VersionCommand.class,
                CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    /** Exit code of a successful command. */
    public static final int OK = 0;
    /** Exit code of a command whose operation failed. */
    public static final int FAILED = 1;
    /** Exit code of a command line that cannot be understood. */
    public static final int USAGE = 2;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command: choose one of "
                + String.join(", ", spec.subcommands().keySet()));
    }

    /**
     * A command line with p2psip's error handling: failures print one line and exit with {@link #FAILED}. {@code run}'s
     * options are also read from the environment ({@code P2PSIP_<OPTION>}) and the configuration file.
     */
    public static CommandLine newCommandLine() {
        return newCommandLine(System.getenv());
    }

    /** As {@link #newCommandLine()}, with {@code env} in place of the process environment (for tests and embedders). */
    public static CommandLine newCommandLine(java.util.Map<String, String> env) {
        CommandLine cl = new CommandLine(new Main());
        ConfigDefaults.install(cl, env);
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            PrintWriter err = cmd.getErr();
            if (ex instanceof CliException) {
                err.println("p2psip: " + ex.getMessage());
            } else {
                err.println("p2psip: " + cmd.getCommandName() + " failed: " + ex);
                if (Boolean.getBoolean("p2psip.debug")) {
                    ex.printStackTrace(err);
                }
            }
            err.flush();
            return FAILED;
        });
        return cl;
    }

    public static void main(String[] args) {
        System.exit(newCommandLine().execute(args));
    }
}
