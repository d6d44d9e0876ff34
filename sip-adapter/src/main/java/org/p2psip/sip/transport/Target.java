package org.p2psip.sip.transport;

import java.net.InetSocketAddress;

/** Where to send a request: a transport and a resolved address. */
public record Target(Transport transport, InetSocketAddress address) {
    public boolean reliable() {
        return transport.reliable();
    }
}
