package org.p2psip.node.cli;

import java.util.concurrent.Callable;
import org.p2psip.node.demo.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code p2psip demo}: a 3-peer overlay in this process, two users, a MESSAGE and a call between them. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start a 3-peer overlay on 127.0.0.1 in this process, register alice and bob (real SIP over UDP), "
                + "send a MESSAGE and place a call between them through the overlay, printing each step. Exit code 0 "
                + "when every step succeeded, 1 with the failing step otherwise.")
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return new Demo(spec.commandLine().getOut()).run() ? Main.OK : Main.FAILED;
    }
}
