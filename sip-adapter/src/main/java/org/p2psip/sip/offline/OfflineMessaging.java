package org.p2psip.sip.offline;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.p2psip.sip.identity.CertificateDirectory;
import org.p2psip.sip.identity.SenderAuthentication;
import org.p2psip.sip.identity.UserIdentities;
import org.p2psip.sip.message.Address;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipParseException;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipUri;
import org.p2psip.sip.registrar.SignedContactStore;
import org.p2psip.sip.transport.Target;
import org.p2psip.sip.ua.UserAgentClient;
import org.p2psip.storage.RecordCrypto;
import org.p2psip.storage.RecordException;
import org.p2psip.storage.RecordKey;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.ValueContent;
import org.p2psip.storage.api.DraftDht;
import org.p2psip.storage.api.ImmutKey;
import org.p2psip.storage.api.OfflineMessages;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Offline MESSAGE: a MESSAGE for a user with no live contact is encrypted to the user's public key (found under
 * {@code certificate:}) and stored under {@code offline:user@domain} ({@link OfflineMessages}, signed with the
 * sender's own key and certificate, {@link SenderAuthentication}), so the storing nodes cannot read it and check
 * who sent it. When the user next registers at any peer, that peer
 * fetches the messages, decrypts them with the user's private key, delivers each as a MESSAGE to the phone that
 * registered, and removes the record (remove-auth with the user's key, which owns the name) after a 2xx.
 *
 * <p><b>Which REGISTERs read {@code offline:}.</b> A phone that refreshes every few seconds would otherwise cost one
 * DHT get per REGISTER that nearly always finds nothing. A REGISTER answered with 200 reads the key
 * ({@link #readDue}) when any of these holds:
 * <ol>
 * <li>one of its bindings is new at this peer (no live binding of that Contact registered here before: a first
 * REGISTER, after expiry, after {@code Expires: 0}, after a restart, or through an edge proxy's Path, which this
 * registrar does not track). A user with no live contact, the only one whose messages are stored offline by the
 * proxy's lookup, therefore always registers this way: the issue's rule "delivered on the next REGISTER" holds;</li>
 * <li>a hint came since the last complete read: this peer relayed a MESSAGE to one of the user's phones registered
 * here and it ended without a 2xx (the sender stores it offline), or this peer stored one for the user itself. A read
 * that started less than {@link OfflineChecks#SETTLE} after the hint does not clear it (the sender's put may land
 * later);</li>
 * <li>the last complete read is older than {@link #OFFLINE_RECHECK} (a sender that could not reach this peer at all
 * stores the message without any hint here). Phones that refresh every 5 minutes or more read at every REGISTER;</li>
 * <li>the last run did not end complete: the DHT read failed ({@link Stats#stoppedRuns}), more than
 * {@link #MAX_PER_REGISTER} were waiting, or the phone refused a delivery; or this peer knows nothing of the user
 * (at most {@link OfflineChecks#MAX_USERS} are remembered, least recently used first out).</li>
 * </ol>
 * Otherwise the REGISTER causes no DHT operation for offline messages ({@link Stats#skippedChecks}).
 *
 * <p>The encrypted plaintext is ours: {@code p2psip-offline-message/1} CRLF, then the original {@code From},
 * {@code Content-Type} and a {@code Date} (when it was left) as header lines, an empty line, and the body bytes.
 */
public final class OfflineMessaging {
    private static final Logger LOG = LoggerFactory.getLogger(OfflineMessaging.class);
    static final String VERSION = "p2psip-offline-message/1";
    /** How long a message waits for its recipient (the overlay's longest value lifetime). */
    public static final Duration LIFETIME = Duration.ofDays(7);
    /** Most messages delivered at one REGISTER (the rest wait for the next one). */
    static final int MAX_PER_REGISTER = 64;

    /**
     * How long a complete read of a user's {@code offline:} key answers the REGISTERs of a binding that stays live at
     * this peer (see the class comment). It covers messages stored by a sender that could not reach this peer at all.
     */
    public static final Duration OFFLINE_RECHECK = Duration.ofMinutes(5);

    /**
     * Counters, for tests and logs. {@code stoppedRuns}: delivery runs that ended early (the DHT read failed; the next
     * REGISTER tries again). {@code skippedChecks}: REGISTERs that did not read the {@code offline:} key because nothing
     * can be waiting there that this peer has not already looked for ({@link #readDue}).
     */
    public record Stats(long stored, long delivered, long removed, long failed, long refused, long runs,
            long stoppedRuns, long skippedChecks) {
    }

    /** Offline messages one source address may leave per minute (each costs a signature and a DHT put). */
    public static final int MAX_PER_MINUTE_PER_SOURCE = 60;
    private static final int MAX_SOURCES_TRACKED = 10_000;
    /** Per source address: the start of its current minute and the messages left in it. */
    private final Map<InetAddress, long[]> windows = new HashMap<>();
    private final AtomicLong refused = new AtomicLong();

    /**
     * Whether {@code source} may leave another offline message now (a fixed one-minute window per address, so an
     * unauthenticated sender cannot make this peer sign and store without bound). Counts the refusals.
     */
    public synchronized boolean admit(InetAddress source) {
        long now = clock.getAsLong();
        if (windows.size() > MAX_SOURCES_TRACKED) {
            windows.values().removeIf(w -> now - w[0] >= 60_000);
        }
        long[] w = windows.computeIfAbsent(source, k -> new long[] {now, 0});
        if (now - w[0] >= 60_000) {
            w[0] = now;
            w[1] = 0;
        }
        if (w[1] >= MAX_PER_MINUTE_PER_SOURCE) {
            refused.incrementAndGet();
            return false;
        }
        w[1]++;
        return true;
    }

    private final DraftDht dht;
    private final OfflineMessages messages;
    private final UserIdentities identities;
    private final CertificateDirectory certificates;
    private final UserAgentClient ua;
    private final LongSupplier clock;
    private final SecureRandom random = new SecureRandom();
    private final Set<String> delivering = ConcurrentHashMap.newKeySet();
    /** Per user, the delivery asked for while a run was under way (the latest REGISTER's phone). */
    private final Map<String, Runnable> again = new ConcurrentHashMap<>();
    private final AtomicLong stored = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong removed = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    /** Delivery runs finished (one per REGISTER that found no run in progress). */
    private final AtomicLong runs = new AtomicLong();
    private final AtomicLong stoppedRuns = new AtomicLong();
    /** Logs a stopped delivery run at most every 10 s, with a count of the others (an overloaded DHT fails many). */
    private final Object stoppedLog = new Object();
    private long stoppedLoggedAt = Long.MIN_VALUE;
    private long stoppedUnlogged;

    private final SenderAuthentication senders;
    /** Which REGISTERs read the offline: key (not every refresh does). */
    private final OfflineChecks checks;

    /** @param senders who a MESSAGE speaks for: the message is signed with that sender's key */
    public OfflineMessaging(DraftDht dht, UserIdentities identities, UserAgentClient ua, LongSupplier clock,
            SenderAuthentication senders) {
        this.senders = senders;
        this.dht = dht;
        this.messages = new OfflineMessages(dht);
        this.identities = identities;
        this.certificates = new CertificateDirectory(dht);
        this.ua = ua;
        this.clock = clock;
        this.checks = new OfflineChecks(OfflineChecks.MAX_USERS, OFFLINE_RECHECK, clock);
    }

    /** Who a MESSAGE may be stored for (the proxy asks before {@link #leave}). */
    public SenderAuthentication senders() {
        return senders;
    }

    public Stats stats() {
        return new Stats(stored.get(), delivered.get(), removed.get(), failed.get(), refused.get(), runs.get(),
                stoppedRuns.get(), checks.skipped());
    }

    /**
     * Whether a REGISTER of {@code aor} that this peer answered with 200 must read the user's {@code offline:} key
     * (then {@link #deliver} follows), or may skip it (counted in {@link Stats#skippedChecks}). See the class comment.
     *
     * @param newHere whether the REGISTER made a binding that was not live at this peer before it
     */
    public boolean readDue(String aor, boolean newHere) {
        return checks.due(SignedContactStore.userOf(aor), newHere);
    }

    /**
     * A MESSAGE this peer relayed to a phone of {@code aor} registered here ended without a 2xx: its sender stores it
     * offline, so the user's next REGISTER here reads the {@code offline:} key.
     */
    public void undelivered(String aor) {
        checks.hint(SignedContactStore.userOf(aor));
    }

    /**
     * How long a complete read answers the REGISTERs of a binding that stays live here ({@link #OFFLINE_RECHECK} by
     * default; 0 reads at every REGISTER, as before this rule). Tests shorten it.
     */
    public void recheckAfter(Duration d) {
        checks.recheckAfter(d);
    }

    /** Whether {@code aor} is a user who can receive offline messages: one with a published certificate. */
    public CompletableFuture<Boolean> knows(String aor) {
        return certificates.find(SignedContactStore.userOf(aor)).thenApply(Optional::isPresent);
    }

    /**
     * Stores {@code message} for {@code aor}, signed with the key and certificate of {@code sender}
     * ({@code user@domain}, whom {@link #senders()} vouched for). Completes with false when the user has no published
     * certificate (an unknown user: the caller answers 404), true once stored (202).
     */
    public CompletableFuture<Boolean> leave(String aor, SipRequest message, String sender) {
        String user = SignedContactStore.userOf(aor);
        byte[] plain = encode(message);
        record Parties(Optional<java.security.cert.X509Certificate> cert, SigningIdentity signer) { }
        return certificates.find(user).thenCombine(identities.identity(sender), Parties::new).thenComposeAsync(p -> {
            Optional<java.security.cert.X509Certificate> cert = p.cert();
            SigningIdentity signer = p.signer();
            if (cert.isEmpty()) {
                return CompletableFuture.completedFuture(false);
            }
            Instant expires = Instant.ofEpochMilli(clock.getAsLong()).plus(LIFETIME);
            String type = message.contentType().orElse("text/plain").toLowerCase(java.util.Locale.ROOT)
                    .startsWith("text/") ? RecordCrypto.TYPE_OFFLINE_TEXT : OfflineMessages.TYPE_AUDIO;
            return messages.leave(user, cert.get().getPublicKey(), user, type, plain, signer, expires, nonce())
                    .thenApply(r -> {
                        stored.incrementAndGet();
                        checks.hint(user); // the user's next REGISTER here reads it, even a refresh
                        LOG.info("stored an offline message from {} for {} ({} bytes)", sender, user, plain.length);
                        return true;
                    });
        }, identities.executor());
    }

    /**
     * Delivers the messages waiting for {@code aor} to the phone at {@code contact}, reached at {@code target},
     * one at a time; each is removed after the phone's 2xx. Stops at the first failure (the rest wait for the next
     * REGISTER). At most one delivery runs per user. Always reads the key; a registrar asks {@link #readDue} first.
     */
    public void deliver(String aor, SipUri contact, Target target) {
        deliver(aor, contact, target, List.of());
    }

    /**
     * As {@link #deliver(String, SipUri, Target)}, for a phone registered through an edge proxy: each MESSAGE carries
     * {@code routes} (the binding's Path, RFC 3327) as its Route set and goes to {@code target}, the first of them.
     */
    public void deliver(String aor, SipUri contact, Target target, List<String> routes) {
        String user = SignedContactStore.userOf(aor);
        if (!delivering.add(user)) {
            // a run is under way (it may have read the record before this REGISTER's messages were left): one more
            // run follows it, to the phone of the latest REGISTER
            again.put(user, () -> deliver(aor, contact, target, routes));
            return;
        }
        ResourceName name;
        try {
            name = ResourceName.offline(user);
        } catch (IllegalArgumentException e) {
            delivering.remove(user);
            return;
        }
        long started = clock.getAsLong();
        java.util.concurrent.atomic.AtomicBoolean left = new java.util.concurrent.atomic.AtomicBoolean();
        identities.identity(user)
                .thenCompose(id -> dht.get(name).thenCompose(values -> {
                    left.set(values.size() > MAX_PER_REGISTER); // the rest wait: the next REGISTER reads again
                    return deliverEach(aor, contact, target, routes, name, id,
                            values.subList(0, Math.min(values.size(), MAX_PER_REGISTER)), 0);
                }))
                .whenComplete((x, e) -> {
                    checks.finished(user, started, e == null && !left.get());
                    delivering.remove(user);
                    runs.incrementAndGet();
                    if (e != null) {
                        stoppedRuns.incrementAndGet();
                        logStopped(user, e);
                    }
                    Runnable next = again.remove(user);
                    if (next != null) {
                        next.run();
                    }
                });
    }

    private void logStopped(String user, Throwable e) {
        long others;
        synchronized (stoppedLog) {
            long now = clock.getAsLong();
            if (stoppedLoggedAt != Long.MIN_VALUE && now - stoppedLoggedAt < 10_000) {
                stoppedUnlogged++;
                return;
            }
            stoppedLoggedAt = now;
            others = stoppedUnlogged;
            stoppedUnlogged = 0;
        }
        LOG.info("offline delivery to {} stopped: {}; it is tried again at the user's next REGISTER{}", user,
                e.toString(), others == 0 ? "" : " (" + others + " other deliveries stopped since the last such line)");
    }

    private CompletableFuture<Void> deliverEach(String aor, SipUri contact, Target target, List<String> routes,
            ResourceName name,
            SigningIdentity id, List<DraftDht.SignedValue> values, int i) {
        if (i >= values.size()) {
            return CompletableFuture.completedFuture(null);
        }
        DraftDht.SignedValue v = values.get(i);
        if (!(v.content() instanceof ValueContent.Encrypted enc)) {
            return deliverEach(aor, contact, target, routes, name, id, values, i + 1);
        }
        return open(enc, id).thenCompose(plain -> {
            if (plain.isEmpty()) { // not for this key, or altered: left for its writer or expiry
                failed.incrementAndGet();
                return CompletableFuture.completedFuture(null);
            }
            SipRequest m;
            try {
                m = message(aor, contact, plain.get(), routes);
            } catch (SipParseException | IllegalArgumentException e) {
                LOG.warn("an offline message for {} is unreadable after decryption: {}", aor, e.getMessage());
                failed.incrementAndGet();
                return CompletableFuture.completedFuture(null);
            }
            return ua.send(m, target).thenCompose(resp -> {
                if (!resp.isSuccess()) {
                    failed.incrementAndGet();
                    throw new java.util.concurrent.CompletionException(new IllegalStateException(
                            "the phone answered " + resp.status() + " to an offline message"));
                }
                delivered.incrementAndGet();
                return dht.removeAuth(RecordKey.of("k", name), v.value(), id).thenRun(removed::incrementAndGet);
            });
        }).thenCompose(x -> deliverEach(aor, contact, target, routes, name, id, values, i + 1));
    }

    private CompletableFuture<Optional<byte[]>> open(ValueContent.Encrypted enc, SigningIdentity id) {
        try {
            String uri = RecordCrypto.cipherReference(enc);
            if (uri == null) {
                return CompletableFuture.completedFuture(Optional.of(RecordCrypto.decrypt(enc, id.privateKey())));
            }
            return dht.getImmut(ImmutKey.fromUri(uri)).thenApply(content -> {
                try {
                    return content.isEmpty() ? Optional.<byte[]>empty()
                            : Optional.of(RecordCrypto.decrypt(enc, id.privateKey(), content.get().value()));
                } catch (RecordException e) {
                    return Optional.<byte[]>empty();
                }
            });
        } catch (RecordException | IllegalArgumentException e) {
            LOG.info("an offline message cannot be opened: {}", e.getMessage());
            return CompletableFuture.completedFuture(Optional.empty());
        }
    }

    /** The stored plaintext of a MESSAGE. */
    byte[] encode(SipRequest m) {
        Address from = m.from();
        String head = VERSION + "\r\n"
                + "From: " + from.withParams(from.params().without("tag")) + "\r\n"
                + "Content-Type: " + m.contentType().orElse("text/plain") + "\r\n"
                + "Date: " + DateTimeFormatter.RFC_1123_DATE_TIME.format(
                        Instant.ofEpochMilli(clock.getAsLong()).atOffset(ZoneOffset.UTC)) + "\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.UTF_8);
        byte[] out = Arrays.copyOf(h, h.length + m.body().length);
        System.arraycopy(m.body(), 0, out, h.length, m.body().length);
        return out;
    }

    /** The MESSAGE that delivers a stored plaintext to the phone. */
    SipRequest message(String aor, SipUri contact, byte[] plain) throws SipParseException {
        return message(aor, contact, plain, List.of());
    }

    /** The MESSAGE that delivers a stored plaintext to the phone, with {@code routes} as its Route set. */
    SipRequest message(String aor, SipUri contact, byte[] plain, List<String> routes) throws SipParseException {
        int end = indexOf(plain, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        if (end < 0) {
            throw new IllegalArgumentException("no end of headers");
        }
        String[] lines = new String(plain, 0, end, StandardCharsets.UTF_8).split("\r\n");
        if (!lines[0].equals(VERSION)) {
            throw new IllegalArgumentException("not a " + VERSION + " message");
        }
        String from = null;
        String type = "text/plain";
        String date = null;
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon < 0) {
                continue;
            }
            String k = lines[i].substring(0, colon).trim();
            String val = lines[i].substring(colon + 1).trim();
            switch (k) {
                case "From" -> from = val;
                case "Content-Type" -> type = val;
                case "Date" -> date = val;
                default -> { }
            }
        }
        if (from == null) {
            throw new IllegalArgumentException("no From");
        }
        Address fromAddr = Address.parse(from, HeaderNames.FROM).withTag(ua.uniqueId());
        byte[] body = Arrays.copyOfRange(plain, end + 4, plain.length);
        SipRequest.Builder b = SipRequest.builder(SipRequest.MESSAGE, contact)
                .header(HeaderNames.MAX_FORWARDS, 70)
                .header(HeaderNames.FROM, fromAddr)
                .header(HeaderNames.TO, "<" + aor + ">")
                .header(HeaderNames.CALL_ID, ua.uniqueId() + "@" + ua.host())
                .header(HeaderNames.CSEQ, "1 " + SipRequest.MESSAGE);
        if (date != null) {
            b.header("Date", date);
        }
        for (String route : routes) {
            b.header(HeaderNames.ROUTE, route);
        }
        return b.build().withBody(body, type);
    }

    private static int indexOf(byte[] a, byte[] b) {
        outer:
        for (int i = 0; i + b.length <= a.length; i++) {
            for (int j = 0; j < b.length; j++) {
                if (a[i + j] != b[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private String nonce() {
        byte[] b = new byte[12];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
