package org.p2psip.sip.transaction;

import java.util.ArrayList;
import java.util.List;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.transport.Source;

/** A server transaction (RFC 3261 §17.2). The TU answers through {@link #respond}. */
public abstract sealed class ServerTransaction permits InviteServerTransaction, NonInviteServerTransaction {
    final TransactionLayer layer;
    /** The request; once a non-INVITE transaction completed over UDP, its {@link SipRequest#essentials()}. */
    SipRequest request;
    final Source source;
    final String key;
    final String toTag;
    TransactionState state;
    /** When a non-INVITE transaction entered Completed (the transaction thread's clock), for Timer J. */
    long completedAt;
    SipResponse lastProvisional;
    SipResponse lastFinal;
    private boolean finalObserved;
    private final List<TimerService.Cancellable> timers = new ArrayList<>(3);

    ServerTransaction(TransactionLayer layer, SipRequest request, Source source, String key) {
        this.layer = layer;
        this.request = request;
        this.source = source;
        this.key = key;
        this.toTag = layer.toTagFor(key);
    }

    /**
     * The request. Once a non-INVITE transaction has sent its final response over UDP, only the headers responses
     * copy are kept ({@link SipRequest#essentials()}): no credentials, Contacts or body.
     */
    public SipRequest request() {
        return request;
    }

    public Source source() {
        return source;
    }

    public TransactionState state() {
        return state;
    }

    public boolean reliable() {
        return source.transport().reliable();
    }

    /** The To tag this transaction's responses carry unless the request had one. */
    public String toTag() {
        return toTag;
    }

    /** A response to the request with this transaction's To tag (not sent). */
    public SipResponse createResponse(int status, String reason) {
        return SipResponse.forRequest(request, status, reason, toTag);
    }

    /** Sends a response; safe from any thread (hops to the transaction thread). */
    public void respond(SipResponse response) {
        if (!layer.timers.inLoop()) {
            layer.timers.execute(() -> respond(response));
            return;
        }
        if (response.isFinal() && !finalObserved
                && (state == TransactionState.TRYING || state == TransactionState.PROCEEDING)) {
            finalObserved = true;
            layer.observer.serverCompleted(request.method(), response.status());
        }
        onTuResponse(response);
    }

    public void respond(int status, String reason) {
        respond(createResponse(status, reason));
    }

    abstract void start();

    abstract void onTuResponse(SipResponse r);

    abstract void onRetransmission(SipRequest r);

    final void send(SipResponse r) {
        layer.sender.sendResponse(r, source).whenComplete((v, err) -> {
            if (err != null) {
                layer.timers.execute(() -> {
                    if (state != TransactionState.TERMINATED) {
                        terminate();
                        layer.tu.onServerTransportError(this, err);
                    }
                });
            }
        });
    }

    final TimerService.Cancellable schedule(long ms, Runnable task) {
        TimerService.Cancellable c = layer.timers.schedule(ms, () -> {
            if (state != TransactionState.TERMINATED) {
                task.run();
            }
        });
        timers.add(c);
        return c;
    }

    final void terminate() {
        state = TransactionState.TERMINATED;
        timers.forEach(TimerService.Cancellable::cancel);
        timers.clear();
        layer.removeServer(this);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + key + " " + state + "]";
    }
}
