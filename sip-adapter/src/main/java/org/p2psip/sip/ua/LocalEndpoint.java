package org.p2psip.sip.ua;

import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.transaction.ServerTransaction;

/**
 * A user agent embedded in the peer itself (an application that registered AORs with this peer's own SIP address as
 * their Contact, e.g. {@code sip:bob@192.0.2.1:5060}): the proxy hands it every request whose Request-URI is this
 * peer's address with a user part, instead of answering 404. Called on the transaction thread; implementations
 * hop elsewhere for slow work and answer through {@code tx}.
 */
public interface LocalEndpoint {
    /** A request (not ACK) addressed to a contact of this peer's own address. */
    void onRequest(ServerTransaction tx, SipRequest request);

    /** The ACK of a 2xx the endpoint sent (RFC 3261 §13.2.2.4), addressed to one of its contacts. */
    default void onAck(SipRequest ack) {
    }

    /** A CANCEL ended an INVITE the endpoint had not answered: the proxy answers it 487 right after this call. */
    default void onCancelled(ServerTransaction invite) {
    }
}
