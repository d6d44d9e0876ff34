package org.p2psip.sip.transaction;

import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.transport.Target;

/**
 * Non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6): Timer E retransmits (T1 doubling up to T2 while
 * Trying, every T2 while Proceeding; unreliable transports only) until a final response or Timer F (64*T1); then
 * Completed absorbs response retransmissions for Timer K (T4, or 0 on reliable transports).
 */
public final class NonInviteClientTransaction extends ClientTransaction {
    private long intervalE;
    private TimerService.Cancellable timerE;

    NonInviteClientTransaction(TransactionLayer layer, SipRequest request, Target target, Listener listener,
            String key) {
        super(layer, request, target, listener, key);
    }

    @Override
    void start() {
        state = TransactionState.TRYING;
        transmit(request);
        if (!reliable()) {
            intervalE = layer.config.t1Ms();
            timerE = schedule(intervalE, this::timerE);
        }
        schedule(layer.config.timeoutMs(), this::timerF);
    }

    private void timerE() {
        if (state == TransactionState.TRYING) {
            retransmit();
            intervalE = Math.min(2 * intervalE, layer.config.t2Ms());
        } else if (state == TransactionState.PROCEEDING) {
            retransmit();
            intervalE = layer.config.t2Ms();
        } else {
            return;
        }
        timerE = schedule(intervalE, this::timerE);
    }

    private void timerF() {
        if (state == TransactionState.TRYING || state == TransactionState.PROCEEDING) {
            timeout();
        }
    }

    @Override
    void onResponse(SipResponse r) {
        switch (state) {
            case TRYING, PROCEEDING -> {
                if (r.isProvisional()) {
                    state = TransactionState.PROCEEDING;
                } else {
                    state = TransactionState.COMPLETED;
                    if (timerE != null) {
                        timerE.cancel();
                    }
                    schedule(reliable() ? 0 : layer.config.t4Ms(), this::terminate); // Timer K
                }
                listener.onResponse(this, r);
            }
            case COMPLETED -> layer.absorbed++;
            default -> {
            }
        }
    }
}
