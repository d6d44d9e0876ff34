package org.p2psip.sip;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicReference;
import org.p2psip.sip.transaction.EventLoopTimerService;
import org.p2psip.sip.transaction.TimerConfig;
import org.p2psip.sip.transaction.TransactionLayer;
import org.p2psip.sip.transaction.TransactionUser;
import org.p2psip.sip.transport.SipTransport;

/**
 * The transport and the transaction layer wired together: messages come in on the Netty I/O threads and are handed
 * to one event loop, which runs every transaction, timer and {@link TransactionUser} callback.
 */
public final class SipStack implements AutoCloseable {
    private final SipTransport transport;
    private final TransactionLayer transactions;

    private SipStack(SipTransport transport, TransactionLayer transactions) {
        this.transport = transport;
        this.transactions = transactions;
    }

    public static SipStack start(SipTransport.Config transportConfig, TimerConfig timers, TransactionUser tu)
            throws IOException {
        AtomicReference<TransactionLayer> layer = new AtomicReference<>();
        SipTransport transport = SipTransport.start(transportConfig, (m, source) -> {
            TransactionLayer l = layer.get();
            if (l != null) { // null only for a message racing the start-up: dropped, the peer retransmits
                l.onMessage(m, source);
            }
        });
        layer.set(new TransactionLayer(transport, new EventLoopTimerService(transport.group().next()), timers, tu));
        return new SipStack(transport, layer.get());
    }

    public SipTransport transport() {
        return transport;
    }

    public TransactionLayer transactions() {
        return transactions;
    }

    @Override
    public void close() {
        transport.close();
    }
}
