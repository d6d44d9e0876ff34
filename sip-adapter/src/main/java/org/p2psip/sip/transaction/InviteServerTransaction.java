package org.p2psip.sip.transaction;

import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.transport.Source;

/**
 * INVITE server transaction (RFC 3261 §17.2.1, Figure 7, with RFC 6026's Accepted state). Sends 100 Trying itself
 * if the TU sends no provisional response within 200 ms; retransmitted INVITEs get the last provisional or final
 * response again; a non-2xx final is retransmitted on Timer G (T1 doubling to T2, unreliable only) until the ACK
 * (absorbed here; Confirmed, then Timer I = T4) or Timer H (64*T1, reported to the TU). After a 2xx the transaction
 * waits in Accepted for Timer L (64*T1), absorbing INVITE retransmissions; the 2xx's own retransmission and its ACK
 * belong to the TU (§13.3.1.4).
 */
public final class InviteServerTransaction extends ServerTransaction {
    private TimerService.Cancellable timerG;
    private long intervalG;

    InviteServerTransaction(TransactionLayer layer, SipRequest request, Source source, String key) {
        super(layer, request, source, key);
    }

    @Override
    void start() {
        state = TransactionState.PROCEEDING;
        long delay = layer.config.trying100().toMillis();
        schedule(delay, () -> {
            if (state == TransactionState.PROCEEDING && lastProvisional == null) {
                lastProvisional = SipResponse.forRequest(request, 100, "Trying");
                send(lastProvisional);
            }
        });
    }

    @Override
    void onRetransmission(SipRequest r) {
        layer.absorbed++;
        switch (state) {
            case PROCEEDING -> {
                if (lastProvisional != null) {
                    send(lastProvisional);
                }
            }
            case COMPLETED -> send(lastFinal);
            default -> {
            }
        }
    }

    /** An ACK that matched this transaction (the ACK of our non-2xx final). */
    void onAck(SipRequest ack) {
        switch (state) {
            case COMPLETED -> {
                state = TransactionState.CONFIRMED;
                if (timerG != null) {
                    timerG.cancel();
                }
                schedule(reliable() ? 0 : layer.config.t4Ms(), this::terminate); // Timer I
            }
            case CONFIRMED -> layer.absorbed++;
            case ACCEPTED -> layer.tu.onAck(ack, source);
            default -> {
            }
        }
    }

    @Override
    void onTuResponse(SipResponse r) {
        switch (state) {
            case PROCEEDING -> {
                if (r.isProvisional()) {
                    lastProvisional = r;
                    send(r);
                } else if (r.isSuccess()) {
                    lastFinal = r;
                    send(r);
                    state = TransactionState.ACCEPTED;
                    schedule(layer.config.timeoutMs(), this::terminate); // Timer L
                } else {
                    lastFinal = r;
                    send(r);
                    state = TransactionState.COMPLETED;
                    if (!reliable()) {
                        intervalG = layer.config.t1Ms();
                        timerG = schedule(intervalG, this::timerG);
                    }
                    schedule(layer.config.timeoutMs(), this::timerH);
                }
            }
            case ACCEPTED -> {
                if (r.isSuccess()) {
                    send(r); // the TU's 2xx retransmission
                }
            }
            default -> {
            }
        }
    }

    private void timerG() {
        if (state != TransactionState.COMPLETED) {
            return;
        }
        layer.retransmissions++;
        send(lastFinal);
        intervalG = Math.min(2 * intervalG, layer.config.t2Ms());
        timerG = schedule(intervalG, this::timerG);
    }

    private void timerH() {
        if (state == TransactionState.COMPLETED) {
            layer.serverTimeouts++;
            terminate();
            layer.tu.onServerTimeout(this);
        }
    }
}
