package org.p2psip.node.cli;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.p2psip.node.control.ControlText;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code p2psip get NAME}: prints the values stored under a name. */
@Command(name = "get", mixinStandardHelpOptions = true,
        description = "Print every value stored under NAME, one per line. Exits with 1 when there is none.")
final class GetCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The resource name, e.g. sip:bob@example.net.")
    String name;

    @Option(names = {"-l", "--long"},
            description = "Also print each value's expiry and whether it can be removed, separated by tabs.")
    boolean longFormat;

    @Override
    public Integer call() {
        if (name.isEmpty()) {
            throw usage("NAME must not be empty");
        }
        var r = request("GET " + ControlText.encode(name));
        int n = 0;
        for (String l : r.lines()) {
            List<String> t = ControlText.split(l);
            if (t.size() != 4 || !t.get(0).equals("VALUE")) {
                continue;
            }
            String value = new String(ControlText.decode(t.get(1)), StandardCharsets.UTF_8);
            if (longFormat) {
                String expires;
                try {
                    expires = Instant.ofEpochMilli(Long.parseLong(t.get(2))).toString();
                } catch (NumberFormatException e) {
                    expires = t.get(2);
                }
                out().println(value + "\t" + expires + "\t" + (t.get(3).equals("-") ? "permanent" : "removable"));
            } else {
                out().println(value);
            }
            n++;
        }
        out().flush();
        if (n == 0) {
            err().println("p2psip: no value under " + name);
            err().flush();
            return Main.FAILED;
        }
        return Main.OK;
    }
}
