package org.p2psip.overlay;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The DHT as its users see it, on a superpeer or (later) through a leaf's superpeer. Every call is
 * asynchronous; futures complete on the node's thread, so callers must not block in callbacks.
 */
public interface Dht {
    /**
     * Stores {@code value} on the {@code replicas} nodes closest to {@code key}.
     *
     * <p>"Done" means: a lookup found the {@code replicas} closest nodes (each of them answered it), and
     * every one of them answered the STORE, accepting or refusing it (a node that does not answer
     * after the RPC's retries counts as not stored). The future then completes with how many accepted
     * ({@link PutResult#stored()}) of how many were asked; a get issued after that finds the value on
     * each that accepted. It fails with a {@link DhtException} when no replica accepted it. The STOREs
     * may leave before the lookup ends (they are pipelined with it), which can leave a copy on a node
     * just outside the closest; see {@link OverlayStats.Snapshot#extraCopies()}.
     *
     * <p>{@link PutResult#held()} carries, for each replica that stored the value and could tell, what it holds under
     * the key right after storing it ({@link HeldValues}: owner, nonce and expiry of each live value). A writer that
     * knows what the key held before may skip reading it back when {@link PutResult#heldEverywhere()} and every
     * summary shows nothing but its own change. Implementations that cannot tell give no summaries; the writer then
     * reads.
     */
    CompletableFuture<PutResult> put(NodeId key, DhtValue value);

    /**
     * Stores {@code full}, a later version of a value the replicas may hold already, by sending {@code compact}
     * (the same value id and expiry, holding only what changed; the storage policy expands it against the stored
     * version, see {@link org.p2psip.overlay.store.StoragePolicy.Decision#storeAs()}), and {@code full} to each
     * replica that refused the compact form (it holds no version it can expand, e.g. it joined since). Done as
     * {@link #put}; the writer republishes {@code full}. A compact value fits one datagram where the full one may
     * not, so the replicas' lookup and STORE are one round trip. This default puts {@code full}.
     */
    default CompletableFuture<PutResult> putRefresh(NodeId key, DhtValue compact, DhtValue full) {
        return put(key, full);
    }

    /**
     * Every live value at {@code key}, from all writers. Fails with a {@link DhtException} (AGAIN) when no node
     * that was asked answered and none is known to hold a value: an empty list means "nothing stored there", never
     * "nobody could tell".
     */
    CompletableFuture<List<DhtValue>> get(NodeId key);

    /** Removes the value (owner, nonce) at {@code key}; {@code proof} is what the storage policy asks for. */
    CompletableFuture<PutResult> remove(NodeId key, Bytes owner, Bytes nonce, Bytes proof);

    /**
     * Reports the values at {@code key} now and as they appear, change, expire or are removed, until
     * the returned subscription is closed. {@code listener} runs on the node's thread.
     */
    Subscription listen(NodeId key, Consumer<ValueEvent> listener);

    /** An active {@link #listen}. */
    interface Subscription extends AutoCloseable {
        @Override
        void close();
    }
}
