package org.p2psip.nat.dtls;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A datagram path to one peer that is not this layer's own UDP socket: the socket of an ICE selected candidate pair
 * (host, server-reflexive or relayed through TURN). {@link DtlsLinkLayer#attachPath} makes the layer send the
 * records of the session with {@link #remote()} through it; whoever reads the path hands what arrives to
 * {@link DtlsLinkLayer#receiveFromPath}. The session is keyed by {@link #remote()}, so the overlay addresses the
 * peer by that address, and its traffic flows over exactly the path's 5-tuple.
 */
public interface LinkPath {
    /** The peer's address on this path (for ICE: the selected pair's remote candidate). */
    InetSocketAddress remote();

    /** Sends one datagram to {@link #remote()}. May be called from any thread. */
    void send(byte[] buf, int off, int len) throws IOException;

    /**
     * The first retransmission timeout for a DTLS handshake over this path, from a round trip measured on it (an ICE
     * check), or 0 for the layer's {@link DtlsConfig#handshakeResendMillis()}. The layer never uses more than that.
     * RFC 6347's 1 s default would add most of a second to a setup whose first flight was lost.
     */
    default int handshakeResendMillis() {
        return 0;
    }
}
