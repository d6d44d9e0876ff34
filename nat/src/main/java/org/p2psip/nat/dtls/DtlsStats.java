package org.p2psip.nat.dtls;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/** Counters of a {@link DtlsLinkLayer}. Thread-safe; read with {@link #get}. */
public final class DtlsStats {
    /** What is counted. */
    public enum Counter {
        /** UDP datagrams received (on the layer's socket or an attached {@link LinkPath}). */
        DATAGRAMS_IN,
        /** Datagrams an attached {@link LinkPath} failed to send (the records are lost; DTLS and RPCs retransmit). */
        PATH_SEND_FAILED,
        /** Application datagrams delivered to the receiver. */
        DELIVERED,
        /** Application datagrams sent in established sessions. */
        SENT,
        /** Datagrams that are not DTLS 1.0/1.2 records (garbage). */
        NOT_DTLS,
        /**
         * DTLS records (not ClientHellos) that belong to no session: from an address without one, or, while a client
         * attempt waits for the server's first answer, anything but a HelloVerifyRequest or ServerHello.
         */
        NO_SESSION,
        /** Sessions this side opened because the address sent records of a session this side does not have. */
        RESYNC_HANDSHAKES,
        /** HelloVerifyRequests sent (answers to ClientHellos without a valid cookie). */
        HELLO_VERIFY_SENT,
        /** HelloVerifyRequests not sent because of the rate limit. */
        HELLO_VERIFY_RATE_LIMITED,
        /** ClientHellos that the cookie verifier could not parse. */
        CLIENT_HELLO_INVALID,
        /** Copies of the ClientHello that made an established session, ignored. */
        CLIENT_HELLO_DUPLICATE,
        HANDSHAKES_STARTED_CLIENT,
        HANDSHAKES_STARTED_SERVER,
        /** Server handshakes started without a cookie exchange: the ClientHello came over an attached (ICE) path. */
        COOKIELESS_OVER_PATH,
        /**
         * Paths attached for the peer to open the session ({@link DtlsLinkLayer#attachPathForPeer}) whose ClientHello
         * did not come within the wait, so this side opened it.
         */
        PEER_OPEN_FALLBACKS,
        HANDSHAKES_COMPLETED,
        /** Handshakes that failed: timeout, alert, refused certificate. */
        HANDSHAKES_FAILED,
        /** Server handshakes refused because {@link DtlsConfig#maxConcurrentHandshakes()} were running. */
        HANDSHAKES_REFUSED,
        /** New sessions refused because the table was full of handshaking sessions. */
        SESSIONS_REFUSED,
        /** Established sessions closed to make room for a new one (least recently used). */
        SESSIONS_EVICTED,
        /** Peer certificates refused (see {@link PeerCertificates}). */
        AUTH_FAILURES,
        /** Simultaneous opens where this side gave up its client handshake and became the server. */
        SIMULTANEOUS_OPEN_YIELDED,
        /** Simultaneous opens where this side stayed the client. */
        SIMULTANEOUS_OPEN_KEPT,
        /** Inbound datagrams dropped because a session's queue was full. */
        INBOUND_OVERFLOW,
        /** Outbound datagrams dropped because a handshaking session's queue was full. */
        PENDING_OVERFLOW,
        /** Queued outbound datagrams dropped because their session's handshake failed or it closed. */
        PENDING_DROPPED,
        /** Outbound datagrams that are empty or larger than one record can carry. */
        OVERSIZE,
        /** Datagrams in established sessions that carried no data: bad MAC, replays, truncation, stray handshake records. */
        RECORDS_DROPPED,
        /** Frames whose overlay sender id differs from the authenticated peer id (the session is closed). */
        IMPOSTOR_FRAMES,
        KEEPALIVES_SENT,
        KEEPALIVES_RECEIVED,
        /** Sessions closed because nothing arrived for {@link DtlsConfig#deadPeerTimeoutMillis()}. */
        DEAD_PEER_CLOSED,
        /** Sessions closed because they carried no data for {@link DtlsConfig#unusedSessionTimeoutMillis()}. */
        UNUSED_CLOSED,
        /** Sessions the peer closed (close_notify) or that failed (fatal alert, error). */
        SESSIONS_CLOSED_BY_PEER,
        /** Exceptions thrown by the receiver. */
        RECEIVER_ERRORS
    }

    private final AtomicLongArray values = new AtomicLongArray(Counter.values().length);

    void inc(Counter c) {
        values.incrementAndGet(c.ordinal());
    }

    void add(Counter c, long n) {
        values.addAndGet(c.ordinal(), n);
    }

    public long get(Counter c) {
        return values.get(c.ordinal());
    }

    /** The counters that are not zero. */
    public Map<Counter, Long> nonZero() {
        Map<Counter, Long> out = new EnumMap<>(Counter.class);
        for (Counter c : Counter.values()) {
            long v = get(c);
            if (v != 0) {
                out.put(c, v);
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return nonZero().toString();
    }
}
