package org.p2psip.node.api;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import org.p2psip.sip.message.Address;
import org.p2psip.sip.message.Contact;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipParseException;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.Uri;
import org.p2psip.sip.proxy.Proxy;
import org.p2psip.sip.transaction.ServerTransaction;
import org.p2psip.sip.transaction.TransactionLayer;
import org.p2psip.sip.transport.Target;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One INVITE dialog of the application (RFC 3261 §12), whichever side made it: its identifiers, remote target, route
 * set and CSeq numbers, and what happens in it: re-INVITEs either way (§14), ACKs of its 2xx, and the BYE that ends
 * it (§15). State changes run on the transaction thread; the application's re-INVITE handler on the event thread.
 */
final class Dialog implements Call.Control {
    private static final Logger LOG = LoggerFactory.getLogger(Dialog.class);

    private final SipEndpoint ep;
    private final TransactionLayer layer;
    private final String callId;
    private final String localAor;
    private final Address local;
    private final Address remote;
    private final List<String> routeSet;
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private final Consumer<Dialog> forget;
    /** Our 2xx still waiting for their ACK, by CSeq number. */
    private final Map<Long, OkRetransmitter> unacked = new HashMap<>();
    private volatile Consumer<Reinvite> reinviteHandler;
    private Call call;
    private Uri remoteTarget;
    private long localCseq;
    private long remoteCseq;
    private SessionDescription localSession;
    private boolean ourReinvite;
    private boolean theirReinvite;
    private boolean over;

    private Dialog(SipEndpoint ep, String callId, String localAor, Address local, Address remote, Uri remoteTarget,
            List<String> routeSet, long localCseq, long remoteCseq, SessionDescription localSession, Consumer<Dialog> forget) {
        this.ep = ep;
        this.layer = ep.sip.stack().transactions();
        this.callId = callId;
        this.localAor = localAor;
        this.local = local;
        this.remote = remote;
        this.remoteTarget = remoteTarget;
        this.routeSet = List.copyOf(routeSet);
        this.localCseq = localCseq;
        this.remoteCseq = remoteCseq;
        this.localSession = localSession;
        this.forget = forget;
    }

    /**
     * The caller's dialog, from the 2xx (§12.1.2): the route set is its Record-Route reversed, the remote target its
     * Contact.
     *
     * @throws IllegalStateException when the 2xx has no Contact
     */
    static Dialog asCaller(SipEndpoint ep, SipRequest invite, SipResponse ok, String localAor,
            SessionDescription offer, Consumer<Dialog> forget) {
        List<Contact> cs = ok.contacts();
        if (cs.isEmpty() || cs.get(0).wildcard()) {
            throw new IllegalStateException("no Contact in the 2xx");
        }
        List<String> rr = new ArrayList<>(ok.headers().all(HeaderNames.RECORD_ROUTE));
        Collections.reverse(rr);
        return new Dialog(ep, invite.callId(), localAor, invite.from(), ok.to(), cs.get(0).address().uri(), rr,
                invite.cseq().number(), -1, offer, forget);
    }

    /** The callee's dialog, from the INVITE (§12.1.1): the route set is its Record-Route, the target its Contact. */
    static Dialog asCallee(SipEndpoint ep, SipRequest invite, String localTag, Uri remoteTarget, String localAor,
            SessionDescription answer, Consumer<Dialog> forget) {
        return new Dialog(ep, invite.callId(), localAor, invite.to().withTag(localTag), invite.from(), remoteTarget,
                invite.headers().all(HeaderNames.RECORD_ROUTE), 0, invite.cseq().number(), answer, forget);
    }

    /** The call object the application holds, for {@link Reinvite#call()}. */
    void call(Call c) {
        this.call = c;
    }

    /** Our tag: with the Call-ID, what in-dialog requests are matched by. */
    String localTag() {
        return local.tag().orElse("");
    }

    /** A request in the dialog (§12.2.1.1), without Via. */
    private SipRequest request(String method, long cseq, SessionDescription body) {
        SipRequest.Builder b = SipRequest.builder(method, remoteTarget);
        for (String r : routeSet) {
            b.header(HeaderNames.ROUTE, r);
        }
        b.header(HeaderNames.MAX_FORWARDS, 70)
                .header(HeaderNames.FROM, local)
                .header(HeaderNames.TO, remote)
                .header(HeaderNames.CALL_ID, callId)
                .header(HeaderNames.CSEQ, cseq + " " + method);
        if (method.equals(SipRequest.INVITE)) {
            b.header(HeaderNames.CONTACT, "<" + ep.contactFor(localAor) + ">");
        }
        return body == null || body.isEmpty() ? b.build() : b.body(body.contentType(), body.body()).build();
    }

