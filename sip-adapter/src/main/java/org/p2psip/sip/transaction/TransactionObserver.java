package org.p2psip.sip.transaction;

/**
 * Told how each transaction ends, for metrics; the transaction layer depends on no metrics library. Called on the
 * transaction thread: implementations only count.
 */
public interface TransactionObserver {
    /** Observes nothing. */
    TransactionObserver NONE = new TransactionObserver() { };

    /** A server transaction for {@code method} sent its (first) final response, {@code status}. */
    default void serverCompleted(String method, int status) {
    }

    /** A client transaction for {@code method} got its (first) final response, {@code status}. */
    default void clientCompleted(String method, int status) {
    }

    /** A client transaction for {@code method} ended without a final response: {@code timeout} (Timer B or F) or {@code transport_error}. */
    default void clientFailed(String method, String why) {
    }
}
