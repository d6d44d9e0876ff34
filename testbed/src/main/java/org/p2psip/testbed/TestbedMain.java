package org.p2psip.testbed;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the testbed jar: benchmarks and simulations of the overlay. */
@Command(name = "p2psip-testbed", mixinStandardHelpOptions = true, version = "p2psip-testbed 0.1.0",
        description = "Benchmarks and simulations of the p2psip overlay.",
        subcommands = {BenchCommand.class, CommandLine.HelpCommand.class})
public final class TestbedMain implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    /** A command line with this tool's commands, for {@code main} and for tests that run it in-process. */
    public static CommandLine commandLine() {
        return new CommandLine(new TestbedMain());
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
