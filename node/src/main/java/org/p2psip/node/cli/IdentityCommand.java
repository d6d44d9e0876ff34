package org.p2psip.node.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.p2psip.node.identity.SecureFiles;
import org.p2psip.node.identity.UserIdentity;
import org.p2psip.storage.PrivateKeyRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code p2psip identity}: a SIP user's key pair, certificate request, certificate and encrypted private-key record,
 * kept in {@code <data-dir>/identities/<user@domain>/} ({@link UserIdentity}).
 */
@Command(name = "identity", mixinStandardHelpOptions = true,
        description = "Manage a SIP user's key pair and certificate (create, csr, import, export, show).",
        subcommands = {
                IdentityCommand.Create.class,
                IdentityCommand.Csr.class,
                IdentityCommand.Import.class,
                IdentityCommand.Export.class,
                IdentityCommand.Show.class
        })
final class IdentityCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw CommandOutput.missingSubcommand(spec);
    }

    /** The options every identity subcommand takes. */
    static final class Common {
        @Mixin
        DataDirOption dir;

        @Parameters(index = "0", paramLabel = "ADDRESS", description = "The user's address, e.g. sip:bob@example.net.")
        String address;

        String user(CommandSpec spec) {
            try {
                return UserIdentity.userOf(address);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        }

        UserIdentity load(CommandSpec spec) {
            user(spec);
            try {
                return UserIdentity.load(dir.dataDir, address);
            } catch (IOException e) {
                throw new CliException(e.getMessage(), e);
            }
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a key pair for ADDRESS, and a certificate request (request.csr) for a CA to sign.")
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Common common;

        @Option(names = "--key-type", paramLabel = "TYPE", defaultValue = "p256",
                description = "p256 (ECDSA P-256, what most CAs sign) or ed25519 (default: ${DEFAULT-VALUE}).")
        String keyType;

        @Override
        public Integer call() {
            common.user(spec);
            UserIdentity.KeyType type = switch (keyType.toLowerCase(java.util.Locale.ROOT)) {
                case "p256", "p-256", "ec" -> UserIdentity.KeyType.P256;
                case "ed25519" -> UserIdentity.KeyType.ED25519;
                default -> throw new ParameterException(spec.commandLine(), "--key-type " + keyType + ": choose p256 or ed25519");
            };
            UserIdentity id;
            try {
                id = UserIdentity.create(common.dir.dataDir, common.address, type);
            } catch (IOException e) {
                throw new CliException(e.getMessage(), e);
            }
            CommandOutput.print(spec, "created a " + (type == UserIdentity.KeyType.P256 ? "P-256" : "Ed25519") + " key for " + id.user()
                    + " in " + id.directory() + "\n"
                    + "key hash H(Kp): " + id.owner().hex() + "\n"
                    + "certificate request: " + id.directory().resolve(UserIdentity.CSR_FILE)
                    + " (have a CA sign it, then `p2psip identity import sip:" + id.user() + " CERT.pem`)\n");
            return Main.OK;
        }
    }

    @Command(name = "csr", mixinStandardHelpOptions = true,
            description = "Print a PKCS#10 certificate request for ADDRESS's key (CN and subjectAltNames name the user).")
    static final class Csr implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Common common;

        @Option(names = "--out", paramLabel = "FILE", description = "Write it to FILE instead of printing it.")
        Path out;

        @Override
        public Integer call() throws IOException {
            String pem = common.load(spec).csrPem();
            if (out != null) {
                Files.writeString(out, pem, StandardCharsets.US_ASCII);
            } else {
                CommandOutput.print(spec, pem);
            }
            return Main.OK;
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = "Check and save the certificate a CA issued for ADDRESS's key (PEM; the leaf, optionally followed "
                    + "by its issuers).")
    static final class Import implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Common common;

        @Parameters(index = "1", paramLabel = "CERT", description = "The PEM file with the certificate.")
        Path certificate;

        @Override
        public Integer call() {
            UserIdentity id = common.load(spec);
            List<X509Certificate> chain;
            try {
                if (Files.size(certificate) > 256 * 1024) {
                    throw new CliException(certificate + " is larger than 256 KiB; it is not a certificate file");
                }
                chain = id.importCertificate(Files.readString(certificate, StandardCharsets.US_ASCII), certificate);
            } catch (IOException e) {
                throw new CliException("cannot import " + certificate + ": " + e.getMessage(), e);
            } catch (UserIdentity.IdentityException e) {
                throw new CliException("refused " + certificate + ": " + e.getMessage(), e);
            }
            X509Certificate leaf = chain.get(0);
            CommandOutput.print(spec, "imported the certificate of " + id.user() + " (subject " + leaf.getSubjectX500Principal().getName()
                    + ", issuer " + leaf.getIssuerX500Principal().getName() + ", valid until " + leaf.getNotAfter().toInstant()
                    + (chain.size() > 1 ? ", with " + (chain.size() - 1) + " issuer certificate(s)" : "") + ")\n");
            return Main.OK;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Write the password-encrypted private-key record of ADDRESS (private:user:<secret>, Argon2id + "
                    + "AES-256-GCM), a signed dhtRecord to store with the XML-RPC put-auth so that the user's other devices "
                    + "can fetch the key with the password.")
    static final class Export implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Common common;

        @Option(names = "--password-file", paramLabel = "FILE", description = "Read the password from FILE's first line "
                + "instead of prompting.")
        Path passwordFile;

        @Option(names = "--out", paramLabel = "FILE", description = "Write the record to FILE instead of printing it.")
        Path out;

        @Option(names = "--days", paramLabel = "DAYS", defaultValue = "7",
                description = "Days until the record expires (default: ${DEFAULT-VALUE}; storing nodes keep a value one week at most).")
        int days;

        @Override
        public Integer call() throws IOException {
            if (days < 1 || days > 3650) {
                throw new ParameterException(spec.commandLine(), "--days must be within 1..3650");
            }
            UserIdentity id = common.load(spec);
            char[] pw = Passwords.read(spec.commandLine(), passwordFile, "password for " + id.user() + "'s key", passwordFile == null);
            String xml;
            try {
                Instant expires = Instant.now().plus(Duration.ofDays(days)).truncatedTo(ChronoUnit.SECONDS);
                xml = id.exportPrivateKeyRecord(pw, expires, PrivateKeyRecord.KdfParams.DEFAULT);
            } catch (GeneralSecurityException e) {
                throw new CliException("cannot seal the private key: " + e.getMessage(), e);
            } finally {
                Arrays.fill(pw, '\0');
            }
            if (out != null) {
                SecureFiles.write(out, xml.getBytes(StandardCharsets.UTF_8), true);
                CommandOutput.print(spec, "wrote the private-key record of " + id.user() + " to " + out + "\n");
            } else {
                CommandOutput.print(spec, xml + "\n");
            }
            return Main.OK;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Print ADDRESS's key hash and certificate.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Common common;

        @Override
        public Integer call() {
            UserIdentity id = common.load(spec);
            StringBuilder b = new StringBuilder();
            b.append("user ").append(id.user()).append('\n');
            b.append("directory ").append(id.directory()).append('\n');
            b.append("key ").append(id.publicKey().getAlgorithm().equals("EC") ? "P-256" : "Ed25519").append('\n');
            b.append("key-hash ").append(id.owner().hex()).append('\n');
            if (id.chain().isEmpty()) {
                b.append("certificate none (self-signed when records are signed)\n");
            } else {
                X509Certificate leaf = id.chain().get(0);
                b.append("certificate ").append(leaf.getSubjectX500Principal().getName()).append('\n');
                b.append("issuer ").append(leaf.getIssuerX500Principal().getName()).append('\n');
                b.append("valid-until ").append(leaf.getNotAfter().toInstant()).append('\n');
            }
            CommandOutput.print(spec, b.toString());
            return Main.OK;
        }
    }
}
