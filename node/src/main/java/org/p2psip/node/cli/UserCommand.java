package org.p2psip.node.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.p2psip.node.accounts.DigestAccounts;
import org.p2psip.node.identity.NodeKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code p2psip user add/rm/list}: SIP digest accounts in {@code <data-dir>/sip-users} ({@link DigestAccounts}). */
@Command(name = "user", mixinStandardHelpOptions = true,
        description = "Manage SIP digest accounts (add, rm, list), kept as HA1 hashes in <data-dir>/"
                + DigestAccounts.FILE_NAME + ".",
        subcommands = {UserCommand.Add.class, UserCommand.Remove.class, UserCommand.ListAccounts.class})
final class UserCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw CommandOutput.missingSubcommand(spec);
    }

    /** A USER argument and its realm. */
    static final class Who {
        @Parameters(index = "0", paramLabel = "USER",
                description = "bob@example.net or sip:bob@example.net (username bob, realm example.net), or bob with --realm.")
        String user;

        @Option(names = "--realm", paramLabel = "REALM", description = "The digest realm (default: the USER's domain).")
        String realm;

        /** [username, realm]. */
        String[] resolve(CommandSpec spec) {
            String u = user.strip();
            String lower = u.toLowerCase(Locale.ROOT);
            if (lower.startsWith("sip:")) {
                u = u.substring(4);
            } else if (lower.startsWith("sips:")) {
                u = u.substring(5);
            }
            String name = u;
            String r = realm;
            int at = u.lastIndexOf('@');
            if (at >= 0) {
                name = u.substring(0, at);
                if (r == null) {
                    r = u.substring(at + 1).toLowerCase(Locale.ROOT);
                }
            }
            if (r == null) {
                throw new ParameterException(spec.commandLine(), "USER " + user + " has no domain: give --realm REALM or "
                        + "USER as user@domain");
            }
            try {
                DigestAccounts.account(name, r, new char[] {'x'});
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            return new String[] {name, r};
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Add a SIP digest account, or set a new password for an existing one.")
    static final class Add implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        DataDirOption dir;
        @Mixin
        Who who;

        @Option(names = "--password-file", paramLabel = "FILE",
                description = "Read the password from FILE's first line instead of prompting (twice) on the terminal.")
        Path passwordFile;

        @Override
        public Integer call() {
            String[] ur = who.resolve(spec);
            char[] pw = Passwords.read(spec.commandLine(), passwordFile, "SIP password for " + ur[0] + "@" + ur[1], true);
            boolean replaced;
            try {
                DigestAccounts.Account a = DigestAccounts.account(ur[0], ur[1], pw);
                NodeKeys.createDirectory(dir.dataDir);
                replaced = DigestAccounts.put(dir.resolve(DigestAccounts.FILE_NAME), a);
            } catch (IOException e) {
                throw new CliException("cannot update " + dir.resolve(DigestAccounts.FILE_NAME) + ": " + e.getMessage(), e);
            } finally {
                Arrays.fill(pw, '\0');
            }
            CommandOutput.print(spec, (replaced ? "changed the password of " : "added ") + ur[0] + " in realm " + ur[1] + " ("
                    + dir.resolve(DigestAccounts.FILE_NAME) + ")\n");
            return Main.OK;
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Remove a SIP digest account.")
    static final class Remove implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        DataDirOption dir;
        @Mixin
        Who who;

        @Override
        public Integer call() {
            String[] ur = who.resolve(spec);
            try {
                if (!DigestAccounts.remove(dir.resolve(DigestAccounts.FILE_NAME), ur[0], ur[1])) {
                    throw new CliException("no account " + ur[0] + " in realm " + ur[1] + " in " + dir.resolve(DigestAccounts.FILE_NAME));
                }
            } catch (IOException e) {
                throw new CliException("cannot update " + dir.resolve(DigestAccounts.FILE_NAME) + ": " + e.getMessage(), e);
            }
            CommandOutput.print(spec, "removed " + ur[0] + " in realm " + ur[1] + "\n");
            return Main.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the SIP digest accounts (user@realm).")
    static final class ListAccounts implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        DataDirOption dir;

        @Override
        public Integer call() {
            List<DigestAccounts.Account> all;
            try {
                all = DigestAccounts.read(dir.resolve(DigestAccounts.FILE_NAME));
            } catch (IOException e) {
                throw new CliException(e.getMessage(), e);
            }
            StringBuilder b = new StringBuilder();
            for (DigestAccounts.Account a : all) {
                b.append(a.username()).append('@').append(a.realm()).append('\n');
            }
            CommandOutput.print(spec, b.toString());
            return Main.OK;
        }
    }
}
