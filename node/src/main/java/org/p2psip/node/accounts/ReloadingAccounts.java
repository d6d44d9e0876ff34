package org.p2psip.node.accounts;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.p2psip.sip.registrar.Credentials;
import org.p2psip.sip.registrar.Ha1Accounts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's {@code sip-users} file as the SIP adapter's {@link Credentials}, re-read when it changes: each use
 * compares the file's modification time, size and identity (inode; {@code p2psip user add} replaces the file
 * atomically) with those last read, at most one {@code stat} a second ({@link #CHECK_INTERVAL_NANOS}; a digest check
 * per REGISTER made it one per lookup before), so an account added or removed on a running node takes effect within
 * a second, without a restart. A file that cannot be read or parsed (e.g. edited by hand
 * and half written) keeps the accounts read before, with a warning naming the line; a deleted file means no
 * accounts. The served domains and the realm stay those chosen at start.
 */
public final class ReloadingAccounts implements Credentials {
    private static final Logger LOG = LoggerFactory.getLogger(ReloadingAccounts.class);

    /** What identifies one version of the file; null fields when it does not exist. */
    private record Version(Object key, long modifiedMillis, long size) {
        static final Version ABSENT = new Version(null, -1, -1);
    }

    /** How long a check of the file's version holds before the next lookup stats it again. */
    public static final long CHECK_INTERVAL_NANOS = 1_000_000_000L;

    private final Path file;
    private final String realm;
    private final LongSupplier nanoClock;
    private long checkedAtNanos;
    private Version version;
    private Version refused;
    private Ha1Accounts accounts;
    private long reloads;

    private ReloadingAccounts(Path file, String realm, Version version, Ha1Accounts accounts, LongSupplier nanoClock) {
        this.file = file;
        this.realm = realm;
        this.nanoClock = nanoClock;
        this.checkedAtNanos = nanoClock.getAsLong();
        this.version = version;
        this.accounts = accounts;
    }

    /**
     * Reads {@code file} now.
     *
     * @param realm the peer's digest realm, to warn about accounts of other realms
     * @throws IOException when the file exists but cannot be read or has a bad line (the message names it)
     */
    public static ReloadingAccounts open(Path file, String realm) throws IOException {
        return open(file, realm, System::nanoTime);
    }

    /** As {@link #open(Path, String)}, with the clock ({@link System#nanoTime()} units) that spaces the checks. */
    public static ReloadingAccounts open(Path file, String realm, LongSupplier nanoClock) throws IOException {
        Version v = versionOf(file);
        return new ReloadingAccounts(file, realm, v, toHa1(DigestAccounts.read(file)), nanoClock);
    }

    /** The accounts as the adapter's HA1 accounts. */
    public static Ha1Accounts toHa1(List<DigestAccounts.Account> read) {
        List<Ha1Accounts.Account> out = new ArrayList<>();
        for (DigestAccounts.Account a : read) {
            out.add(new Ha1Accounts.Account(a.username(), a.realm(), a.md5Ha1(), a.sha256Ha1()));
        }
        return new Ha1Accounts(out);
    }

    private static Version versionOf(Path file) throws IOException {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return new Version(a.fileKey(), a.lastModifiedTime().toMillis(), a.size());
        } catch (NoSuchFileException e) {
            return Version.ABSENT;
        }
    }

    /** The current accounts, re-read first if the file changed since the last read (checked at most once a second). */
    public synchronized Ha1Accounts current() {
        long t = nanoClock.getAsLong();
        if (t - checkedAtNanos < CHECK_INTERVAL_NANOS) {
            return accounts;
        }
        checkedAtNanos = t;
        Version now;
        try {
            now = versionOf(file);
        } catch (IOException e) {
            return accounts; // cannot even stat it: keep what we have
        }
        if (now.equals(version) || now.equals(refused)) {
            return accounts;
        }
        try {
            Ha1Accounts fresh = toHa1(DigestAccounts.read(file));
            accounts = fresh;
            version = now;
            refused = null;
            reloads++;
            LOG.info("SIP: {} changed; now {} account(s)", file, fresh.size());
            for (Ha1Accounts.Account a : fresh.outside(realm)) {
                LOG.warn("SIP: account {}@{} in {} cannot register here: its realm is not this peer's realm {}",
                        a.user(), a.realm(), file, realm);
            }
        } catch (IOException | RuntimeException e) {
            refused = now; // warned once per version of the file
            LOG.warn("SIP: {} changed but cannot be read ({}); keeping the {} account(s) read before; fix the file",
                    file, e.getMessage(), accounts.size());
        }
        return accounts;
    }

    /** How many times the file was re-read after a change (for tests and logs). */
    public synchronized long reloads() {
        return reloads;
    }

    /** The file. */
    public Path file() {
        return file;
    }

    @Override
    public Optional<String> ha1(String user, String realm, String algorithm) {
        return current().ha1(user, realm, algorithm);
    }

    @Override
    public String whyNot(String user, String realm) {
        return current().whyNot(user, realm);
    }

    @Override
    public Optional<String> recordSecret(String user, String realm) {
        return current().recordSecret(user, realm);
    }

    @Override
    public int size() {
        return current().size();
    }

    @Override
    public String toString() {
        return "ReloadingAccounts[" + Objects.toString(file) + "]";
    }
}
