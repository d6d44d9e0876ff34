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

    public static void main(String[] args) throws Exception {
        boolean relaunched = Boolean.getBoolean(ServerJvm.RELAUNCHED);
        if (relaunched) { // not left running if the launching JVM is killed
            ProcessHandle.current().parent().ifPresent(p -> p.onExit().thenRun(() -> Runtime.getRuntime().halt(1)));
        }
        var child = ServerJvm.relaunch(args, java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments(),
                ServerJvm.javaExecutable(), System.getProperty("java.class.path"), System.getenv(ServerJvm.ENV), relaunched);
        if (child.isPresent()) {
            System.err.println("bench sip runs the peers in a JVM with a SIP server's options " + ServerJvm.OPTIONS
                    + " (a 20 ms pause goal; " + ServerJvm.ENV + "=inherit keeps this JVM's own)");
            Process p = new ProcessBuilder(child.get()).inheritIO().start();
            Runtime.getRuntime().addShutdownHook(new Thread(p::destroy));
            System.exit(p.waitFor());
        }
        System.exit(commandLine().execute(args));
    }
}
