package org.p2psip.sip.transaction;

import java.util.ArrayList;
import java.util.List;
import org.p2psip.sip.message.SipMessage;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.transport.Target;

/** A client transaction (RFC 3261 §17.1). Driven on the transaction thread. */
public abstract sealed class ClientTransaction permits InviteClientTransaction, NonInviteClientTransaction {
    /** What the TU hears from a client transaction. */
    public interface Listener {
        void onResponse(ClientTransaction tx, SipResponse response);

        /** Timer B or F fired. */
        default void onTimeout(ClientTransaction tx) {
        }

        default void onTransportError(ClientTransaction tx, Throwable cause) {
        }
    }

    final TransactionLayer layer;
    final SipRequest request;
    final Target target;
    final Listener listener;
    final String key;
    TransactionState state;
    private final List<TimerService.Cancellable> timers = new ArrayList<>(3);

    ClientTransaction(TransactionLayer layer, SipRequest request, Target target, Listener listener, String key) {
        this.layer = layer;
        this.request = request;
        this.target = target;
        this.listener = listener;
        this.key = key;
    }

    public SipRequest request() {
        return request;
    }

    public Target target() {
        return target;
    }

    public TransactionState state() {
        return state;
    }

    public boolean reliable() {
        return target.reliable();
    }

    abstract void start();

    abstract void onResponse(SipResponse response);

    final boolean terminated() {
        return state == TransactionState.TERMINATED;
    }

    final void transmit(SipMessage m) {
        layer.sender.sendRequest((SipRequest) m, target).whenComplete((v, err) -> {
            if (err != null) {
                layer.timers.execute(() -> transportError(err));
            }
        });
    }

    final void retransmit() {
        layer.retransmissions++;
        transmit(request);
    }

    final void transportError(Throwable cause) {
        if (!terminated()) {
            terminate();
            listener.onTransportError(this, cause);
        }
    }

    final void timeout() {
        layer.clientTimeouts++;
        terminate();
        listener.onTimeout(this);
    }

    final TimerService.Cancellable schedule(long ms, Runnable task) {
        TimerService.Cancellable c = layer.timers.schedule(ms, () -> {
            if (!terminated()) {
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
        layer.removeClient(this);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + key + " " + state + "]";
    }
}
