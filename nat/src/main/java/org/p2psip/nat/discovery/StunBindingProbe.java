package org.p2psip.nat.discovery;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.p2psip.nat.stun.StunAttribute;
import org.p2psip.nat.stun.StunClient;
import org.p2psip.nat.stun.StunResponse;
import org.p2psip.nat.stun.StunTimeoutException;

/** {@link BindingProbe} over a {@link StunClient}; sockets are bound to {@code localIp} with ephemeral ports. */
public final class StunBindingProbe implements BindingProbe {
    private final StunClient client;
    private final InetSocketAddress bindTo;

    /** @param bindTo local address to bind each socket to; use port 0 (and a wildcard IP if unsure) */
    public StunBindingProbe(StunClient client, InetSocketAddress bindTo) {
        this.client = client;
        this.bindTo = bindTo;
    }

    @Override
    public CompletableFuture<Endpoint> open() {
        return client.open(bindTo).thenApply(SocketEndpoint::new);
    }

    private static final class SocketEndpoint implements Endpoint {
        private final StunClient.Socket socket;

        SocketEndpoint(StunClient.Socket socket) {
            this.socket = socket;
        }

        @Override
        public InetSocketAddress localAddress() {
            return socket.localAddress();
        }

        @Override
        public CompletableFuture<Optional<Answer>> binding(InetSocketAddress server, boolean changeIp,
                boolean changePort, int responsePort) {
            java.util.List<StunAttribute> attrs = new java.util.ArrayList<>();
            if (changeIp || changePort) {
                attrs.add(new StunAttribute.ChangeRequest(changeIp, changePort));
            }
            if (responsePort != 0) {
                attrs.add(new StunAttribute.ResponsePort(responsePort));
            }
            return socket.binding(server, attrs.toArray(StunAttribute[]::new)).handle((r, e) -> {
                if (e != null) {
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    if (cause instanceof StunTimeoutException) {
                        return Optional.empty();
                    }
                    throw new CompletionException(cause);
                }
                return Optional.of(toAnswer(r));
            });
        }

        private static Answer toAnswer(StunResponse r) {
            if (!r.isSuccess()) {
                throw new CompletionException(new IOException("STUN error " + r.errorCode() + " from " + r.from()));
            }
            InetSocketAddress mapped = r.message().mappedAddress()
                    .orElseThrow(() -> new CompletionException(new IOException("response without a mapped address")));
            InetSocketAddress other = r.message().get(StunAttribute.OtherAddress.class)
                    .map(StunAttribute.OtherAddress::address).orElse(null);
            return new Answer(mapped, r.from(), r.receivedOn(), other);
        }

        @Override
        public void close() {
            socket.close();
        }
    }
}
