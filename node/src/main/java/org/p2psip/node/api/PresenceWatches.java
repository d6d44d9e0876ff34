package org.p2psip.node.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.p2psip.sip.message.Contact;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipParseException;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.SipUri;
import org.p2psip.sip.message.Uri;
import org.p2psip.sip.presence.Pidf;
import org.p2psip.sip.transaction.ServerTransaction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's presence subscriptions (RFC 6665 subscriber side, RFC 3856 presence): a SUBSCRIBE through this peer's
 * proxy, whose presence agent answers it, stores the encrypted watcher record and listens to the presentity's
 * contact records; its NOTIFYs come back to the watcher's Contact at this peer ({@code <sip:watcher@host:port>}) and
 * reach the {@link PresenceListener}. Refreshed at two thirds of the granted duration; cancelled with
 * {@code Expires: 0}. Dialogs are keyed by Call-ID (ours, unique).
 */
final class PresenceWatches {
    private static final Logger LOG = LoggerFactory.getLogger(PresenceWatches.class);
    private static final Pattern BASIC = Pattern.compile("<(?:[A-Za-z0-9_-]+:)?basic>\\s*(open|closed)\\s*</",
            Pattern.CASE_INSENSITIVE);

    /** One subscription's dialog state (guarded by itself). */
    private static final class Watch {
        final String watcher;
        final String presentity;
        final String callId;
        final String localTag;
        final PresenceListener listener;
        final long seconds;
        String remoteTag;
        Uri remoteTarget;
        long cseq = 1;
        boolean ended;
        ScheduledFuture<?> refresh;

        Watch(String watcher, String presentity, String callId, String localTag, PresenceListener listener,
                long seconds) {
            this.watcher = watcher;
            this.presentity = presentity;
            this.callId = callId;
            this.localTag = localTag;
            this.listener = listener;
            this.seconds = seconds;
        }
    }

    private final SipEndpoint ep;
    private final Map<String, Watch> watches = new ConcurrentHashMap<>();

    PresenceWatches(SipEndpoint ep) {
        this.ep = ep;
    }

    CompletableFuture<PresenceWatch> subscribe(String watcherText, String presentityText, PresenceListener listener,
            long seconds) {
        String watcher = SipEndpoint.aor(watcherText);
        String presentity = SipEndpoint.aor(presentityText);
        if (listener == null) {
            throw new IllegalArgumentException("a presence subscription needs a listener");
        }
        Watch w = new Watch(watcher, presentity, ep.ua.uniqueId() + "@" + ep.ua.host(), ep.ua.uniqueId(), listener,
                seconds);
        watches.put(w.callId, w);
        SipRequest s = request(w, SipUri.parse(presentity), null, 1, seconds);
        return ep.ua.send(s, ep.self).thenApply(resp -> {
            if (!resp.isSuccess()) {
                watches.remove(w.callId);
                throw new CompletionException(new IllegalStateException("the SUBSCRIBE of " + watcher + " to "
                        + presentity + " was answered " + resp.status() + " " + resp.reason()));
            }
            synchronized (w) {
                w.remoteTag = resp.to().tag().orElse(w.remoteTag);
                w.remoteTarget = contactOf(resp).orElse(SipUri.parse(presentity));
                scheduleRefresh(w, granted(resp, seconds));
            }
            return new PresenceWatch(watcher, presentity, this, w.callId);
        });
    }

    private SipRequest request(Watch w, Uri target, String remoteTag, long cseq, long expires) {
        String to = "<" + w.presentity + ">" + (remoteTag == null ? "" : ";tag=" + remoteTag);
        return SipRequest.builder(SipRequest.SUBSCRIBE, target)
                .header(HeaderNames.MAX_FORWARDS, 70)
                .header(HeaderNames.FROM, "<" + w.watcher + ">;tag=" + w.localTag)
                .header(HeaderNames.TO, to)
                .header(HeaderNames.CALL_ID, w.callId)
                .header(HeaderNames.CSEQ, cseq + " " + SipRequest.SUBSCRIBE)
                .header(HeaderNames.CONTACT, "<" + ep.contactFor(w.watcher) + ">")
                .header(HeaderNames.EVENT, "presence")
                .header(HeaderNames.ACCEPT, Pidf.CONTENT_TYPE)
                .header(HeaderNames.EXPIRES, expires)
                .build();
    }

