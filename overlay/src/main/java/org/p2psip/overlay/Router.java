package org.p2psip.overlay;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import org.p2psip.overlay.route.RouteAnswer;
import org.p2psip.overlay.route.RouteHandler;
import org.p2psip.overlay.route.RouteMode;
import org.p2psip.overlay.route.RoutedRequest;
import org.p2psip.overlay.routing.RoutingTable;
import org.p2psip.overlay.rpc.RpcEngine;
import org.p2psip.overlay.runtime.Scheduler;
import org.p2psip.overlay.wire.Frame;
import org.p2psip.overlay.wire.Message.Route;
import org.p2psip.overlay.wire.Message.RouteReply;
import org.p2psip.overlay.wire.Message.Status;
import org.p2psip.overlay.wire.WireCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routed requests (ROUTE / ROUTE_REPLY): a payload for an application id carried hop by hop over the node's existing
 * links to a target id, its answer returning along the same hops, as RELOAD routes Attach and application messages.
 *
 * <p>Each hop keeps one {@link Transit} per request, named by (origin, transaction): the hop's pending call
 * downstream is the reverse path, so the answer needs no route of its own. A retransmission from upstream is answered
 * from the transit (again, once the answer is in) and never delivered or forwarded twice. Loops cannot form: a hop
 * drops a request whose via list holds its own id, never forwards to a node on the via list, and the hop limit and
 * the via list are bounded by the codec. Each hop waits a little less than the hop before it, so an answer saying
 * where the route failed reaches the origin before the origin gives up. Used only on the node's thread.
 */
final class Router {
    private static final Logger LOG = LoggerFactory.getLogger(Router.class);
    /** Hops a request may take unless the origin asks for fewer. */
    static final int DEFAULT_HOP_LIMIT = 16;
    static final long DEFAULT_TIMEOUT_MILLIS = 10_000;
    /** Requests a node carries at once (as a hop or destination); more are refused with CAPACITY. */
    static final int MAX_TRANSITS = 4_096;
    /** How long an answered transit stays, to answer retransmissions of its request. */
    private static final long KEEP_ANSWERED_MILLIS = 5_000;
    /** Answers kept for retransmissions, in payload bytes; beyond it an answer is sent but not kept. */
    static final long MAX_KEPT_ANSWER_BYTES = 8L << 20;
    /** Transmissions to the next hop; the last one waits until the hop's deadline. */
    private static final int SENDS_PER_HOP = 4;
    /** A hop gives up this much (or a tenth of the budget, if more) before the hop before it does. */
    private static final long HOP_MARGIN_MILLIS = 150;
    private static final long MIN_FORWARD_TIMEOUT_MILLIS = 100;

    private final NodeId self;
    private final Scheduler scheduler;
    private final RpcEngine rpc;
    private final RoutingTable routing;
    private final BiConsumer<InetSocketAddress, Frame> send;
    private final OverlayStats stats;
    private final Random random;
    private final int k;
    private final Map<String, RouteHandler> handlers = new ConcurrentHashMap<>();
    private final HashMap<TransitKey, Transit> transits = new HashMap<>();
    private long keptAnswerBytes;

    private record TransitKey(NodeId origin, long transaction) { }

    /** One request this node carries: where its answer goes, and the answer once known. */
    private static final class Transit {
        final InetSocketAddress upstream;
        final long upstreamRequestId;
        long expiresAt;
        boolean answered;
        /** The answer, kept for retransmissions (null when not answered yet, or not kept). */
        Frame answer;
        int keptBytes;

        Transit(InetSocketAddress upstream, long upstreamRequestId, long expiresAt) {
            this.upstream = upstream;
            this.upstreamRequestId = upstreamRequestId;
            this.expiresAt = expiresAt;
        }
    }

    Router(NodeId self, Scheduler scheduler, RpcEngine rpc, RoutingTable routing, BiConsumer<InetSocketAddress, Frame> send,
           OverlayStats stats, Random random, int k) {
        this.self = self;
        this.scheduler = scheduler;
        this.rpc = rpc;
        this.routing = routing;
        this.send = send;
        this.stats = stats;
        this.random = random;
        this.k = k;
    }

    /** Sets (or, with null, removes) the handler of {@code appId}. Any thread. */
    void handle(String appId, RouteHandler handler) {
        if (!WireCodec.validAppId(appId)) {
            throw new IllegalArgumentException("bad application id '" + appId + "': use 1.." + WireCodec.MAX_APP_ID_CHARS
                    + " ASCII letters, digits, '.', '-' or '_'");
        }
        if (handler == null) {
            handlers.remove(appId);
        } else {
            handlers.put(appId, handler);
        }
    }

    int transitCount() {
        return transits.size();
    }

    // ------------------------------------------------------------------ origin

