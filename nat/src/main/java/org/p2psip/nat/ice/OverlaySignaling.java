package org.p2psip.nat.ice;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.route.RouteAnswer;
import org.p2psip.overlay.route.RouteMode;
import org.p2psip.overlay.route.RoutedRequest;

/**
 * {@link Signaling} carried by the overlay itself, as RELOAD carries Attach: the request is an overlay routed request
 * ({@link OverlayNode#route}, application id {@value #APP_ID}) to the target's node id, forwarded hop by hop over the
 * links the overlay already has (a NATed node's link to its bootstrap, the bootstrap's link to the target), and the
 * answer returns along the same hops. No rendezvous server is needed beyond the overlay.
 *
 * <p>Checks on what arrives: a request must be addressed to this node and sent by the route's origin, an answer must
 * come from the node the request was for and repeat its transaction. Malformed payloads are refused and counted
 * ({@link #malformed()}). Signaling stays untrusted: the DTLS handshake on the link authenticates the peer.
 */
public final class OverlaySignaling implements Signaling {
    /** The routed-request application id of Attach. */
    public static final String APP_ID = "attach";

    private final OverlayNode node;
    private final long timeoutMillis;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong served = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private volatile int lastHops = -1;
    private volatile java.util.function.Consumer<AttachMessage.Candidates> candidates = c -> { };
    private volatile Handler handler = r -> CompletableFuture.completedFuture(new AttachMessage.Refused(r.to(), r.from(),
            r.transaction(), "this node accepts no Attach requests"));

    /**
     * @param timeoutMillis how long an Attach may wait for its answer through the overlay (the target gathers its
     *                      candidates, a TURN allocation included, before it answers); at most 60,000
     */
    public OverlaySignaling(OverlayNode node, long timeoutMillis) {
        this.node = node;
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public CompletableFuture<AttachMessage> attach(AttachMessage.Request request) {
        if (!request.from().equals(node.id())) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("an attach from " + request.from().shortHex()
                    + " cannot be sent by node " + node.id().shortHex()));
        }
        sent.incrementAndGet();
        return node.route(request.to(), APP_ID, Bytes.wrap(AttachCodec.encode(request)), RouteMode.EXACT, timeoutMillis)
                .handle((answer, e) -> {
                    if (e != null) {
                        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                        throw new CompletionException(new IOException("the attach to " + request.to().shortHex()
                                + " through the overlay failed: " + c.getMessage(), c));
                    }
                    return check(request, answer);
                });
    }

    private AttachMessage check(AttachMessage.Request request, RouteAnswer answer) {
        AttachMessage m;
        try {
            m = AttachCodec.decode(answer.payload().toArray());
        } catch (AttachFormatException e) {
            malformed.incrementAndGet();
            throw new CompletionException(new IOException("node " + answer.responder().shortHex()
                    + " answered the attach with a malformed message: " + e.getMessage()));
        }
        if (m instanceof AttachMessage.Request || !m.from().equals(request.to()) || !m.to().equals(node.id())
                || m.transaction() != request.transaction() || !answer.responder().equals(request.to())) {
            malformed.incrementAndGet();
            throw new CompletionException(new IOException("the attach answer from " + answer.responder().shortHex()
                    + " does not match the request to " + request.to().shortHex()));
        }
        lastHops = answer.hops();
        return m;
    }

    @Override
    public boolean supportsTrickle() {
        return true;
    }

    /** Routes the candidates to their node like an Attach; the empty answer is ignored (best effort). */
    @Override
    public void trickle(AttachMessage.Candidates m) {
        if (!m.from().equals(node.id())) {
            throw new IllegalArgumentException("candidates from " + m.from().shortHex() + " cannot be sent by node "
                    + node.id().shortHex());
        }
        node.route(m.to(), APP_ID, Bytes.wrap(AttachCodec.encode(m)), RouteMode.EXACT, timeoutMillis);
    }

    @Override
    public void onCandidates(java.util.function.Consumer<AttachMessage.Candidates> listener) {
        this.candidates = listener;
        node.handle(APP_ID, this::onRouted);
    }

    @Override
    public void serve(Handler handler) {
        this.handler = handler;
        node.handle(APP_ID, this::onRouted);
    }

    private CompletableFuture<Bytes> onRouted(RoutedRequest req) {
        AttachMessage m;
        try {
            m = AttachCodec.decode(req.payload().toArray());
        } catch (AttachFormatException e) {
            malformed.incrementAndGet();
            return CompletableFuture.failedFuture(new IOException("malformed attach: " + e.getMessage()));
        }
        if (m instanceof AttachMessage.Candidates c) {
            if (!c.to().equals(node.id()) || !c.from().equals(req.origin())) {
                malformed.incrementAndGet();
                return CompletableFuture.failedFuture(new IOException("candidates for " + c.to().shortHex() + " from "
                        + c.from().shortHex() + " reached node " + node.id().shortHex() + " from "
                        + req.origin().shortHex()));
            }
            candidates.accept(c);
            return CompletableFuture.completedFuture(Bytes.EMPTY);
        }
        if (!(m instanceof AttachMessage.Request r)) {
            malformed.incrementAndGet();
            return CompletableFuture.failedFuture(new IOException("an attach request was expected"));
        }
        if (!r.to().equals(node.id()) || !r.from().equals(req.origin())) {
            malformed.incrementAndGet();
            return CompletableFuture.failedFuture(new IOException("the attach is for " + r.to().shortHex() + " from "
                    + r.from().shortHex() + " but reached node " + node.id().shortHex() + " from "
                    + req.origin().shortHex()));
        }
        served.incrementAndGet();
        CompletableFuture<AttachMessage> answer;
        try {
            answer = handler.onRequest(r);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        return answer.thenApply(a -> Bytes.wrap(AttachCodec.encode(a)));
    }

    /** Attach requests sent through the overlay. */
    public long sent() {
        return sent.get();
    }

    /** Attach requests that reached this node's handler. */
    public long served() {
        return served.get();
    }

    /** Attach payloads refused because they were malformed or did not match (either way). */
    public long malformed() {
        return malformed.get();
    }

    /** Overlay hops the last answered Attach took to its target (-1: none yet). */
    public int lastHops() {
        return lastHops;
    }

    /** Stops serving Attach requests (the overlay then refuses them: no handler). */
    @Override
    public void close() {
        node.handle(APP_ID, null);
    }
}
