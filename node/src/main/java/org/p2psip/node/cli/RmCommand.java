package org.p2psip.node.cli;

import org.p2psip.node.control.ControlText;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code p2psip rm NAME VALUE --secret X}: removes a value that was put with that secret. */
@Command(name = "rm", mixinStandardHelpOptions = true,
        description = "Remove VALUE from NAME. Only a value put with --secret can be removed, with the same secret.")
final class RmCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The resource name.")
    String name;

    @Parameters(index = "1", paramLabel = "VALUE", description = "The value to remove, exactly as it was put.")
    String value;

    @Option(names = "--secret", paramLabel = "SECRET", required = true, description = "The secret given to `put`.")
    String secret;

    @Override
    public Integer call() {
        if (name.isEmpty() || value.isEmpty() || secret.isEmpty()) {
            throw usage("NAME, VALUE and --secret must not be empty");
        }
        var r = request("RM " + ControlText.encode(name) + " " + ControlText.encode(value) + " "
                + ControlText.encode(secret));
        Counts c = Counts.of(r.lines(), "REMOVED");
        out().println("removed from " + c.done() + " of " + c.asked() + " replicas");
        for (String refusal : c.refusals()) {
            err().println("refused: " + refusal);
        }
        out().flush();
        err().flush();
        return Main.OK;
    }
}
