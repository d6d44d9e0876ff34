package org.p2psip.node.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** What the commands that only group subcommands ({@code identity}, {@code user}) share: output and usage errors. */
final class CommandOutput {
    private CommandOutput() { }

    /** Prints {@code text} to the command's output stream and flushes it. */
    static void print(CommandSpec spec, String text) {
        PrintWriter out = spec.commandLine().getOut();
        out.print(text);
        out.flush();
    }

    /** The usage error of a grouping command run without a subcommand; it names the choices. */
    static ParameterException missingSubcommand(CommandSpec spec) {
        return new ParameterException(spec.commandLine(), "missing subcommand: choose one of "
                + String.join(", ", spec.subcommands().keySet()));
    }
}
