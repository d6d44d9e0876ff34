package org.p2psip.sip.identity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.RecordException;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.ValueContent;
import org.p2psip.storage.api.DraftDht;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key pair of each local user ({@code bob@example.net}), with which the peer signs that user's records. Found,
 * in this order:
 * <ol>
 * <li>in memory;</li>
 * <li>in the key directory: {@code <dir>/<user>.key} (mode 600 where POSIX), holding the PKCS#8 private key and the
 * certificate chain, leaf first (an operator may put a CA-issued chain there for overlays in {@code ca} mode);</li>
 * <li>in the user's password-encrypted {@code private:} record ({@link PrivateKeyRecord}), so that a second peer
 * where the same account registers (a second device) signs with the same key — in the overlay's {@code tofu} mode
 * any other key would be refused as a takeover;</li>
 * <li>else created: a P-256 key pair with a self-signed certificate ({@link UserCertificates}); the
 * {@code certificate:} record is published first (it claims the user), then the {@code private:} record. The new
 * key is kept (and written to the key directory) before that first publication, and a publication that failed (a
 * timeout may still have stored the certificate on some nodes) is retried with the same key: a user has one key.</li>
 * </ol>
 * Both records are re-published when an identity is used and its last publication is older than
 * {@link #REPUBLISH}, so others can always find the user's certificate to encrypt to it. Slow work (Argon2id,
 * signing, files) runs on this object's own thread, never on the overlay's or the SIP stack's.
 */