    private static Optional<Uri> contactOf(SipResponse r) {
        try {
            List<Contact> cs = r.contacts();
            return cs.isEmpty() || cs.get(0).wildcard() ? Optional.empty() : Optional.of(cs.get(0).address().uri());
        } catch (SipParseException e) {
            return Optional.empty();
        }
    }

    private static long granted(SipResponse r, long asked) {
        try {
            return r.expires().orElse(asked);
        } catch (SipParseException e) {
            return asked;
        }
    }

    private void scheduleRefresh(Watch w, long grantedSeconds) {
        if (w.refresh != null) {
            w.refresh.cancel(false);
        }
        if (!w.ended && grantedSeconds > 0) {
            w.refresh = ep.timers.schedule(() -> inDialog(w, w.seconds), Math.max(1, grantedSeconds * 2 / 3),
                    TimeUnit.SECONDS);
        }
    }

    /** A SUBSCRIBE in the dialog: a refresh, or with 0 the unsubscription. */
    private CompletableFuture<Void> inDialog(Watch w, long expires) {
        SipRequest s;
        synchronized (w) {
            if (w.ended || w.remoteTag == null) {
                return CompletableFuture.completedFuture(null);
            }
            s = request(w, w.remoteTarget, w.remoteTag, ++w.cseq, expires);
        }
        return ep.ua.send(s, ep.self).handle((resp, err) -> {
            synchronized (w) {
                if (err != null || resp.status() == 481 || resp.status() == 408) {
                    LOG.info("presence subscription of {} to {} ended: {}", w.watcher, w.presentity,
                            err != null ? SipEndpoint.unwrap(err).toString() : resp.status() + " " + resp.reason());
                    end(w, false);
                } else if (expires > 0 && resp.isSuccess()) {
                    scheduleRefresh(w, granted(resp, expires));
                }
            }
            return null;
        });
    }

    CompletableFuture<Void> cancel(String callId) {
        Watch w = watches.get(callId);
        if (w == null) {
            return CompletableFuture.completedFuture(null);
        }
        synchronized (w) {
            if (w.refresh != null) {
                w.refresh.cancel(false);
            }
        }
        // the final NOTIFY (terminated) removes it; if none comes, it goes after 64*T1
        ep.timers.schedule(() -> watches.remove(callId, w), 32, TimeUnit.SECONDS);
        return inDialog(w, 0);
    }

    CompletableFuture<Void> cancelAll() {
        List<CompletableFuture<Void>> ops = new ArrayList<>();
        for (String id : List.copyOf(watches.keySet())) {
            ops.add(cancel(id));
        }
        return CompletableFuture.allOf(ops.toArray(CompletableFuture[]::new));
    }

    /** On the transaction thread: a NOTIFY to a watcher's Contact here. */
    void onNotify(ServerTransaction tx, SipRequest r) {
        Watch w = watches.get(r.callId().strip());
        if (w == null) {
            tx.respond(481, "Subscription Does Not Exist");
            return;
        }
        String state = r.headers().first("Subscription-State").orElse("active").split(";", 2)[0].strip();
        Matcher m = BASIC.matcher(r.bodyText());
        boolean open = m.find() && m.group(1).equalsIgnoreCase("open");
        boolean terminated = state.equalsIgnoreCase("terminated");
        synchronized (w) {
            if (w.ended) {
                tx.respond(481, "Subscription Does Not Exist");
                return;
            }
            if (w.remoteTag == null) {
                w.remoteTag = r.from().tag().orElse(null); // the NOTIFY overtook the 202
            }
            tx.respond(200, "OK");
            if (terminated) {
                end(w, true);
            }
        }
        PresenceState ps = new PresenceState(w.presentity, open, terminated);
        ep.events.execute(() -> {
            try {
                w.listener.onPresence(ps);
            } catch (RuntimeException e) {
                LOG.warn("the application's presence listener for {} failed", w.presentity, e);
            }
        });
    }

    /** Marks the watch over (guarded by {@code w}); tells the listener unless a terminated NOTIFY just did. */
    private void end(Watch w, boolean told) {
        if (w.ended) {
            return;
        }
        w.ended = true;
        if (w.refresh != null) {
            w.refresh.cancel(false);
        }
        watches.remove(w.callId, w);
        if (!told) {
            PresenceState ps = new PresenceState(w.presentity, false, true);
            ep.events.execute(() -> w.listener.onPresence(ps));
        }
    }
}
