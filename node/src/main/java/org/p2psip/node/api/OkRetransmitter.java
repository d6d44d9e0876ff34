package org.p2psip.node.api;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.transaction.ServerTransaction;
import org.p2psip.sip.transaction.TransactionLayer;

/**
 * The UAS's 2xx to an INVITE or re-INVITE (RFC 3261 §13.3.1.4): the transaction layer does not retransmit a 2xx, so
 * this sends it again at T1, doubling up to T2, until the ACK, for at most 64*T1. Runs on the transaction thread.
 */
final class OkRetransmitter {
    private final TransactionLayer layer;
    private final ServerTransaction tx;
    private final SipResponse ok;
    private final CompletableFuture<Void> acked = new CompletableFuture<>();
    private long interval;
    private boolean done;

    OkRetransmitter(TransactionLayer layer, ServerTransaction tx, SipResponse ok) {
        this.layer = layer;
        this.tx = tx;
        this.ok = ok;
    }

    /** Sends the 2xx; {@code onTimeout} runs if no ACK came within 64*T1. */
    void start(Runnable onTimeout) {
        tx.respond(ok);
        interval = layer.config().t1Ms();
        layer.schedule(interval, this::again);
        layer.schedule(layer.config().timeoutMs(), () -> {
            if (!done) {
                done = true;
                acked.completeExceptionally(new TimeoutException("no ACK for the " + ok.status() + " to "
                        + tx.request().method() + " from " + tx.request().from() + " within 64*T1"));
                onTimeout.run();
            }
        });
    }

    private void again() {
        if (done) {
            return;
        }
        tx.respond(ok);
        interval = Math.min(2 * interval, layer.config().t2Ms());
        layer.schedule(interval, this::again);
    }

    /** The ACK came: retransmissions stop. */
    void ack() {
        if (!done) {
            done = true;
            acked.complete(null);
        }
    }

    /** Completes at the ACK; fails when none came in time. */
    CompletableFuture<Void> acked() {
        return acked;
    }
}
