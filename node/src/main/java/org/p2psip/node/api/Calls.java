package org.p2psip.node.api;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.p2psip.sip.message.Contact;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipParseException;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.SipUri;
import org.p2psip.sip.message.Uri;
import org.p2psip.sip.transaction.ServerTransaction;
import org.p2psip.sip.transaction.TransactionLayer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application's calls: INVITEs it places (UAC, §13.2, through this peer's proxy) and receives (UAS, §13.3), and
 * the {@link Dialog}s they make, by Call-ID and local tag, to which in-dialog requests and ACKs go. State changes run
 * on the transaction thread; the application's listeners on the event thread.
 */
final class Calls {
    private static final Logger LOG = LoggerFactory.getLogger(Calls.class);

    private final SipEndpoint ep;
    private final TransactionLayer layer;
    /** Established dialogs, by Call-ID and our tag. */
    private final Map<String, Dialog> dialogs = new ConcurrentHashMap<>();
    /** INVITEs received and not answered yet, by Call-ID and the To tag their responses carry. */
    private final Map<String, Incoming> ringing = new ConcurrentHashMap<>();

    Calls(SipEndpoint ep) {
        this.ep = ep;
        this.layer = ep.sip.stack().transactions();
    }

    private static String key(String callId, String localTag) {
        return callId.strip() + "|" + localTag;
    }

    // ------------------------------------------------------------------ UAS

    void onInvite(ServerTransaction tx, SipRequest r, IncomingListener listener) {
        Optional<String> toTag = r.to().tag();
        if (toTag.isPresent()) { // a re-INVITE
            inDialog(tx, r, toTag.get());
            return;
        }
        String aor = ep.addressedAor(r);
        if (aor == null) {
            tx.respond(404, "Not Found (no such user registered here)");
            return;
        }
        if (listener == null) {
            tx.respond(480, "Temporarily Unavailable (the application listens for nothing)");
            return;
        }
        Optional<Uri> remote = singleContact(r);
        if (remote.isEmpty()) {
            tx.respond(400, "INVITE needs one Contact");
            return;
        }
        Incoming c = new Incoming(tx, r, aor, remote.get());
        ringing.put(key(r.callId(), tx.toTag()), c);
        String from = r.from().withParams(r.from().params().without("tag")).toString();
        IncomingCall call = new IncomingCall(from, aor, r.callId(),
                Dialog.description(r.contentType().orElse(null), r.body()), c);
        c.call = call;
        ep.events.execute(() -> {
            try {
                listener.onCall(call);
            } catch (RuntimeException e) {
                LOG.warn("the application's listener failed on a call for {}", aor, e);
                c.reject(500, "Server Internal Error (the application failed)");
            }
        });
    }

    private static Optional<Uri> singleContact(SipRequest r) {
        try {
            List<Contact> cs = r.contacts();
            return cs.size() == 1 && !cs.get(0).wildcard() ? Optional.of(cs.get(0).address().uri())
                    : Optional.empty();
        } catch (SipParseException e) {
            return Optional.empty();
        }
    }

    void onBye(ServerTransaction tx, SipRequest bye) {
        Optional<String> toTag = bye.to().tag();
        if (toTag.isEmpty()) {
            tx.respond(481, "Call/Transaction Does Not Exist");
            return;
        }
        inDialog(tx, bye, toTag.get());
    }

    private void inDialog(ServerTransaction tx, SipRequest r, String localTag) {
        Dialog d = dialogs.get(key(r.callId(), localTag));
        if (d == null) {
            tx.respond(481, "Call/Transaction Does Not Exist");
        } else {
            d.onRequest(tx, r);
        }
    }

    void onAck(SipRequest ack) {
        Optional<String> toTag = ack.to().tag();
        Dialog d = toTag.isEmpty() ? null : dialogs.get(key(ack.callId(), toTag.get()));
        if (d != null) {
            d.onAck(ack);
        }
    }

    void onCancelled(ServerTransaction invite) {
        Incoming c = ringing.get(key(invite.request().callId(), invite.toTag()));
        if (c != null && c.tx == invite) {
            c.cancelled();
        }
    }

