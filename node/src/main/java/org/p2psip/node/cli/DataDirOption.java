package org.p2psip.node.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --data-dir} option of the offline commands ({@code identity}, {@code user}), as a picocli mixin. */
final class DataDirOption {
    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${sys:user.home}/.p2psip",
            description = "The data directory (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    /** A file in the data directory. */
    Path resolve(String fileName) {
        return dataDir.resolve(fileName);
    }
}
