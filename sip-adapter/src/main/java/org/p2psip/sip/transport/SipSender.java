package org.p2psip.sip.transport;

import java.util.concurrent.CompletableFuture;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;

/** What the transaction layer needs from a transport. The futures fail on transport errors (RFC 3261 §18.4). */
public interface SipSender {
    CompletableFuture<Void> sendRequest(SipRequest request, Target target);

    /** Sends a response to a request that arrived from {@code requestSource}, routed per §18.2.2 and RFC 3581. */
    CompletableFuture<Void> sendResponse(SipResponse response, Source requestSource);
}
