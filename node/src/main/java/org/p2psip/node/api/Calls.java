package org.p2psip.node.api;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import org.p2psip.sip.message.Address;
import org.p2psip.sip.message.Contact;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipParseException;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.Uri;
import org.p2psip.sip.proxy.Proxy;
import org.p2psip.sip.transaction.ServerTransaction;
import org.p2psip.sip.transaction.TimerConfig;
import org.p2psip.sip.transaction.TransactionLayer;
import org.p2psip.sip.transport.Target;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The UAS side of calls to AORs registered through the API (RFC 3261 §13.3 and §15): the INVITE goes to the
 * application as an {@link IncomingCall}; a 2xx it sends is retransmitted (T1 doubling to T2) until the ACK, for
 * at most 64*T1; the dialog ends with a BYE either way. Call state changes run on the transaction thread.
 */
final class Calls {
    private static final Logger LOG = LoggerFactory.getLogger(Calls.class);

    /** A call's states. */
    private enum State { RINGING, ANSWERED, CONFIRMED, ENDED }

    private final SipEndpoint ep;
    private final TransactionLayer layer;
    private final Map<String, Call> calls = new ConcurrentHashMap<>();
    private final Map<String, Out> outgoing = new ConcurrentHashMap<>();

    Calls(SipEndpoint ep) {
        this.ep = ep;
        this.layer = ep.sip.stack().transactions();
    }

    void onInvite(ServerTransaction tx, SipRequest r, IncomingListener listener) {
        String aor = ep.addressedAor(r);
        if (aor == null) {
            tx.respond(404, "Not Found (no such user registered here)");
            return;
        }
        if (r.to().tag().isPresent()) { // a re-INVITE: sessions are not modified
            tx.respond(488, "Not Acceptable Here (re-INVITE not supported by the application)");
            return;
        }
        if (listener == null) {
            tx.respond(480, "Temporarily Unavailable (the application listens for nothing)");
            return;
        }
        Optional<Uri> remote;
        try {
            List<Contact> cs = r.contacts();
            remote = cs.size() == 1 && !cs.get(0).wildcard() ? Optional.of(cs.get(0).address().uri())
                    : Optional.empty();
        } catch (SipParseException e) {
            remote = Optional.empty();
        }
        if (remote.isEmpty()) {
            tx.respond(400, "INVITE needs one Contact");
            return;
        }
        Call c = new Call(tx, r, aor, remote.get());
        calls.put(r.callId().strip(), c);
        String from = r.from().withParams(r.from().params().without("tag")).toString();
        IncomingCall call = new IncomingCall(from, aor, r.callId(), r.contentType().orElse(null),
                new String(r.body(), StandardCharsets.UTF_8), c);
        ep.events.execute(() -> {
            try {
                listener.onCall(call);
            } catch (RuntimeException e) {
                LOG.warn("the application's listener failed on a call for {}", aor, e);
                c.reject(500, "Server Internal Error (the application failed)");
            }
        });
    }

    void onAck(SipRequest ack) {
        Call c = calls.get(ack.callId().strip());
        if (c != null) {
            c.acked();
        }
    }

    /**
     * Places a call (UAC, §13.2): an INVITE through this peer's proxy; on a 2xx the dialog is made from its
     * Record-Route (reversed) and Contact, and the ACK goes along that route set.
     */
    CompletableFuture<OutgoingCall> call(String from, String to, String contentType, String offer) {
        String callId = ep.ua.uniqueId() + "@" + ep.ua.host();
        String fromTag = ep.ua.uniqueId();
        SipRequest.Builder b = SipRequest.builder(SipRequest.INVITE, org.p2psip.sip.message.SipUri.parse(to))
                .header(HeaderNames.MAX_FORWARDS, 70)
                .header(HeaderNames.FROM, "<" + from + ">;tag=" + fromTag)
                .header(HeaderNames.TO, "<" + to + ">")
                .header(HeaderNames.CALL_ID, callId)
                .header(HeaderNames.CSEQ, "1 " + SipRequest.INVITE)
                .header(HeaderNames.CONTACT, "<" + ep.contactFor(from) + ">");
        SipRequest invite = offer == null || offer.isEmpty() ? b.build() : b.body(contentType, offer).build();
        Out out = new Out(invite);
        outgoing.put(callId, out); // before the INVITE leaves: the callee may hang up at once
        return ep.ua.send(invite, ep.self).thenApply(resp -> {
            if (!resp.isSuccess()) {
                outgoing.remove(callId, out);
                throw new java.util.concurrent.CompletionException(
                        new CallRefusedException(to, resp.status(), resp.reason()));
            }
            try {
                out.established(resp);
            } catch (SipParseException | IllegalStateException e) {
                outgoing.remove(callId, out);
                throw new java.util.concurrent.CompletionException(new IllegalStateException(
                        "the 2xx to the call to " + to + " cannot make a dialog: " + e.getMessage(), e));
            }
            return new OutgoingCall(from, to, callId, resp.contentType().orElse(null),
                    new String(resp.body(), StandardCharsets.UTF_8), out);
        });
    }

