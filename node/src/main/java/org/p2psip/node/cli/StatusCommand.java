package org.p2psip.node.cli;

import picocli.CommandLine.Command;

/** {@code p2psip status}: the running node's id, addresses, role, site, NAT, neighbours and store. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show the running node's id, addresses, role and site (members, superpeers, the leaf's primary "
                + "and standby superpeer or the superpeer's leaves), NAT behaviour, neighbours, links, store and counters.")
final class StatusCommand extends ClientCommand {
    @Override
    public Integer call() {
        for (String line : request("STATUS").lines()) {
            out().println(line);
        }
        out().flush();
        return Main.OK;
    }
}
