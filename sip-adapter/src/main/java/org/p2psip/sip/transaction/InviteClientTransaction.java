package org.p2psip.sip.transaction;

import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.Headers;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.transport.Target;

/**
 * INVITE client transaction (RFC 3261 §17.1.1, Figure 5, with RFC 6026's Accepted state): Timer A retransmits
 * (T1, doubling, unreliable transports only) until a response or Timer B (64*T1); a non-2xx final is ACKed here and
 * absorbed until Timer D; a 2xx moves to Accepted, where further 2xx go to the TU until Timer M (64*T1).
 */
public final class InviteClientTransaction extends ClientTransaction {
    private TimerService.Cancellable timerA;
    private long intervalA;
    private SipRequest ack;

    InviteClientTransaction(TransactionLayer layer, SipRequest request, Target target, Listener listener, String key) {
        super(layer, request, target, listener, key);
    }

    @Override
    void start() {
        state = TransactionState.CALLING;
        transmit(request);
        if (!reliable()) {
            intervalA = layer.config.t1Ms();
            timerA = schedule(intervalA, this::timerA);
        }
        schedule(layer.config.timeoutMs(), this::timerB);
    }

    private void timerA() {
        if (state != TransactionState.CALLING) {
            return;
        }
        retransmit();
        intervalA *= 2;
        timerA = schedule(intervalA, this::timerA);
    }

    private void timerB() {
        if (state == TransactionState.CALLING) {
            timeout();
        }
    }

    @Override
    void onResponse(SipResponse r) {
        switch (state) {
            case CALLING, PROCEEDING -> {
                cancelA();
                if (r.isProvisional()) {
                    state = TransactionState.PROCEEDING;
                } else if (r.isSuccess()) {
                    state = TransactionState.ACCEPTED;
                    schedule(layer.config.timeoutMs(), this::terminate); // Timer M
                } else {
                    state = TransactionState.COMPLETED;
                    ack = ackFor(r);
                    transmit(ack);
                    schedule(reliable() ? 0 : layer.config.timerD().toMillis(), this::terminate); // Timer D
                }
                listener.onResponse(this, r);
            }
            case ACCEPTED -> {
                if (r.isSuccess()) {
                    listener.onResponse(this, r);
                }
            }
            case COMPLETED -> {
                if (r.isFinal() && !r.isSuccess()) {
                    layer.absorbed++;
                    transmit(ack); // the final was retransmitted: our ACK was lost
                }
            }
            default -> {
            }
        }
    }

    private void cancelA() {
        if (timerA != null) {
            timerA.cancel();
            timerA = null;
        }
    }

    /** The ACK for a non-2xx final response (RFC 3261 §17.1.1.3). */
    SipRequest ackFor(SipResponse r) {
        Headers in = request.headers();
        Headers h = Headers.EMPTY
                .set(HeaderNames.VIA, in.all(HeaderNames.VIA).get(0))
                .set(HeaderNames.FROM, in.first(HeaderNames.FROM).orElseThrow())
                .set(HeaderNames.TO, r.headers().first(HeaderNames.TO).orElseThrow())
                .set(HeaderNames.CALL_ID, in.first(HeaderNames.CALL_ID).orElseThrow())
                .set(HeaderNames.CSEQ, request.cseq().number() + " " + SipRequest.ACK);
        if (!in.all(HeaderNames.ROUTE).isEmpty()) {
            h = h.setAll(HeaderNames.ROUTE, in.all(HeaderNames.ROUTE));
        }
        h = h.set(HeaderNames.MAX_FORWARDS, "70");
        return new SipRequest(SipRequest.ACK, request.requestUri(), h, new byte[0]);
    }
}