public final class UserIdentities implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UserIdentities.class);
    static final String CERT_NONCE = "cert";
    static final String KEY_NONCE = "key";
    /** Lifetime of the certificate: and private: records (the overlay clamps to a week). */
    public static final Duration RECORD_LIFETIME = Duration.ofDays(7);
    public static final Duration REPUBLISH = Duration.ofDays(1);
    private static final String FILE_VERSION = "p2psip-user-key/1";

    private final DraftDht dht;
    private final Path dir;
    private final Function<String, Optional<String>> passwords;
    private final PrivateKeyRecord.KdfParams kdf;
    private final LongSupplier clock;
    private final ExecutorService work;
    private final Map<String, CompletableFuture<SigningIdentity>> identities = new ConcurrentHashMap<>();
    private final Map<String, Long> published = new ConcurrentHashMap<>();
    /** Keys created here whose certificate is not yet known to be published: reused, never replaced, on retry. */
    private final Map<String, SigningIdentity> unconfirmed = new ConcurrentHashMap<>();

    /**
     * @param dir       where key files are kept, or null to keep keys only in memory and in the {@code private:} record
     * @param passwords a local user's password ({@code bob@example.net} → password), which protects the
     *                  {@code private:} record; empty: the key is not shared with other peers
     */
    public UserIdentities(DraftDht dht, Path dir, Function<String, Optional<String>> passwords,
            PrivateKeyRecord.KdfParams kdf, LongSupplier clock) {
        this.dht = dht;
        this.dir = dir;
        this.passwords = passwords;
        this.kdf = kdf;
        this.clock = clock;
        this.work = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "sip-user-keys");
            t.setDaemon(true);
            return t;
        });
    }

    /** The identity of {@code user} ({@code bob@example.net}), found or created as described above. */
    public CompletableFuture<SigningIdentity> identity(String user) {
        CompletableFuture<SigningIdentity> f = identities.computeIfAbsent(user, u -> resolve(u, true));
        if (f.isCompletedExceptionally()) {
            identities.remove(user, f); // a failure is not remembered: try again
            f = identities.computeIfAbsent(user, u -> resolve(u, true));
        } else if (f.isDone()) {
            Long last = published.get(user);
            if (last != null && clock.getAsLong() - last > REPUBLISH.toMillis()) {
                published.put(user, clock.getAsLong());
                publish(user, f.join()).exceptionally(e -> {
                    LOG.warn("re-publishing the records of {} failed: {}", user, e.toString());
                    return null;
                });
            }
        }
        return f;
    }

    /** The thread for slow work (signing, Argon2id): callers of the DHT API hop here before signing. */
    public java.util.concurrent.Executor executor() {
        return work;
    }

    /** The identity if it is loaded already. */
    public Optional<SigningIdentity> loaded(String user) {
        CompletableFuture<SigningIdentity> f = identities.get(user);
        return f != null && f.isDone() && !f.isCompletedExceptionally() ? Optional.of(f.join()) : Optional.empty();
    }

    private CompletableFuture<SigningIdentity> resolve(String user, boolean mayCreate) {
        SigningIdentity pending = unconfirmed.get(user);
        if (pending != null) {
            LOG.info("retrying the publication of the certificate of {} with the key created for it before", user);
            return claim(user, pending, mayCreate);
        }
        return CompletableFuture.supplyAsync(() -> readFile(user), work).thenCompose(file -> {
            if (file.isPresent()) {
                LOG.info("key of {} loaded from {}", user, keyFile(user));
                return publish(user, file.get()).handle((x, e) -> {
                    if (e != null) {
                        LOG.warn("publishing the certificate of {} failed: {}", user, e.toString());
                    }
                    return file.get();
                });
            }
            return fromPrivateRecord(user).thenCompose(shared -> {
                if (shared.isPresent()) {
                    LOG.info("key of {} restored from its private: record", user);
                    return CompletableFuture.supplyAsync(() -> saved(user, shared.get()), work);
                }
                // a certificate: record without a private: record we can open (its put was lost, or the get missed it):
                // a new key would be accepted by any storing node that missed the owner's claim and refused by the
                // others, and the nodes would then disagree on who owns the user
                return dht.get(ResourceName.certificate(user)).thenCompose(certs -> certs.isEmpty()
                        ? create(user, mayCreate)
                        : CompletableFuture.<SigningIdentity>failedFuture(ownedByAnother(user)));
            });
        });
    }

    private CompletableFuture<SigningIdentity> create(String user, boolean mayRetry) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                KeyPair kp = UserCertificates.newKeyPair();
                X509Certificate cert = UserCertificates.selfSigned(user, kp);
                SigningIdentity id = SigningIdentity.of(kp, List.of(cert), user);
                // kept before its first use: a publication that times out may still have stored the certificate on
                // some nodes, which then own the user by this key, so any retry must use it again
                unconfirmed.put(user, id);
                persist(user, id);
                return id;
            } catch (GeneralSecurityException e) {
                throw new CompletionException(e);
            }
        }, work).thenCompose(id -> claim(user, id, mayRetry));
    }

    /** Publishes the certificate of a key this peer created; on success the key is confirmed as the user's. */
    private CompletableFuture<SigningIdentity> claim(String user, SigningIdentity id, boolean mayRetry) {
        return publish(user, id, true).handle((x, e) -> {
            // REPLAY: a storing node already holds this very key's certificate (the reply to an earlier try was lost)
            if (e == null || onlyReplays(e)) {
                unconfirmed.remove(user, id);
                LOG.info("created a key pair for {} and published its certificate", user);
                return CompletableFuture.supplyAsync(() -> saved(user, id), work);
            }
            String why = String.valueOf(unwrap(e).getMessage());
            if (mayRetry && why.contains("NOT_ENTITLED")) {
                // another peer created the user's key at the same moment and won the claim: use its key
                LOG.info("{} was claimed by another peer meanwhile; fetching the shared key", user);
                return fromPrivateRecord(user).thenCompose(shared -> {
                    if (shared.isPresent()) {
                        unconfirmed.remove(user, id);
                        return CompletableFuture.supplyAsync(() -> saved(user, shared.get()), work);
                    }
                    return CompletableFuture.<SigningIdentity>failedFuture(ownedByAnother(user));
                });
            }
            return CompletableFuture.<SigningIdentity>failedFuture(new IllegalStateException(
                    "cannot publish the certificate of " + user + " (the next request retries with the same key): "
                            + why, unwrap(e)));
        }).thenCompose(f -> f);
    }

    /** Every storing node refused the put as a replay: they all hold this very key's certificate already. */
    private static boolean onlyReplays(Throwable e) {
        String why = String.valueOf(unwrap(e).getMessage());
        return unwrap(e) instanceof org.p2psip.overlay.DhtException && why.contains("REPLAY")
                && !why.contains("NOT_ENTITLED") && !why.contains("AGAIN");
    }

    private static IllegalStateException ownedByAnother(String user) {
        return new IllegalStateException("the user " + user + " is owned by another key, and its private: record"
                + " cannot be found or opened with this account's password; check that every peer has the same password"
                + " for it, and retry (the record may be missing only for a moment)");
    }

    /** Puts (or refreshes) the certificate: record, then the private: record. */
    private CompletableFuture<Void> publish(String user, SigningIdentity id) {
        return publish(user, id, false);
    }

    /**
     * @param newKey a key created here: it counts as published only if every storing node asked stored its
     *               certificate (a node that did not answer may hold another key's claim on the user)
     */
    private CompletableFuture<Void> publish(String user, SigningIdentity id, boolean newKey) {
        return CompletableFuture.supplyAsync(() -> {
            Instant expires = Instant.ofEpochMilli(clock.getAsLong()).plus(RECORD_LIFETIME);
            DhtRecord cert = DhtRecord.of(ResourceName.certificate(user), expires, CERT_NONCE,
                    new ValueContent.Certificates(null, id.chain()));
            return dht.putAuth(cert, id).handle((r, e) -> {
                if (e != null && !onlyReplays(e)) {
                    throw new CompletionException(unwrap(e));
                }
                // all refused as a replay: every node holds this certificate (an earlier reply was lost), but the
                // private: record may never have been stored, so it is put below all the same
                return r != null ? r : new org.p2psip.overlay.PutResult(0, 0, List.of());
            }).thenComposeAsync(r -> {
                if (r.refusals().stream().anyMatch(why -> why.contains("NOT_ENTITLED"))) {
                    // some storing nodes own the user by another key: this key must not be used, even where accepted
                    return CompletableFuture.<Void>failedFuture(new IllegalStateException("NOT_ENTITLED: "
                            + (r.contacted() - r.stored()) + " of " + r.contacted() + " storing nodes refused the"
                            + " certificate of " + user + ": " + r.refusals()));
                }
                long replays = r.refusals().stream().filter(why -> why.contains("REPLAY")).count(); // hold it already
                if (newKey && r.stored() + replays < r.contacted()) {
                    return CompletableFuture.<Void>failedFuture(new IllegalStateException("only " + r.stored() + " of "
                            + r.contacted() + " storing nodes stored the certificate of " + user + ": " + r.refusals()));
                }
                published.put(user, clock.getAsLong());
                Optional<String> pw = passwords.apply(user);
                if (pw.isEmpty()) {
                    return CompletableFuture.<Void>completedFuture(null);
                }
                try {
                    PrivateKeyRecord.Unlocked u = PrivateKeyRecord.unlock(user, pw.get().toCharArray(), kdf);
                    DhtRecord rec = u.record(id.privateKey(), expires, KEY_NONCE);
                    u.destroy();
                    return dht.putAuth(rec, id).handle((x, e) -> {
                        if (e != null) {
                            LOG.warn("storing the private: record of {} failed (a second peer of {} will not find"
                                    + " its key): {}", user, user, e.toString());
                        }
                        return (Void) null;
                    });
                } catch (GeneralSecurityException e) {
                    return CompletableFuture.<Void>failedFuture(e);
                }
            }, work);
        }, work).thenCompose(f -> f);
    }

    private CompletableFuture<Optional<SigningIdentity>> fromPrivateRecord(String user) {
        Optional<String> pw = passwords.apply(user);
        if (pw.isEmpty()) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return CompletableFuture.supplyAsync(() -> PrivateKeyRecord.unlock(user, pw.get().toCharArray(), kdf), work)
                .thenCompose(u -> dht.get(u.key()).thenApplyAsync(values -> {
                    try {
                        for (DraftDht.SignedValue v : values) {
                            try {
                                return Optional.of(u.restore(v.record()));
                            } catch (RecordException e) {
                                LOG.warn("a private: record of {} does not open: {}", user, e.getMessage());
                            }
                        }
                        return Optional.<SigningIdentity>empty();
                    } finally {
                        u.destroy();
                    }
                }, work));
    }

    private SigningIdentity saved(String user, SigningIdentity id) {
        published.putIfAbsent(user, clock.getAsLong());
        persist(user, id);
        return id;
    }

    /** Writes the key file (atomically), if there is a key directory; a failure is logged, the key kept in memory. */
    private void persist(String user, SigningIdentity id) {
        if (dir == null) {
            return;
        }
        Path f = keyFile(user);
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".key", ".tmp");
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not POSIX: the directory's protection applies
            }
            Base64.Encoder b64 = Base64.getEncoder();
            StringBuilder text = new StringBuilder(FILE_VERSION).append("\nkey=")
                    .append(b64.encodeToString(id.privateKey().getEncoded())).append('\n');
            for (X509Certificate c : id.chain()) { // leaf first
                text.append("cert=").append(b64.encodeToString(c.getEncoded())).append('\n');
            }
            Files.writeString(tmp, text.toString(), StandardCharsets.US_ASCII);
            try {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | GeneralSecurityException e) {
            LOG.warn("cannot write the key file {} (the key stays in memory and in the private: record): {}", f,
                    e.toString());
        }
    }

    private Optional<SigningIdentity> readFile(String user) {
        if (dir == null) {
            return Optional.empty();
        }
        Path f = keyFile(user);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        try {
            List<String> lines = Files.readAllLines(f, StandardCharsets.US_ASCII);
            if (lines.size() < 3 || !lines.get(0).equals(FILE_VERSION) || !lines.get(1).startsWith("key=")
                    || !lines.get(2).startsWith("cert=")) {
                throw new IOException("not a " + FILE_VERSION + " file");
            }
            Base64.Decoder b64 = Base64.getDecoder();
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            List<X509Certificate> chain = new java.util.ArrayList<>();
            for (String line : lines.subList(2, lines.size())) {
                if (line.startsWith("cert=")) {
                    chain.add((X509Certificate) cf.generateCertificate(
                            new java.io.ByteArrayInputStream(b64.decode(line.substring(5)))));
                }
            }
            X509Certificate cert = chain.get(0);
            PrivateKey key = KeyFactory.getInstance(cert.getPublicKey().getAlgorithm())
                    .generatePrivate(new PKCS8EncodedKeySpec(b64.decode(lines.get(1).substring(4))));
            return Optional.of(new SigningIdentity(key, cert.getPublicKey(), chain, user));
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            throw new CompletionException(new IOException("the key file " + f + " of " + user
                    + " is unreadable (" + e.getMessage() + "); restore it from a backup or delete it to fetch or"
                    + " create the key again", e));
        }
    }

    /** {@code <dir>/<user>.key}, or a hash of the user when its name is not a safe file name. */
    Path keyFile(String user) {
        String name = user.matches("[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+") ? user : sha256Hex(user);
        return dir.resolve(name + ".key");
    }

    private static String sha256Hex(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Throwable unwrap(Throwable e) {
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    @Override
    public void close() {
        work.shutdownNow();
        try {
            work.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
