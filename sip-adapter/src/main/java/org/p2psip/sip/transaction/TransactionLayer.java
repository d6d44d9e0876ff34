package org.p2psip.sip.transaction;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.p2psip.sip.message.SipMessage;
import org.p2psip.sip.message.SipParseException;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.transport.SipSender;
import org.p2psip.sip.transport.Source;
import org.p2psip.sip.transport.Target;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transaction layer (RFC 3261 §17): matches incoming messages to transactions (§17.1.3, §17.2.3), creates
 * server transactions for new requests and hands them to the {@link TransactionUser}, and starts client transactions.
 * Runs on one thread (the {@link TimerService}'s); {@link #onMessage} hops there if called from elsewhere.
 *
 * <p>The number of server transactions is bounded. At the bound, a new request first makes room by ending the
 * oldest <em>completed</em> non-INVITE transaction early: it has been answered and only waits out Timer J (32 s over
 * UDP) in case its response was lost, and the oldest one is the least likely to see a retransmission (a client
 * retransmits at most T2 = 4 s apart, and stops at its own Timer F). Without this, a sustained rate of
 * bound / 32 s transactions a second (about 1,500 digest REGISTERs a second at the default bound) got 503s although
 * every request had been answered. Only when every transaction is still waiting for its TU's answer does a new
 * request get a stateless 503.
 */
public final class TransactionLayer {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionLayer.class);

    /**
     * Counters, for tests and metrics. {@code overload}: requests refused with a stateless 503;
     * {@code evictedCompleted}: completed non-INVITE transactions ended before Timer J to make room at the bound;
     * {@code statelessChallenges}: 401/407 answers whose transaction ended at once (RFC 3261 §8.2.7).
     */
    public record Stats(long retransmissions, long absorbed, long clientTimeouts, long serverTimeouts,
            long overload, int clientTransactions, int serverTransactions, long evictedCompleted,
            long statelessChallenges) {
    }

    final SipSender sender;
    final TimerService timers;
    final TimerConfig config;
    final TransactionUser tu;
    private final int maxServerTransactions;
    private final Map<String, ClientTransaction> clients = new HashMap<>();
    private final Map<String, ServerTransaction> servers = new HashMap<>();
    long retransmissions;
    long absorbed;
    long clientTimeouts;
    long serverTimeouts;
    long overload;
    long evictedCompleted;
    long statelessChallenges;
    /**
     * Keys the To tags of server transactions: a tag derived from the transaction's key is the same for every copy of
     * a request, as RFC 3261 §8.2.7 asks of a UAS that answers without keeping state, and unguessable without the key.
     */
    private final com.google.common.hash.HashFunction tagHash = com.google.common.hash.Hashing.sipHash24(
            java.util.concurrent.ThreadLocalRandom.current().nextLong(), java.util.concurrent.ThreadLocalRandom.current().nextLong());
    /** Completed non-INVITE server transactions in completion order (Timer J is the same for all, so oldest first). */
    private final ArrayDeque<ServerTransaction> completed = new ArrayDeque<>();
    volatile TransactionObserver observer = TransactionObserver.NONE;

    public TransactionLayer(SipSender sender, TimerService timers, TimerConfig config, TransactionUser tu) {
        this(sender, timers, config, tu, 100_000);
    }

    public TransactionLayer(SipSender sender, TimerService timers, TimerConfig config, TransactionUser tu,
            int maxServerTransactions) {
        this.sender = sender;
        this.timers = timers;
        this.config = config;
        this.tu = tu;
        this.maxServerTransactions = maxServerTransactions;
    }

    /** The To tag of the server transaction with {@code key}: 48 bits of a keyed hash of the key, in hex. */
    String toTagFor(String key) {
        return Long.toHexString(tagHash.hashUnencodedChars(key).asLong() & 0xFFFF_FFFF_FFFFL | 0x1_0000_0000_0000L);
    }

    /** Runs {@code task} on the transaction thread (for TUs resuming after asynchronous work such as a DHT get). */
    public void execute(Runnable task) {
        if (timers.inLoop()) {
            task.run();
        } else {
            timers.execute(task);
        }
    }

    /** Schedules {@code task} on the transaction thread (for TU timers such as a proxy's Timer C). */
    public TimerService.Cancellable schedule(long delayMillis, Runnable task) {
        return timers.schedule(delayMillis, task);
    }

    /** Who is told how each transaction ends (metrics); {@link TransactionObserver#NONE} by default. */
    public void observer(TransactionObserver o) {
        this.observer = o == null ? TransactionObserver.NONE : o;
    }

    public TimerConfig config() {
        return config;
    }

    public Stats stats() {
        return new Stats(retransmissions, absorbed, clientTimeouts, serverTimeouts, overload, clients.size(),
                servers.size(), evictedCompleted, statelessChallenges);
    }

    /** A message from the transport. */
    public void onMessage(SipMessage m, Source source) {
        if (!timers.inLoop()) {
            timers.execute(() -> onMessage(m, source));
            return;
        }
        try {
            if (m instanceof SipRequest r) {
                onRequest(r, source);
            } else {
                onResponse((SipResponse) m, source);
            }
        } catch (SipParseException e) {
            LOG.debug("message from {} not matched: {}", source.remote(), e.reason());
        }
    }

    private void onRequest(SipRequest r, Source source) {
        String key = TransactionKeys.server(r);
        ServerTransaction tx = servers.get(key);
        if (r.isMethod(SipRequest.ACK)) {
            if (tx instanceof InviteServerTransaction ist) {
                ist.onAck(r);
            } else {
                tu.onAck(r, source);
            }
            return;
        }
        if (tx != null) {
            tx.onRetransmission(r);
            return;
        }
        if (servers.size() >= maxServerTransactions && !evictOldestCompleted()) {
            overload++;
            SipResponse busy = SipResponse.forRequest(r, 503, "Service Unavailable");
            busy = busy.withHeaders(busy.headers().add("Retry-After", "5"));
            sender.sendResponse(busy, source);
            return;
        }
        tx = r.isMethod(SipRequest.INVITE) ? new InviteServerTransaction(this, r, source, key)
                : new NonInviteServerTransaction(this, r, source, key);
        servers.put(key, tx);
        tx.start();
        tu.onRequest(tx, r);
    }

    private void onResponse(SipResponse s, Source source) {
        String key = TransactionKeys.client(s);
        ClientTransaction tx = key == null ? null : clients.get(key);
        if (tx == null) {
            tu.onStrayResponse(s, source);
            return;
        }
        tx.onResponse(s);
    }

    /**
     * Starts a client transaction for {@code request}, whose top Via must carry a fresh RFC 3261 branch (see
     * {@link Branch#next()}). ACKs are not sent through transactions: the INVITE transaction ACKs non-2xx finals,
     * and the TU sends the ACK of a 2xx itself.
     */
    public ClientTransaction sendRequest(SipRequest request, Target target, ClientTransaction.Listener listener) {
        if (!timers.inLoop()) {
            throw new IllegalStateException("call on the transaction thread");
        }
        if (request.isMethod(SipRequest.ACK)) {
            throw new IllegalArgumentException("ACK is not sent in a client transaction");
        }
        if (!request.topVia().hasRfc3261Branch()) {
            throw new IllegalArgumentException("top Via needs an RFC 3261 branch");
        }
        String key = TransactionKeys.client(request);
        if (clients.containsKey(key)) {
            throw new IllegalArgumentException("a client transaction with this branch exists: " + key);
        }
        ClientTransaction.Listener observed = observed(request.method(), listener);
        ClientTransaction tx = request.isMethod(SipRequest.INVITE)
                ? new InviteClientTransaction(this, request, target, observed, key)
                : new NonInviteClientTransaction(this, request, target, observed, key);
        clients.put(key, tx);
        tx.start();
        return tx;
    }

    /** {@code listener}, and the observer told of the transaction's first final response, timeout or error. */
    private ClientTransaction.Listener observed(String method, ClientTransaction.Listener listener) {
        return new ClientTransaction.Listener() {
            private boolean ended;

            @Override
            public void onResponse(ClientTransaction tx, SipResponse response) {
                if (!ended && response.isFinal()) {
                    ended = true;
                    observer.clientCompleted(method, response.status());
                }
                listener.onResponse(tx, response);
            }

            @Override
            public void onTimeout(ClientTransaction tx) {
                if (!ended) {
                    ended = true;
                    observer.clientFailed(method, "timeout");
                }
                listener.onTimeout(tx);
            }

            @Override
            public void onTransportError(ClientTransaction tx, Throwable cause) {
                if (!ended) {
                    ended = true;
                    observer.clientFailed(method, "transport_error");
                }
                listener.onTransportError(tx, cause);
            }
        };
    }

    /** The INVITE server transaction a CANCEL refers to (RFC 3261 §9.2), if it is still there. */
    public Optional<ServerTransaction> findInvite(SipRequest cancel) {
        return Optional.ofNullable(servers.get(TransactionKeys.inviteOf(cancel)));
    }

    void removeClient(ClientTransaction tx) {
        clients.remove(tx.key, tx);
    }

    void removeServer(ServerTransaction tx) {
        servers.remove(tx.key, tx);
        // Timer J ends them in completion order, so the ones that ended are at the head
        while (!completed.isEmpty() && completed.peekFirst().state == TransactionState.TERMINATED) {
            completed.pollFirst();
        }
    }

    /**
     * A non-INVITE server transaction entered Completed over an unreliable transport: Timer J ends it
     * {@code 64*T1} later, or it is ended early at the bound. Timer J lasts the same for all of them, so they end in
     * completion order: one timer for the head of {@link #completed} serves them all, where a timer each kept
     * tens of thousands of entries in the event loop's timer heap (about 6,000 a second at 3,000 digest REGISTERs).
     */
    void completed(ServerTransaction tx) {
        tx.completedAt = timers.nowMillis();
        completed.addLast(tx);
        if (timerJ == null) {
            timerJ = timers.schedule(config.timeoutMs(), this::timerJ);
        }
    }

    /** Ends, at most this much early, the other completed transactions due when Timer J fires for the head. */
    static final long TIMER_J_BATCH_MILLIS = 50;
    private TimerService.Cancellable timerJ;

    /** Timer J of the completed transactions that are due (and those due within the batch), then waits for the next. */
    private void timerJ() {
        timerJ = null;
        long now = timers.nowMillis();
        ServerTransaction tx;
        while ((tx = completed.peekFirst()) != null) {
            if (tx.state != TransactionState.COMPLETED) {
                completed.pollFirst(); // ended already (evicted, transport error)
                continue;
            }
            long due = tx.completedAt + config.timeoutMs();
            if (due > now + TIMER_J_BATCH_MILLIS) {
                timerJ = timers.schedule(due - now, this::timerJ);
                return;
            }
            completed.pollFirst();
            tx.terminate();
        }
    }

    /** Ends the oldest completed non-INVITE server transaction still held; false if there is none. */
    private boolean evictOldestCompleted() {
        ServerTransaction tx;
        while ((tx = completed.pollFirst()) != null) {
            // entries that already ended (Timer J, a transport error) are dropped here as they reach the head
            if (tx.state == TransactionState.COMPLETED) {
                tx.terminate();
                evictedCompleted++;
                return true;
            }
        }
        return false;
    }
}