    void onBye(ServerTransaction tx, SipRequest bye) {
        Out o = outgoing.get(bye.callId().strip());
        if (o != null) {
            if (o.ended.isDone()) {
                tx.respond(481, "Call/Transaction Does Not Exist");
            } else {
                tx.respond(200, "OK");
                o.end();
            }
            return;
        }
        Call c = calls.get(bye.callId().strip());
        if (c == null || c.state == State.ENDED || c.state == State.RINGING) {
            tx.respond(481, "Call/Transaction Does Not Exist");
            return;
        }
        tx.respond(200, "OK");
        c.end();
    }

    void onCancelled(ServerTransaction invite) {
        Call c = calls.get(invite.request().callId().strip());
        if (c != null && c.tx == invite && c.state == State.RINGING) {
            c.end();
        }
    }

    /** One call; its fields change on the transaction thread only. */
    private final class Call implements IncomingCall.Control {
        final ServerTransaction tx;
        final SipRequest invite;
        final String aor;
        final Uri remoteTarget;
        final CompletableFuture<Void> acked = new CompletableFuture<>();
        final CompletableFuture<Void> ended = new CompletableFuture<>();
        State state = State.RINGING;
        SipResponse ok;
        long interval;
        long localCseq = 1;

        Call(ServerTransaction tx, SipRequest invite, String aor, Uri remoteTarget) {
            this.tx = tx;
            this.invite = invite;
            this.aor = aor;
            this.remoteTarget = remoteTarget;
        }

        private SipResponse withDialogHeaders(SipResponse resp) {
            // §12.1.1: the Record-Route of the INVITE goes back in the responses that make the dialog
            return resp.withHeaders(resp.headers().setAll(HeaderNames.RECORD_ROUTE,
                    invite.headers().all(HeaderNames.RECORD_ROUTE))
                    .add(HeaderNames.CONTACT, "<" + ep.contactFor(aor) + ">"));
        }

        @Override
        public void ringing() {
            layer.execute(() -> {
                if (state == State.RINGING) {
                    tx.respond(withDialogHeaders(tx.createResponse(180, "Ringing")));
                }
            });
        }

        @Override
        public CompletableFuture<Void> answer(String contentType, String body) {
            CompletableFuture<Void> result = new CompletableFuture<>();
            layer.execute(() -> {
                if (state != State.RINGING) {
                    result.completeExceptionally(new IllegalStateException("the call from " + invite.from()
                            + " was already " + (state == State.ENDED ? "ended (cancelled or rejected)" : "answered")));
                    return;
                }
                acked.whenComplete((x, e) -> {
                    if (e != null) {
                        result.completeExceptionally(e);
                    } else {
                        result.complete(null);
                    }
                });
                SipResponse resp = withDialogHeaders(tx.createResponse(200, "OK"));
                if (body != null && !body.isEmpty()) {
                    resp = new SipResponse(200, "OK", resp.headers().set(HeaderNames.CONTENT_TYPE, contentType),
                            body.getBytes(StandardCharsets.UTF_8));
                }
                ok = resp;
                state = State.ANSWERED;
                tx.respond(ok);
                TimerConfig t = layer.config();
                interval = t.t1Ms();
                layer.schedule(interval, this::retransmit);
                layer.schedule(t.timeoutMs(), () -> {
                    if (state == State.ANSWERED) { // §13.3.1.4: no ACK within 64*T1, the dialog ends with BYE
                        acked.completeExceptionally(new TimeoutException("no ACK for the 200 to " + invite.from()));
                        sendBye();
                        end();
                    }
                });
            });
            return result;
        }

        private void retransmit() {
            if (state != State.ANSWERED) {
                return;
            }
            tx.respond(ok);
            interval = Math.min(2 * interval, layer.config().t2Ms());
            layer.schedule(interval, this::retransmit);
        }

        void acked() {
            if (state == State.ANSWERED) {
                state = State.CONFIRMED;
                acked.complete(null);
            }
        }

        @Override
        public void reject(int status, String reason) {
            layer.execute(() -> {
                if (state == State.RINGING) {
                    tx.respond(status, reason);
                    end();
                }
            });
        }

        @Override
        public CompletableFuture<Void> hangup() {
            CompletableFuture<Void> done = new CompletableFuture<>();
            layer.execute(() -> {
                if (state != State.ANSWERED && state != State.CONFIRMED) {
                    done.completeExceptionally(new IllegalStateException("the call is not established"));
                    return;
                }
                sendBye().whenComplete((x, e) -> {
                    if (e != null) {
                        done.completeExceptionally(e);
                    } else {
                        done.complete(null);
                    }
                });
                end();
            });
            return done;
        }

