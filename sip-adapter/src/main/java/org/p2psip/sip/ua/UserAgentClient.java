package org.p2psip.sip.ua;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.SipUri;
import org.p2psip.sip.message.Via;
import org.p2psip.sip.transaction.Branch;
import org.p2psip.sip.transaction.ClientTransaction;
import org.p2psip.sip.transaction.TransactionLayer;
import org.p2psip.sip.transport.Target;

/**
 * The peer as a UAC for requests it originates itself (delivering offline messages, NOTIFY): adds this peer's
 * Via with a fresh branch, sends through a client transaction, and completes with the final response. A timeout
 * (Timer F) or transport error fails the future. Safe to call from any thread.
 */
public final class UserAgentClient {
    private final TransactionLayer layer;
    private final String host;
    private final int port;
    private final InetSocketAddress local;

    public UserAgentClient(TransactionLayer layer, InetSocketAddress local) {
        this.layer = layer;
        this.local = local;
        this.host = SipUri.normalizeHost(local.getAddress().getHostAddress());
        this.port = local.getPort();
    }

    /** A Call-ID or tag unique to this peer. */
    public String uniqueId() {
        return Branch.next().substring(Via.MAGIC_COOKIE.length());
    }

    /** This peer's host (for Call-IDs and Contacts). */
    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** The peer's SIP socket, the source of the requests it originates. */
    public InetSocketAddress localAddress() {
        return local;
    }

    /** Sends {@code request} (without a Via) to {@code target}; completes with the final response. */
    public CompletableFuture<SipResponse> send(SipRequest request, Target target) {
        CompletableFuture<SipResponse> result = new CompletableFuture<>();
        layer.execute(() -> {
            try {
                SipRequest r = request.withHeaders(request.headers().prepend(HeaderNames.VIA,
                        Via.of(target.transport().name(), host, port, Branch.next()).toString()));
                layer.sendRequest(r, target, new ClientTransaction.Listener() {
                    @Override
                    public void onResponse(ClientTransaction tx, SipResponse response) {
                        if (!response.isProvisional()) {
                            result.complete(response);
                        }
                    }

                    @Override
                    public void onTimeout(ClientTransaction tx) {
                        result.completeExceptionally(new TimeoutException(request.method() + " to "
                                + request.requestUri() + " got no final response"));
                    }

                    @Override
                    public void onTransportError(ClientTransaction tx, Throwable cause) {
                        result.completeExceptionally(cause);
                    }
                });
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }
}
