package org.p2psip.testbed;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bench overlay|sim|memory|nat-matrix|sip|election}. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run a benchmark: overlay (real UDP on 127.0.0.1), sim (virtual time), memory (value store), nat-matrix (ICE in a kernel NAT lab, root), sip (sipp against SIP peers) or election (a site on 127.0.0.1).",
        subcommands = {OverlayBench.class, SimBench.class, MemoryBench.class, NatMatrixBench.class, SipBench.class,
                ElectionBench.class})
final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }
}
