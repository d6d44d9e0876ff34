package org.p2psip.sip.transport;

import java.net.InetSocketAddress;

/** Where a message came from: the transport, the peer's address and port, and the local address it reached. */
public record Source(Transport transport, InetSocketAddress remote, InetSocketAddress local) {
}
