package org.p2psip.nat.discovery;

import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What behaviour discovery needs from the network: fresh local sockets that send Binding requests. The real one
 * is {@link StunBindingProbe}; unit tests script canned answers.
 */
public interface BindingProbe {
    /** Opens a fresh local socket (a fresh NAT mapping on first use). */
    CompletableFuture<Endpoint> open();

    /** One local socket. */
    interface Endpoint extends AutoCloseable {
        InetSocketAddress localAddress();

        /**
         * Sends a Binding request to {@code server}. Completes with the answer, or empty when none came (the
         * transaction timed out). Completes exceptionally on an error response or a local failure.
         *
         * @param responsePort RESPONSE-PORT to include, or 0 for none
         */
        CompletableFuture<Optional<Answer>> binding(InetSocketAddress server, boolean changeIp, boolean changePort,
                int responsePort);

        @Override
        void close();
    }

    /**
     * A Binding success response.
     *
     * @param mapped XOR-MAPPED-ADDRESS (or MAPPED-ADDRESS)
     * @param from where the response came from
     * @param receivedOn the local socket that received it
     * @param otherAddress OTHER-ADDRESS, or null when the server lacks RFC 5780 support
     */
    record Answer(InetSocketAddress mapped, InetSocketAddress from, InetSocketAddress receivedOn,
            InetSocketAddress otherAddress) {
    }
}
