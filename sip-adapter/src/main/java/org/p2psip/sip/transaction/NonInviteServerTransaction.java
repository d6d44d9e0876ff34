package org.p2psip.sip.transaction;

import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.transport.Source;

/**
 * Non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8): retransmitted requests are absorbed while Trying and
 * answered with the last response afterwards; after a final response, Timer J (64*T1, or 0 on reliable transports)
 * keeps the transaction to answer retransmissions.
 */
public final class NonInviteServerTransaction extends ServerTransaction {
    NonInviteServerTransaction(TransactionLayer layer, SipRequest request, Source source, String key) {
        super(layer, request, source, key);
    }

    @Override
    void start() {
        state = TransactionState.TRYING;
    }

    @Override
    void onRetransmission(SipRequest r) {
        layer.absorbed++;
        switch (state) {
            case PROCEEDING -> send(lastProvisional);
            case COMPLETED -> send(lastFinal);
            default -> {
            }
        }
    }

    @Override
    void onTuResponse(SipResponse r) {
        if (state != TransactionState.TRYING && state != TransactionState.PROCEEDING) {
            return;
        }
        send(r);
        if (r.status() == 401 || r.status() == 407) {
            // RFC 3261 §8.2.7: a challenge is answered without keeping state. Half of all digest REGISTERs end here,
            // and a flood of unauthenticated requests must not fill the table for Timer J. A retransmission gets a
            // fresh challenge (the To tag is the same: it derives from the transaction key).
            layer.statelessChallenges++;
            lastFinal = r;
            terminate();
            return;
        }
        if (r.isProvisional()) {
            lastProvisional = r;
            state = TransactionState.PROCEEDING;
        } else {
            lastFinal = r;
            state = TransactionState.COMPLETED;
            if (reliable()) {
                schedule(0, this::terminate); // Timer J is 0
            } else {
                request = request.essentials(); // all that answering retransmissions needs, for 32 s
                layer.completed(this); // Timer J: the layer ends completed transactions in order, on one timer
            }
        }
    }
}
