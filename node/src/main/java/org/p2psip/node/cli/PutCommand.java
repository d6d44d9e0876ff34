package org.p2psip.node.cli;

import org.p2psip.node.control.ControlService;
import org.p2psip.node.control.ControlText;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code p2psip put NAME VALUE}: stores a value in the DHT through the running node. */
@Command(name = "put", mixinStandardHelpOptions = true,
        description = "Store VALUE under NAME in the DHT (key = SHA-1 of NAME). A name holds many values; "
                + "putting the same value again only extends its life.")
final class PutCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The resource name, e.g. sip:bob@example.net.")
    String name;

    @Parameters(index = "1", paramLabel = "VALUE", description = "The value, UTF-8 text of at most 64 KiB.")
    String value;

    @Option(names = "--ttl", paramLabel = "SECONDS", defaultValue = "" + ControlService.DEFAULT_TTL_SECONDS,
            description = "Lifetime of the value in seconds, at most one week (default: ${DEFAULT-VALUE}).")
    long ttl;

    @Option(names = "--secret", paramLabel = "SECRET",
            description = "Makes the value removable by whoever knows SECRET (`p2psip rm`); without it the value "
                    + "lives until it expires.")
    String secret;

    @Override
    public Integer call() {
        if (name.isEmpty() || value.isEmpty()) {
            throw usage("NAME and VALUE must not be empty");
        }
        if (ttl < 1 || ttl > ControlService.MAX_TTL_SECONDS) {
            throw usage("--ttl must be within 1.." + ControlService.MAX_TTL_SECONDS + " seconds");
        }
        if (secret != null && secret.isEmpty()) {
            throw usage("--secret must not be empty");
        }
        String line = "PUT " + ControlText.encode(name) + " " + ControlText.encode(value) + " " + ttl
                + (secret != null ? " " + ControlText.encode(secret) : "");
        var r = request(line);
        Counts c = Counts.of(r.lines(), "STORED");
        out().println("stored on " + c.done() + " of " + c.asked() + " replicas");
        for (String refusal : c.refusals()) {
            err().println("refused: " + refusal);
        }
        out().flush();
        err().flush();
        return Main.OK;
    }
}