    /** An INVITE received: ringing until answered (then its {@link Dialog} takes over), rejected or cancelled. */
    private final class Incoming implements IncomingCall.Control {
        final ServerTransaction tx;
        final SipRequest invite;
        final String aor;
        final Uri remoteTarget;
        final CompletableFuture<Void> ended = new CompletableFuture<>();
        final String key;
        IncomingCall call;
        /** Set once answered; read from any thread. */
        volatile Dialog dialog;
        boolean done;

        Incoming(ServerTransaction tx, SipRequest invite, String aor, Uri remoteTarget) {
            this.tx = tx;
            this.invite = invite;
            this.aor = aor;
            this.remoteTarget = remoteTarget;
            this.key = key(invite.callId(), tx.toTag());
        }

        /** §12.1.1: the Record-Route of the INVITE goes back in the responses that make the dialog. */
        private SipResponse withDialogHeaders(SipResponse resp) {
            return resp.withHeaders(resp.headers().setAll(HeaderNames.RECORD_ROUTE,
                    invite.headers().all(HeaderNames.RECORD_ROUTE))
                    .set(HeaderNames.CONTACT, "<" + ep.contactFor(aor) + ">"));
        }

        @Override
        public void ringing() {
            layer.execute(() -> {
                if (!done) {
                    tx.respond(withDialogHeaders(tx.createResponse(180, "Ringing")));
                }
            });
        }

        @Override
        public CompletableFuture<Void> answer(SessionDescription answer) {
            CompletableFuture<Void> result = new CompletableFuture<>();
            layer.execute(() -> {
                if (done) {
                    result.completeExceptionally(new IllegalStateException("the call from " + invite.from()
                            + " was already " + (dialog == null ? "ended (cancelled or rejected)" : "answered")));
                    return;
                }
                done = true;
                ringing.remove(key, this);
                Dialog d = Dialog.asCallee(ep, invite, tx.toTag(), remoteTarget, aor, answer,
                        x -> dialogs.remove(key, x));
                d.call(call);
                synchronized (this) { // with onReinvite: the handler set last reaches the dialog
                    d.onReinvite(reinviteHandler);
                    dialog = d;
                }
                dialogs.put(key, d);
                d.ended().whenComplete((x, e) -> ended.complete(null));
                SipResponse ok = Dialog.withBody(withDialogHeaders(d.ok(tx)), answer);
                d.sendOk(tx, ok).whenComplete((x, e) -> Dialog.complete(result, null, e));
            });
            return result;
        }

        @Override
        public void reject(int status, String reason) {
            layer.execute(() -> {
                if (!done) {
                    tx.respond(status, reason);
                    over();
                }
            });
        }

        /** The caller's CANCEL: the proxy answers the INVITE 487 right after. */
        void cancelled() {
            if (!done) {
                over();
            }
        }

        private void over() {
            done = true;
            ringing.remove(key, this);
            ended.complete(null);
        }

        @Override
        public CompletableFuture<Void> hangup() {
            Dialog d = dialog;
            return d != null ? d.hangup()
                    : CompletableFuture.failedFuture(new IllegalStateException("the call is not established"));
        }

        @Override
        public CompletableFuture<Void> ended() {
            return ended;
        }

        @Override
        public CompletableFuture<SessionDescription> reinvite(SessionDescription offer) {
            Dialog d = dialog;
            return d != null ? d.reinvite(offer)
                    : CompletableFuture.failedFuture(new IllegalStateException("the call is not established"));
        }

        @Override
        public void onReinvite(Consumer<Reinvite> handler) {
            // At once, not queued on the transaction thread: Netty runs a loop's ready I/O before its queued tasks, so
            // a re-INVITE the application provokes right after setting the handler could meet the previous one (a
            // test saw its 488 handler bypassed so). The lock orders this with answer(), which hands over the handler.
            synchronized (this) {
                reinviteHandler = handler;
                if (dialog != null) {
                    dialog.onReinvite(handler);
                }
            }
        }

        /** A handler set before the answer, handed to the dialog when it is made; guarded by this. */
        Consumer<Reinvite> reinviteHandler;
    }

    // ------------------------------------------------------------------ UAC