    CompletableFuture<RouteAnswer> route(NodeId target, String appId, Bytes payload, RouteMode mode, long timeoutMillis) {
        if (!WireCodec.validAppId(appId)) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("bad application id '" + appId + "': use 1.."
                    + WireCodec.MAX_APP_ID_CHARS + " ASCII letters, digits, '.', '-' or '_'"));
        }
        if (payload.length() > WireCodec.MAX_ROUTED_PAYLOAD_BYTES) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("a routed payload of " + payload.length()
                    + " bytes exceeds " + WireCodec.MAX_ROUTED_PAYLOAD_BYTES + "; send less per request"));
        }
        if (timeoutMillis < 1 || timeoutMillis > WireCodec.MAX_ROUTE_TIMEOUT_MILLIS) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("route timeout " + timeoutMillis
                    + " ms outside 1.." + WireCodec.MAX_ROUTE_TIMEOUT_MILLIS));
        }
        boolean exact = mode == RouteMode.EXACT;
        List<NodeId> via = List.of(self);
        Contact next = target.equals(self) ? null : nextHop(target, exact, via);
        if (next == null) {
            if (exact && !target.equals(self)) {
                stats.routedDropped.incrementAndGet();
                return CompletableFuture.failedFuture(new DhtException(Status.AGAIN, "no route to node " + target.shortHex()
                        + ": this node has no contact to forward to; join the overlay first"));
            }
            return deliver(new RoutedRequest(self, target, appId, payload, 0)).thenApply(r -> answerOf(r));
        }
        long deadline = scheduler.nowMillis() + timeoutMillis;
        Route req = new Route(target, random.nextLong(), exact, DEFAULT_HOP_LIMIT, (int) timeoutMillis, via, appId, payload);
        return rpc.call(next.address(), req, SENDS_PER_HOP, deadline).handle((f, e) -> {
            if (e != null) {
                routing.failed(next.id(), scheduler.nowMillis());
                throw new DhtException(Status.AGAIN, "no answer to a request routed to " + target.shortHex() + " within "
                        + timeoutMillis + " ms (first hop " + next + "); the target may be gone, or try a longer timeout");
            }
            if (!(f.message() instanceof RouteReply r)) {
                throw new DhtException(Status.BAD_REQUEST, "unexpected reply to ROUTE from " + next);
            }
            return answerOf(r);
        });
    }

    private static RouteAnswer answerOf(RouteReply r) {
        if (!r.status().ok()) {
            throw new DhtException(r.status(), r.reason());
        }
        return new RouteAnswer(r.responder(), r.hops(), r.payload());
    }

    // ------------------------------------------------------------------ a hop

    /** Serves a ROUTE that arrived from {@code from} (the link-checked sender) in request frame {@code f}. */
    void onRequest(Contact from, Frame f, Route r) {
        List<NodeId> via = r.via();
        if (!via.get(via.size() - 1).equals(from.id())) {
            drop(r, "its last via entry is not the node that sent it");
            return;
        }
        if (via.contains(self)) {
            drop(r, "loop: this node is already on its via list");
            return;
        }
        if (new HashSet<>(via).size() != via.size()) {
            drop(r, "its via list repeats a node");
            return;
        }
        long now = scheduler.nowMillis();
        TransitKey key = new TransitKey(via.get(0), r.transaction());
        Transit known = transits.get(key);
        if (known != null) {
            if (!known.upstream.equals(from.address())) {
                drop(r, "the same request came again from another node");
            } else if (known.answered && known.answer != null) {
                // a retransmission after the answer left: the answer was lost, send it again
                send.accept(from.address(), new Frame(true, f.requestId(), self, known.answer.message()));
            }
            return; // else still pending downstream: the answer will come
        }
        if (transits.size() >= MAX_TRANSITS) {
            stats.routedDropped.incrementAndGet();
            send.accept(from.address(), new Frame(true, f.requestId(), self, new RouteReply(Status.CAPACITY,
                    "node " + self.shortHex() + " carries too many routed requests; retry later", self, via.size(), Bytes.EMPTY)));
            return;
        }
        Transit t = new Transit(from.address(), f.requestId(), now + r.timeoutMillis() + KEEP_ANSWERED_MILLIS);
        transits.put(key, t);
        Contact next = r.target().equals(self) ? null : nextHop(r.target(), r.exact(), via);
        if (next == null) {
            if (r.exact() && !r.target().equals(self)) {
                stats.routedDropped.incrementAndGet();
                answer(t, new RouteReply(Status.AGAIN, "no route to node " + r.target().shortHex() + " from node "
                        + self.shortHex() + " (no contact left that the request has not visited)", self, via.size(), Bytes.EMPTY));
                return;
            }
            deliverAndAnswer(t, new RoutedRequest(via.get(0), r.target(), r.appId(), r.payload(), via.size()));
            return;
        }
        if (r.hopLimit() <= 1) {
            stats.routedDropped.incrementAndGet();
            answer(t, new RouteReply(Status.AGAIN, "hop limit reached at node " + self.shortHex() + " on the way to "
                    + r.target().shortHex(), self, via.size(), Bytes.EMPTY));
            return;
        }
        long budget = r.timeoutMillis() - Math.max(HOP_MARGIN_MILLIS, r.timeoutMillis() / 10);
        if (budget < MIN_FORWARD_TIMEOUT_MILLIS) {
            stats.routedDropped.incrementAndGet();
            answer(t, new RouteReply(Status.AGAIN, "the request's time ran out at node " + self.shortHex()
                    + "; route with a longer timeout", self, via.size(), Bytes.EMPTY));
            return;
        }
        List<NodeId> nextVia = new ArrayList<>(via.size() + 1);
        nextVia.addAll(via);
        nextVia.add(self);
        Route fwd = new Route(r.target(), r.transaction(), r.exact(), r.hopLimit() - 1, (int) budget, List.copyOf(nextVia),
                r.appId(), r.payload());
        stats.routedForwarded.incrementAndGet();
        rpc.call(next.address(), fwd, SENDS_PER_HOP, now + budget).whenComplete((reply, e) -> {
            if (e != null) {
                routing.failed(next.id(), scheduler.nowMillis());
                answer(t, new RouteReply(Status.AGAIN, "no answer from next hop " + next.id().shortHex() + " at node "
                        + self.shortHex() + " within " + budget + " ms", self, via.size(), Bytes.EMPTY));
            } else if (reply.message() instanceof RouteReply rr) {
                answer(t, rr);
            } else {
                answer(t, new RouteReply(Status.BAD_REQUEST, "next hop " + next.id().shortHex()
                        + " sent an unexpected reply", self, via.size(), Bytes.EMPTY));
            }
        });
    }

    private void deliverAndAnswer(Transit t, RoutedRequest req) {
        deliver(req).whenComplete((reply, e) -> answer(t, reply));
    }

    /** Runs the handler of the request's application; completes on the node's thread with the reply to send. */
    private CompletableFuture<RouteReply> deliver(RoutedRequest req) {
        RouteHandler h = handlers.get(req.appId());
        if (h == null) {
            stats.routedDropped.incrementAndGet();
            return CompletableFuture.completedFuture(new RouteReply(Status.REFUSED, "node " + self.shortHex()
                    + " has no handler for application '" + req.appId() + "'", self, req.hops(), Bytes.EMPTY));
        }
        stats.routedDelivered.incrementAndGet();
        CompletableFuture<Bytes> answer;
        try {
            answer = h.onRequest(req);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        CompletableFuture<RouteReply> out = new CompletableFuture<>();
        answer.whenComplete((payload, e) -> {
            RouteReply reply;
            if (e != null) {
                Throwable c = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
                reply = new RouteReply(Status.REFUSED, "application '" + req.appId() + "' at node " + self.shortHex()
                        + " failed: " + c.getMessage(), self, req.hops(), Bytes.EMPTY);
            } else if (payload == null || payload.length() > WireCodec.MAX_ROUTED_PAYLOAD_BYTES) {
                reply = new RouteReply(Status.BAD_REQUEST, "application '" + req.appId() + "' at node " + self.shortHex()
                        + " gave " + (payload == null ? "no answer" : "an answer over "
                        + WireCodec.MAX_ROUTED_PAYLOAD_BYTES + " bytes"), self, req.hops(), Bytes.EMPTY);
            } else {
                reply = new RouteReply(Status.OK, "", self, req.hops(), payload);
            }
            if (scheduler.inThread()) {
                out.complete(reply);
            } else {
                scheduler.execute(() -> out.complete(reply));
            }
        });
        return out;
    }

    private void answer(Transit t, RouteReply reply) {
        Frame frame = new Frame(true, t.upstreamRequestId, self, reply);
        t.answered = true;
        int size = reply.payload().length() + reply.reason().length();
        if (keptAnswerBytes + size <= MAX_KEPT_ANSWER_BYTES) {
            t.answer = frame;
            t.keptBytes = size;
            keptAnswerBytes += size;
        }
        t.expiresAt = Math.min(t.expiresAt, scheduler.nowMillis() + KEEP_ANSWERED_MILLIS);
        send.accept(t.upstream, frame);
    }

    private void drop(Route r, String why) {
        stats.routedDropped.incrementAndGet();
        LOG.debug("node {} dropped a routed request for {} ({}): {}", self.shortHex(), r.target().shortHex(), r.appId(), why);
    }

    /**
     * The contact a request for {@code target} goes to next, or null to deliver here. Never a node on {@code via}.
     * EXACT: the target itself when it is a contact, else the contact closest to it (possibly farther than this
     * node). CLOSEST: the closest contact only when it is closer than this node.
     */
    private Contact nextHop(NodeId target, boolean exact, List<NodeId> via) {
        for (Contact c : routing.closest(target, k + via.size())) {
            if (via.contains(c.id()) || c.id().equals(self)) {
                continue;
            }
            if (!exact && target.compareDistance(c.id(), self) >= 0) {
                return null;
            }
            return c;
        }
        return null;
    }

    /** Forgets transits past their time (answered ones after they stopped being useful for retransmissions). */
    void sweep(long now) {
        Iterator<Transit> it = transits.values().iterator();
        while (it.hasNext()) {
            Transit t = it.next();
            if (t.expiresAt <= now) {
                keptAnswerBytes -= t.keptBytes;
                it.remove();
            }
        }
    }
}
