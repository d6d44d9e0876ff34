package org.p2psip.node.cli;

import java.io.Console;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** Reads a password from a file (its first line) or, on a terminal, from a prompt without echo. */
final class Passwords {
    /** Longest password file read. */
    static final int MAX_FILE_BYTES = 4096;

    private Passwords() { }

    /**
     * @param file    the {@code --password-file}, or null to prompt
     * @param confirm whether a prompted password is asked twice (a new password)
     */
    static char[] read(CommandLine cl, Path file, String prompt, boolean confirm) {
        char[] pw;
        if (file != null) {
            try {
                if (Files.size(file) > MAX_FILE_BYTES) {
                    throw new ParameterException(cl, "--password-file " + file + " is larger than " + MAX_FILE_BYTES + " bytes");
                }
                String text = Files.readString(file, StandardCharsets.UTF_8);
                int nl = text.indexOf('\n');
                String line = nl < 0 ? text : text.substring(0, nl);
                pw = (line.endsWith("\r") ? line.substring(0, line.length() - 1) : line).toCharArray();
            } catch (IOException e) {
                throw new ParameterException(cl, "cannot read --password-file " + file + ": " + e.getMessage());
            }
        } else {
            Console console = System.console();
            if (console == null) {
                throw new ParameterException(cl, "no terminal to ask for the password on; give it with --password-file FILE "
                        + "(its first line)");
            }
            pw = console.readPassword("%s: ", prompt);
            if (pw == null) {
                throw new CliException("no password given");
            }
            if (confirm) {
                char[] again = console.readPassword("%s (again): ", prompt);
                if (again == null || !Arrays.equals(pw, again)) {
                    throw new CliException("the two passwords differ; nothing was changed");
                }
                Arrays.fill(again, '\0');
            }
        }
        if (pw.length == 0) {
            throw new ParameterException(cl, "the password is empty");
        }
        return pw;
    }
}
