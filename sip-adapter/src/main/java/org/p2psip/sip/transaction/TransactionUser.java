package org.p2psip.sip.transaction;

import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.transport.Source;

/** The layer above transactions (a UA core, registrar, proxy). Called on the transaction thread. */
public interface TransactionUser {
    /** A new request (not ACK, not a retransmission) with its server transaction: answer with {@code tx.respond}. */
    void onRequest(ServerTransaction tx, SipRequest request);

    /** An ACK that belongs to no server transaction (the ACK of a 2xx, RFC 3261 §17.2.3). */
    default void onAck(SipRequest ack, Source source) {
    }

    /** A response no client transaction wants (e.g. 2xx retransmissions after the transaction ended). */
    default void onStrayResponse(SipResponse response, Source source) {
    }

    /** Timer H fired: no ACK came for a non-2xx final response to an INVITE. */
    default void onServerTimeout(ServerTransaction tx) {
    }

    /** A response could not be sent (RFC 3261 §17.2.4). */
    default void onServerTransportError(ServerTransaction tx, Throwable cause) {
    }
}