        /** A BYE in the dialog (§15.1.1): to the caller's Contact, along the Record-Route (the UAS keeps its order). */
        private CompletableFuture<Void> sendBye() {
            try {
                List<String> routes = invite.headers().all(HeaderNames.RECORD_ROUTE);
                Uri first = routes.isEmpty() ? remoteTarget
                        : Address.parse(routes.get(0), HeaderNames.ROUTE).uri();
                Optional<Target> target = Proxy.targetOf(first);
                if (target.isEmpty()) {
                    return CompletableFuture.failedFuture(new IllegalStateException("cannot route a BYE to " + first));
                }
                SipRequest.Builder b = SipRequest.builder(SipRequest.BYE, remoteTarget);
                for (String route : routes) {
                    b.header(HeaderNames.ROUTE, route);
                }
                SipRequest bye = b.header(HeaderNames.MAX_FORWARDS, 70)
                        .header(HeaderNames.FROM, invite.to().withTag(tx.toTag()))
                        .header(HeaderNames.TO, invite.from())
                        .header(HeaderNames.CALL_ID, invite.callId())
                        .header(HeaderNames.CSEQ, (localCseq++) + " " + SipRequest.BYE)
                        .build();
                return ep.ua.send(bye, target.get()).thenApply(r -> (Void) null);
            } catch (SipParseException e) {
                return CompletableFuture.failedFuture(e);
            }
        }

        void end() {
            if (state == State.ENDED) {
                return;
            }
            state = State.ENDED;
            // kept a little for late ACKs and BYE retransmissions, then forgotten
            layer.schedule(layer.config().timeoutMs(), () -> calls.remove(invite.callId().strip(), this));
            ended.complete(null);
        }

        @Override
        public CompletableFuture<Void> ended() {
            return ended;
        }
    }
    /** A call this application placed; dialog state is set once, from the 2xx. */
    private final class Out implements OutgoingCall.Control {
        final SipRequest invite;
        final CompletableFuture<Void> ended = new CompletableFuture<>();
        volatile Address remote;
        volatile Uri remoteTarget;
        volatile List<String> routeSet = List.of();
        long cseq = 1;

        Out(SipRequest invite) {
            this.invite = invite;
        }

        /** The dialog from the 2xx (§12.1.2), then the ACK (§13.2.2.4). */
        void established(SipResponse ok) {
            List<Contact> cs = ok.contacts();
            if (cs.isEmpty() || cs.get(0).wildcard()) {
                throw new IllegalStateException("no Contact in the 2xx");
            }
            remote = ok.to();
            remoteTarget = cs.get(0).address().uri();
            List<String> rr = new java.util.ArrayList<>(ok.headers().all(HeaderNames.RECORD_ROUTE));
            java.util.Collections.reverse(rr);
            routeSet = List.copyOf(rr);
            SipRequest ack = inDialog(SipRequest.ACK, 1);
            Optional<Target> t = firstHop();
            if (t.isEmpty()) {
                throw new IllegalStateException("cannot route the ACK to " + remoteTarget);
            }
            SipRequest withVia = ack.withHeaders(ack.headers().prepend(HeaderNames.VIA,
                    org.p2psip.sip.message.Via.of("UDP", ep.ua.host(), ep.ua.port(),
                            org.p2psip.sip.transaction.Branch.next()).toString()));
            ep.sip.stack().transport().sendRequest(withVia, t.get());
        }

        private Optional<Target> firstHop() {
            try {
                Uri first = routeSet.isEmpty() ? remoteTarget : Address.parse(routeSet.get(0), HeaderNames.ROUTE).uri();
                return Proxy.targetOf(first);
            } catch (SipParseException e) {
                return Optional.empty();
            }
        }

        private SipRequest inDialog(String method, long number) {
            SipRequest.Builder b = SipRequest.builder(method, remoteTarget);
            for (String r : routeSet) {
                b.header(HeaderNames.ROUTE, r);
            }
            return b.header(HeaderNames.MAX_FORWARDS, 70)
                    .header(HeaderNames.FROM, invite.from())
                    .header(HeaderNames.TO, remote)
                    .header(HeaderNames.CALL_ID, invite.callId())
                    .header(HeaderNames.CSEQ, number + " " + method)
                    .build();
        }

        @Override
        public synchronized CompletableFuture<Void> hangup() {
            if (ended.isDone()) {
                return CompletableFuture.failedFuture(new IllegalStateException("the call is over"));
            }
            Optional<Target> t = firstHop();
            end();
            if (t.isEmpty()) {
                return CompletableFuture.failedFuture(new IllegalStateException("cannot route a BYE to "
                        + remoteTarget));
            }
            return ep.ua.send(inDialog(SipRequest.BYE, ++cseq), t.get()).thenApply(r -> (Void) null);
        }

        void end() {
            if (ended.complete(null)) {
                layer.schedule(layer.config().timeoutMs(), () -> outgoing.remove(invite.callId().strip(), this));
            }
        }

        @Override
        public CompletableFuture<Void> ended() {
            return ended;
        }
    }
}
