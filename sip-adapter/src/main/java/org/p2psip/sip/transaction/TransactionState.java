package org.p2psip.sip.transaction;

/** The states of RFC 3261 §17 (with Accepted from RFC 6026). */
public enum TransactionState {
    /** INVITE client: request sent, nothing heard. */
    CALLING,
    /** Non-INVITE client and server: request sent or received, no provisional response. */
    TRYING,
    PROCEEDING,
    COMPLETED,
    /** INVITE client and server after a 2xx (RFC 6026): 2xx retransmissions and ACKs pass by. */
    ACCEPTED,
    /** INVITE server: ACK for a non-2xx final received. */
    CONFIRMED,
    TERMINATED
}
