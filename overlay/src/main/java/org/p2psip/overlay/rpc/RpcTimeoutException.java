package org.p2psip.overlay.rpc;

import java.net.InetSocketAddress;

/** A peer did not answer a request, retries included. */
public final class RpcTimeoutException extends Exception {
    private static final long serialVersionUID = 1L;

    public RpcTimeoutException(InetSocketAddress to, String request, int attempts) {
        super(request + " to " + to + " got no reply after " + attempts + " attempts", null, false, false);
    }
}
