package org.p2psip.node.accounts;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.p2psip.node.identity.SecureFiles;

/**
 * SIP digest accounts (RFC 3261 §22, RFC 7616 and RFC 8760): a text file in the data directory, {@value #FILE_NAME}
 * (mode 600), that stores for each account only its HA1 hashes, never the password:
 * <pre>
 * # comment
 * username:realm:MD5-HA1:SHA-256-HA1
 * bob:example.net:3b2c…(32 hex):9a0f…(64 hex)
 * </pre>
 * HA1 = H(username ":" realm ":" password) over UTF-8, as RFC 7616 §3.4.2 defines it for the MD5 and SHA-256
 * algorithms (not the {@code -sess} variants, whose HA1 depends on the nonce). Usernames and realms hold no
 * {@code :}, no white space and no control character. A verifier (the SIP adapter) picks the HA1 of the algorithm it
 * challenged with, and needs neither the password nor its plain text.
 */
public final class DigestAccounts {
    /** The accounts file in the data directory. */
    public static final String FILE_NAME = "sip-users";
    private static final int MAX_FIELD = 253;
    private static final long MAX_FILE_BYTES = 16L << 20;
    private static final String HEADER = "# p2psip SIP digest accounts; see node/README.md. One per line:\n"
            + "# username:realm:MD5(username:realm:password):SHA-256(username:realm:password)\n";

    private DigestAccounts() { }

    /** One account: its username, realm and the two HA1 hashes in lower-case hex. */
    public record Account(String username, String realm, String md5Ha1, String sha256Ha1) {
        public Account {
            checkField("username", username);
            checkField("realm", realm);
            if (!md5Ha1.matches("[0-9a-f]{32}") || !sha256Ha1.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException("an HA1 is 32 (MD5) or 64 (SHA-256) lower-case hex digits");
            }
        }

        /** The HA1 for the digest algorithm {@code MD5} or {@code SHA-256}. */
        public Optional<String> ha1(String algorithm) {
            return switch (algorithm.toUpperCase(java.util.Locale.ROOT)) {
                case "MD5" -> Optional.of(md5Ha1);
                case "SHA-256" -> Optional.of(sha256Ha1);
                default -> Optional.empty();
            };
        }
    }

    /** Checks a username or realm. */
    static void checkField(String what, String v) {
        if (v == null || v.isEmpty() || v.length() > MAX_FIELD) {
            throw new IllegalArgumentException("a " + what + " has 1 to " + MAX_FIELD + " characters");
        }
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == ':' || Character.isWhitespace(c) || Character.isISOControl(c)) {
                throw new IllegalArgumentException("a " + what + " may not hold ':', white space or control characters: '" + v + "'");
            }
        }
    }

    /** The account for {@code password}; the password itself is not kept. */
    public static Account account(String username, String realm, char[] password) {
        checkField("username", username);
        checkField("realm", realm);
        ByteBuffer pw = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
        byte[] prefix = (username + ":" + realm + ":").getBytes(StandardCharsets.UTF_8);
        try {
            return new Account(username, realm, ha1("MD5", prefix, pw.duplicate()), ha1("SHA-256", prefix, pw.duplicate()));
        } finally {
            Arrays.fill(pw.array(), (byte) 0);
        }
    }

    private static String ha1(String algorithm, byte[] prefix, ByteBuffer password) {
        try {
            MessageDigest d = MessageDigest.getInstance(algorithm);
            d.update(prefix);
            d.update(password);
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The file's accounts, in file order; none when it does not exist. */
    public static List<Account> read(Path file) throws IOException {
        List<String> lines;
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new IOException(file + " is larger than " + MAX_FILE_BYTES + " bytes; is it really an accounts file?");
            }
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        List<Account> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i).strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            String[] f = l.split(":", -1);
            try {
                if (f.length != 4) {
                    throw new IllegalArgumentException("expected username:realm:md5-ha1:sha256-ha1");
                }
                out.add(new Account(f[0], f[1], f[2], f[3]));
            } catch (IllegalArgumentException e) {
                throw new IOException(file + " line " + (i + 1) + ": " + e.getMessage() + "; fix or delete that line");
            }
        }
        return out;
    }

    /** The account of {@code username} in {@code realm}, if any. */
    public static Optional<Account> find(Path file, String username, String realm) throws IOException {
        return read(file).stream().filter(a -> a.username().equals(username) && a.realm().equals(realm)).findFirst();
    }

    /**
     * Adds {@code account}, or replaces the one with the same username and realm. The file is rewritten atomically
     * with mode 600.
     *
     * @return whether an account was replaced
     */
    public static boolean put(Path file, Account account) throws IOException {
        List<Account> all = new ArrayList<>(read(file));
        boolean replaced = all.removeIf(a -> a.username().equals(account.username()) && a.realm().equals(account.realm()));
        all.add(account);
        write(file, all);
        return replaced;
    }

    /** Removes an account; returns whether there was one. */
    public static boolean remove(Path file, String username, String realm) throws IOException {
        List<Account> all = new ArrayList<>(read(file));
        boolean removed = all.removeIf(a -> a.username().equals(username) && a.realm().equals(realm));
        if (removed) {
            write(file, all);
        }
        return removed;
    }

    private static void write(Path file, List<Account> accounts) throws IOException {
        StringBuilder b = new StringBuilder(HEADER);
        for (Account a : accounts) {
            b.append(a.username()).append(':').append(a.realm()).append(':').append(a.md5Ha1()).append(':')
                    .append(a.sha256Ha1()).append('\n');
        }
        SecureFiles.write(file, b.toString().getBytes(StandardCharsets.UTF_8), true);
    }
}
