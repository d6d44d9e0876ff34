package org.p2psip.node.api;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipParseException;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.SipUri;
import org.p2psip.sip.registrar.ContactBinding;
import org.p2psip.sip.registrar.Registrar;
import org.p2psip.sip.transaction.ServerTransaction;
import org.p2psip.sip.transport.Target;
import org.p2psip.sip.transport.Transport;
import org.p2psip.sip.ua.LocalEndpoint;
import org.p2psip.sip.ua.UserAgentClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The user agent of the application embedded in a peer: it registers AORs as signed contact records whose Contact
 * is this peer's own SIP address ({@code <sip:user@host:port>}), sends its requests as real SIP through the peer's
 * proxy (its outbound proxy: the local stack sends to its own port), and receives, as the proxy's
 * {@link LocalEndpoint}, the requests other peers forward to those Contacts. Slow or application code never runs on
 * the SIP transaction thread: listeners run on {@code events}, timers on {@code timers}.
 */
final class SipEndpoint implements LocalEndpoint, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SipEndpoint.class);
    /** Retry delay after a failed registration refresh. */
    static final long RETRY_MS = 10_000;

    /** One AOR registered through the API. */
    private static final class Reg {
        final String aor;
        final String contact;
        final SipUri contactUri;
        final Duration lifetime;
        ScheduledFuture<?> refresh;

        Reg(String aor, String contact, SipUri contactUri, Duration lifetime) {
            this.aor = aor;
            this.contact = contact;
            this.contactUri = contactUri;
            this.lifetime = lifetime;
        }
    }

    final SipPeer sip;
    final UserAgentClient ua;
    final Target self;
    final ScheduledExecutorService timers;
    final ExecutorService events;
    private final Map<String, Reg> registrations = new ConcurrentHashMap<>();
    final PresenceWatches presence;
    final Calls calls;
    private volatile IncomingListener incoming;

    SipEndpoint(SipPeer sip) {
        this.sip = sip;
        InetSocketAddress local = sip.localAddress();
        this.ua = new UserAgentClient(sip.stack().transactions(), local);
        this.self = new Target(Transport.UDP, local);
        this.timers = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "p2psip-api-timers"));
        this.events = Executors.newSingleThreadExecutor(r -> daemon(r, "p2psip-api-events"));
        this.presence = new PresenceWatches(this);
        this.calls = new Calls(this);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** {@code sip:bob@example.net}, {@code bob@example.net} or {@code <sip:bob@example.net>} → the AOR text. */
    static String aor(String text) {
        String t = text == null ? "" : text.strip();
        if (t.startsWith("<") && t.endsWith(">")) {
            t = t.substring(1, t.length() - 1);
        }
        String lower = t.toLowerCase(Locale.ROOT);
        if (!lower.startsWith("sip:") && !lower.startsWith("sips:")) {
            t = "sip:" + t;
        }
        try {
            SipUri u = SipUri.parse(t);
            if (u.user().isEmpty() || u.user().get().isEmpty()) {
                throw new IllegalArgumentException("not an address of record (no user part): '" + text
                        + "'; write sip:user@domain");
            }
            return Registrar.aorOf(u);
        } catch (SipParseException e) {
            throw new IllegalArgumentException("not a SIP address of record: '" + text + "' (" + e.reason()
                    + "); write sip:user@domain", e);
        }
    }

    /** This peer's Contact for {@code aor}'s user: {@code sip:user@host:port}. */
    SipUri contactFor(String aor) {
        String user = SipUri.parse(aor).user().orElseThrow();
        return SipUri.of(user, ua.host(), ua.port());
    }

    // ------------------------------------------------------------------ registration

    CompletableFuture<Registration> register(String aorText, Duration lifetime) {
        String aor = aor(aorText);
        if (lifetime.toSeconds() < 1) {
            throw new IllegalArgumentException("a registration lasts at least 1 s, not " + lifetime);
        }
        SipUri uri = contactFor(aor);
        Reg r = new Reg(aor, "<" + uri + ">", uri, lifetime);
        Reg old = registrations.put(aor, r);
        if (old != null && old.refresh != null) {
            old.refresh.cancel(false);
        }
        return put(r);
    }

    /** Stores (or refreshes) the signed contact record, then schedules the refresh and delivers offline messages. */
    private CompletableFuture<Registration> put(Reg r) {
        long expires = System.currentTimeMillis() + r.lifetime.toMillis();
        ContactBinding b = new ContactBinding(r.aor, r.contact, null, sip.proxy().selfUri(), expires);
        return sip.contacts().put(b).thenApply(x -> {
            synchronized (r) {
                if (registrations.get(r.aor) == r) {
                    // refresh at two thirds of the lifetime, as phones do
                    r.refresh = timers.schedule(() -> refresh(r), Math.max(500, r.lifetime.toMillis() * 2 / 3),
                            TimeUnit.MILLISECONDS);
                }
            }
            // messages left while the user was offline come now, as after a phone's REGISTER
            sip.offline().ifPresent(o -> o.deliver(r.aor, r.contactUri, self));
            return new Registration(r.aor, r.contact, Instant.ofEpochMilli(expires));
        });
    }

    private void refresh(Reg r) {
        if (registrations.get(r.aor) != r) {
            return;
        }
        put(r).whenComplete((reg, e) -> {
            if (e != null) {
                LOG.warn("refreshing the registration of {} failed: {}; retrying in {} s", r.aor, e.toString(),
                        RETRY_MS / 1000);
                synchronized (r) {
                    if (registrations.get(r.aor) == r) {
                        r.refresh = timers.schedule(() -> refresh(r), RETRY_MS, TimeUnit.MILLISECONDS);
                    }
                }
            }
        });
    }

    CompletableFuture<Void> unregister(String aorText) {
        String aor = aor(aorText);
        Reg r = registrations.remove(aor);
        if (r == null) {
            return CompletableFuture.completedFuture(null);
        }
        synchronized (r) {
            if (r.refresh != null) {
                r.refresh.cancel(false);
            }
        }
        return sip.contacts().remove(aor, r.contact);
    }

    boolean registered(String aor) {
        return registrations.containsKey(aor);
    }

    List<String> registeredAors() {
        return List.copyOf(registrations.keySet());
    }

    CompletableFuture<List<ContactInfo>> lookup(String aorText) {
        String aor = aor(aorText);
        return sip.contacts().lookup(aor).thenApply(bs -> {
            List<ContactInfo> out = new ArrayList<>();
            for (ContactBinding b : bs) {
                out.add(new ContactInfo(b.aor(), b.contact(), b.path(), b.q(), Instant.ofEpochMilli(b.expiresAtMillis())));
            }
            return List.copyOf(out);
        });
    }

    // ------------------------------------------------------------------ MESSAGE

    CompletableFuture<MessageResult> sendMessage(String fromText, String toText, String contentType, byte[] body) {
        String from = aor(fromText);
        String to = aor(toText);
        if (contentType == null || contentType.isBlank() || contentType.indexOf('/') < 0) {
            throw new IllegalArgumentException("a MESSAGE needs a content type such as text/plain, not '"
                    + contentType + "'");
        }
        SipRequest m = SipRequest.builder(SipRequest.MESSAGE, SipUri.parse(to))
                .header(HeaderNames.MAX_FORWARDS, 70)
                .header(HeaderNames.FROM, "<" + from + ">;tag=" + ua.uniqueId())
                .header(HeaderNames.TO, "<" + to + ">")
                .header(HeaderNames.CALL_ID, ua.uniqueId() + "@" + ua.host())
                .header(HeaderNames.CSEQ, "1 " + SipRequest.MESSAGE)
                .build().withBody(body, contentType.strip());
        // through this peer's own proxy, exactly as a phone's MESSAGE: lookup, forwarding, offline storage
        return ua.send(m, self).thenApply(r -> new MessageResult(r.status(), r.reason()));
    }

    CallAttempt dial(String fromText, String toText, String contentType, String offer) {
        String from = aor(fromText);
        String to = aor(toText);
        return calls.dial(from, to, new SessionDescription(contentType, offer));
    }

    void onIncoming(IncomingListener l) {
        this.incoming = l;
    }

    // ------------------------------------------------------------------ LocalEndpoint (transaction thread)

    @Override
    public void onRequest(ServerTransaction tx, SipRequest r) {
        switch (r.method()) {
            case SipRequest.MESSAGE -> onMessage(tx, r);
            case SipRequest.NOTIFY -> presence.onNotify(tx, r);
            case SipRequest.INVITE -> calls.onInvite(tx, r, incoming);
            case SipRequest.BYE -> calls.onBye(tx, r);
            case SipRequest.OPTIONS -> {
                if (addressedAor(r) == null) {
                    tx.respond(404, "Not Found (no such user registered here)");
                } else {
                    SipResponse ok = tx.createResponse(200, "OK");
                    tx.respond(ok.withHeaders(ok.headers().add(HeaderNames.ALLOW,
                            "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, NOTIFY")));
                }
            }
            default -> {
                SipResponse resp = tx.createResponse(405, "Method Not Allowed");
                tx.respond(resp.withHeaders(resp.headers().add(HeaderNames.ALLOW,
                        "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, NOTIFY")));
            }
        }
    }

    @Override
    public void onAck(SipRequest ack) {
        calls.onAck(ack);
    }

    @Override
    public void onCancelled(ServerTransaction invite) {
        calls.onCancelled(invite);
    }

    /** The AOR a request is for: its To, if that AOR is registered through the API. */
    String addressedAor(SipRequest r) {
        try {
            return r.to().sipUri().map(Registrar::aorOf).filter(this::registered).orElse(null);
        } catch (SipParseException e) {
            return null;
        }
    }

    private void onMessage(ServerTransaction tx, SipRequest r) {
        String aor = addressedAor(r);
        if (aor == null) {
            tx.respond(404, "Not Found (no such user registered here)");
            return;
        }
        IncomingListener l = incoming;
        if (l == null) {
            tx.respond(480, "Temporarily Unavailable (the application listens for nothing)");
            return;
        }
        IncomingMessage m;
        try {
            m = new IncomingMessage(r.from().withParams(r.from().params().without("tag")).toString(), aor,
                    r.contentType().orElse("text/plain"), r.body());
        } catch (SipParseException e) {
            tx.respond(400, e.reason());
            return;
        }
        events.execute(() -> {
            try {
                l.onMessage(m);
                tx.respond(200, "OK");
            } catch (RuntimeException e) {
                LOG.warn("the application's listener failed on a MESSAGE for {}", aor, e);
                tx.respond(500, "Server Internal Error (the application failed)");
            }
        });
    }

    /** Unregisters every AOR (waiting up to {@code waitMillis}), ends subscriptions and stops the threads. */
    void close(long waitMillis) {
        List<CompletableFuture<Void>> ops = new ArrayList<>();
        for (String aor : registeredAors()) {
            ops.add(unregister(aor));
        }
        ops.add(presence.cancelAll());
        try {
            CompletableFuture.allOf(ops.toArray(CompletableFuture[]::new)).get(waitMillis, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.info("closing: not every registration was removed in time (they expire): {}", e.toString());
        }
        sip.proxy().localEndpoint(null);
        timers.shutdownNow();
        events.shutdownNow();
    }

    @Override
    public void close() {
        close(3000);
    }

    static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }
}