    /**
     * Places a call (UAC, §13.2): an INVITE through this peer's proxy; on a 2xx the dialog is made from its
     * Record-Route (reversed) and Contact, and the ACK goes along that route set, again for each retransmission.
     */
    CallAttempt dial(String from, String to, SessionDescription offer) {
        String callId = ep.ua.uniqueId() + "@" + ep.ua.host();
        String fromTag = ep.ua.uniqueId();
        SipRequest.Builder b = SipRequest.builder(SipRequest.INVITE, SipUri.parse(to))
                .header(HeaderNames.MAX_FORWARDS, 70)
                .header(HeaderNames.FROM, "<" + from + ">;tag=" + fromTag)
                .header(HeaderNames.TO, "<" + to + ">")
                .header(HeaderNames.CALL_ID, callId)
                .header(HeaderNames.CSEQ, "1 " + SipRequest.INVITE)
                .header(HeaderNames.CONTACT, "<" + ep.contactFor(from) + ">");
        SipRequest invite = offer.isEmpty() ? b.build() : b.body(offer.contentType(), offer.body()).build();
        Outgoing out = new Outgoing(invite, from, to, offer, key(callId, fromTag));
        CallAttempt attempt = new CallAttempt(from, to, callId, out.ringing, out.answered, out);
        layer.execute(out.client::start);
        return attempt;
    }

    /** A call being placed, until its final response; its first 2xx makes the {@link Dialog}. */
    private final class Outgoing implements InviteClient.Handler, CallAttempt.Control {
        final SipRequest invite;
        final String from;
        final String to;
        final SessionDescription offer;
        final String key;
        final InviteClient client;
        final CompletableFuture<Integer> ringing = new CompletableFuture<>();
        final CompletableFuture<OutgoingCall> answered = new CompletableFuture<>();
        final CompletableFuture<Void> over = new CompletableFuture<>();
        Dialog dialog;
        boolean cancelled;

        Outgoing(SipRequest invite, String from, String to, SessionDescription offer, String key) {
            this.invite = invite;
            this.from = from;
            this.to = to;
            this.offer = offer;
            this.key = key;
            this.client = new InviteClient(ep, invite, ep.self, this);
        }

        @Override
        public void provisional(SipResponse r) {
            ringing.complete(r.status());
        }

        @Override
        public InviteClient.Ack answered(SipResponse ok) {
            Dialog d;
            try {
                d = Dialog.asCaller(ep, invite, ok, from, offer, x -> dialogs.remove(key, x));
            } catch (SipParseException | IllegalStateException e) {
                fail(new IllegalStateException("the 2xx to the call to " + to + " cannot make a dialog: "
                        + e.getMessage(), e));
                return null;
            }
            InviteClient.Ack ack = d.ackFor(invite.cseq().number());
            if (ack == null) {
                fail(new IllegalStateException("cannot route the ACK of the call to " + to));
                return null;
            }
            if (dialog != null || cancelled) {
                // another fork's 2xx (§13.2.2.4), or one that crossed our CANCEL: ACK it, then BYE it
                layer.schedule(0, d::hangup);
                if (dialog == null) {
                    fail(new CancellationException("the call to " + to + " was cancelled"));
                }
                return ack;
            }
            dialog = d;
            dialogs.put(key, d);
            OutgoingCall call = new OutgoingCall(from, to, invite.callId(),
                    Dialog.description(ok.contentType().orElse(null), ok.body()), d);
            d.call(call);
            ringing.complete(ok.status());
            answered.complete(call);
            over.complete(null);
            return ack;
        }

        @Override
        public void refused(SipResponse r) {
            fail(cancelled ? new CancellationException("the call to " + to + " was cancelled (" + r.status() + " "
                    + r.reason() + ")") : new CallRefusedException("the call to " + to, r.status(), r.reason()));
        }

        @Override
        public void failed(Throwable cause) {
            fail(cancelled ? new CancellationException("the call to " + to + " was cancelled (" + cause + ")")
                    : cause);
        }

        private void fail(Throwable e) {
            ringing.completeExceptionally(e);
            answered.completeExceptionally(e);
            over.complete(null);
        }

        @Override
        public CompletableFuture<Void> cancel() {
            CompletableFuture<Void> result = new CompletableFuture<>();
            layer.execute(() -> {
                if (dialog != null) {
                    result.completeExceptionally(new IllegalStateException("the call to " + to
                            + " was already answered: hang it up"));
                    return;
                }
                cancelled = true;
                client.cancel();
                over.whenComplete((x, e) -> result.complete(null));
            });
            return result;
        }
    }
}