    /** Where requests of the dialog go first: the first route, else the remote target. */
    private Optional<Target> firstHop() {
        try {
            Uri first = routeSet.isEmpty() ? remoteTarget : Address.parse(routeSet.get(0), HeaderNames.ROUTE).uri();
            return Proxy.targetOf(first);
        } catch (SipParseException e) {
            return Optional.empty();
        }
    }

    /** The ACK of the 2xx to our INVITE with this CSeq number (§13.2.2.4), or null when it cannot be routed. */
    InviteClient.Ack ackFor(long cseq) {
        Optional<Target> t = firstHop();
        return t.map(target -> new InviteClient.Ack(request(SipRequest.ACK, cseq, null), target)).orElse(null);
    }

    // ------------------------------------------------------------------ our requests

    @Override
    public CompletableFuture<Void> hangup() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        layer.execute(() -> {
            if (over) {
                done.completeExceptionally(new IllegalStateException("the call " + callId + " is over"));
                return;
            }
            bye().whenComplete((x, e) -> complete(done, null, e));
        });
        return done;
    }

    /** Sends a BYE and ends the dialog. On the transaction thread. */
    private CompletableFuture<Void> bye() {
        end();
        Optional<Target> t = firstHop();
        if (t.isEmpty()) {
            return CompletableFuture.failedFuture(new IllegalStateException("cannot route a BYE to " + remoteTarget));
        }
        return ep.ua.send(request(SipRequest.BYE, ++localCseq, null), t.get()).thenApply(r -> (Void) null);
    }

    @Override
    public CompletableFuture<SessionDescription> reinvite(SessionDescription offer) {
        CompletableFuture<SessionDescription> result = new CompletableFuture<>();
        layer.execute(() -> {
            String busy = over ? "is over" : ourReinvite || theirReinvite ? "has a re-INVITE in progress" : null;
            Optional<Target> t = firstHop();
            if (busy == null && t.isEmpty()) {
                busy = "has no route to " + remoteTarget;
            }
            if (busy != null) {
                result.completeExceptionally(new IllegalStateException("the call " + callId + " " + busy));
                return;
            }
            ourReinvite = true;
            long cseq = ++localCseq;
            SipRequest invite = request(SipRequest.INVITE, cseq, offer);
            new InviteClient(ep, invite, t.get(), new InviteClient.Handler() {
                @Override
                public InviteClient.Ack answered(SipResponse ok) {
                    ourReinvite = false;
                    refreshTarget(ok);
                    localSession = offer;
                    result.complete(description(ok.contentType().orElse(null), ok.body()));
                    return ackFor(cseq);
                }

                @Override
                public void refused(SipResponse r) {
                    ourReinvite = false;
                    if (r.status() == 481 || r.status() == 408) { // §12.2.1.2: the dialog is gone
                        end();
                    }
                    result.completeExceptionally(new CallRefusedException("the re-INVITE in the call " + callId,
                            r.status(), r.reason()));
                }

                @Override
                public void failed(Throwable cause) {
                    ourReinvite = false;
                    if (!over) { // §14.1: no answer at all, the session is ended
                        bye();
                    }
                    result.completeExceptionally(cause);
                }
            }).start();
        });
        return result;
    }

    // ------------------------------------------------------------------ their requests

    /** A request in this dialog (its To tag is ours): BYE or re-INVITE. On the transaction thread. */
    void onRequest(ServerTransaction tx, SipRequest r) {
        long n = r.cseq().number();
        if (over) {
            tx.respond(481, "Call/Transaction Does Not Exist (the call is over)");
            return;
        }
        if (remoteCseq >= 0 && n <= remoteCseq) { // §12.2.2: out of order
            tx.respond(500, "Server Internal Error (CSeq " + n + " not above " + remoteCseq + ")");
            return;
        }
        remoteCseq = n;
        switch (r.method()) {
            case SipRequest.BYE -> {
                tx.respond(200, "OK");
                end();
            }
            case SipRequest.INVITE -> onReinvite(tx, r);
            default -> tx.respond(405, "Method Not Allowed");
        }
    }

    private void onReinvite(ServerTransaction tx, SipRequest r) {
        if (ourReinvite) { // §14.2 glare
            tx.respond(491, "Request Pending");
            return;
        }
        if (theirReinvite || !unacked.isEmpty()) {
            SipResponse busy = tx.createResponse(500, "Server Internal Error (a re-INVITE is in progress)");
            tx.respond(busy.withHeaders(busy.headers().add("Retry-After",
                    Integer.toString(ThreadLocalRandom.current().nextInt(0, 11)))));
            return;
        }
        theirReinvite = true;
        SessionDescription offer = description(r.contentType().orElse(null), r.body());
        Reinvite re = new Reinvite(call, offer, new Reinvite.Control() {
            private boolean answered;

            @Override
            public CompletableFuture<Void> accept(SessionDescription answer) {
                CompletableFuture<Void> acked = new CompletableFuture<>();
                layer.execute(() -> {
                    if (answered || over) {
                        acked.completeExceptionally(new IllegalStateException("the re-INVITE of " + callId
                                + " was already " + (over ? "ended with the call" : "answered")));
                        return;
                    }
                    answered = true;
                    theirReinvite = false;
                    refreshTarget(r);
                    localSession = answer;
                    sendOk(tx, withBody(ok(tx), answer)).whenComplete((x, e) -> complete(acked, null, e));
                });
                return acked;
            }

            @Override
            public void reject(int status, String reason) {
                layer.execute(() -> {
                    if (!answered && !over) {
                        answered = true;
                        theirReinvite = false;
                        tx.respond(status, reason);
                    }
                });
            }
        });
        Consumer<Reinvite> h = reinviteHandler;
        ep.events.execute(() -> {
            try {
                if (h == null) {
                    re.accept(localSession.contentType(), localSession.body()); // a session refresh
                } else {
                    h.accept(re);
                }
            } catch (RuntimeException e) {
                LOG.warn("the application's re-INVITE handler failed on the call {}", callId, e);
                re.reject(500, "Server Internal Error (the application failed)");
            }
        });
    }

    /** A 2xx to {@code tx} with our Contact (the dialog's Record-Route for the INVITE that makes it). */
    SipResponse ok(ServerTransaction tx) {
        SipResponse ok = tx.createResponse(200, "OK");
        return ok.withHeaders(ok.headers().add(HeaderNames.CONTACT, "<" + ep.contactFor(localAor) + ">"));
    }

    static SipResponse withBody(SipResponse resp, SessionDescription body) {
        if (body == null || body.isEmpty()) {
            return resp;
        }
        return new SipResponse(resp.status(), resp.reason(),
                resp.headers().set(HeaderNames.CONTENT_TYPE, body.contentType()),
                body.body().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Sends a 2xx to an INVITE of this dialog, retransmitted until its ACK; without one in 64*T1 the call is ended
     * with a BYE (§13.3.1.4). On the transaction thread.
     */
    CompletableFuture<Void> sendOk(ServerTransaction tx, SipResponse ok) {
        long cseq = tx.request().cseq().number();
        OkRetransmitter o = new OkRetransmitter(layer, tx, ok);
        unacked.put(cseq, o);
        o.start(() -> {
            unacked.remove(cseq, o);
            if (!over) {
                bye();
            }
        });
        return o.acked();
    }

    /** An ACK in this dialog: the one of our 2xx with its CSeq number. */
    void onAck(SipRequest ack) {
        OkRetransmitter o = unacked.remove(ack.cseq().number());
        if (o != null) {
            o.ack();
        }
    }

    /** §12.2: a target refresh request or its 2xx may change the remote target. */
    private void refreshTarget(org.p2psip.sip.message.SipMessage m) {
        try {
            List<Contact> cs = m.contacts();
            if (cs.size() == 1 && !cs.get(0).wildcard()) {
                remoteTarget = cs.get(0).address().uri();
            }
        } catch (SipParseException e) {
            LOG.debug("keeping the remote target of {}: bad Contact {}", callId, e.reason());
        }
    }

    /** Ends the dialog here (no BYE is sent); kept a while for late ACKs and retransmissions. */
    void end() {
        if (over) {
            return;
        }
        over = true;
        unacked.values().forEach(OkRetransmitter::ack);
        unacked.clear();
        layer.schedule(layer.config().timeoutMs(), () -> forget.accept(this));
        ended.complete(null);
    }

    @Override
    public CompletableFuture<Void> ended() {
        return ended;
    }

    @Override
    public void onReinvite(Consumer<Reinvite> handler) {
        reinviteHandler = handler;
    }

    static SessionDescription description(String contentType, byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8);
        return text.isEmpty() ? SessionDescription.NONE
                : new SessionDescription(contentType == null ? "application/octet-stream" : contentType, text);
    }

    static <T> void complete(CompletableFuture<T> f, T value, Throwable e) {
        if (e != null) {
            f.completeExceptionally(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
        } else {
            f.complete(value);
        }
    }
}
