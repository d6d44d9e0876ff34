package org.p2psip.node.links;

import io.netty.channel.EventLoopGroup;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import org.p2psip.nat.ice.IceLink;
import org.p2psip.nat.links.SecureOverlayLinks;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.OverlayObserver;
import org.p2psip.overlay.route.RouteAnswer;
import org.p2psip.overlay.route.RouteMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides when a plain superpeer sets up an ICE link: when a contact that its lookups learned (from its routing table
 * or from other nodes' replies) does not answer directly. Per such contact it then (1) sends a small routed request
 * through the overlay ({@value #PROBE_APP}) to check that the contact is alive and reachable through other nodes, (2)
 * pings its address once more (the first silence may have been loss or a NAT that has opened since), and only then (3)
 * asks {@link SecureOverlayLinks#connect} for an ICE link (Attach routed through the overlay, checks, DTLS, a ping
 * over it).
 *
 * <p>Bounded: at most {@link #MAX_LINKS} ICE links this node opened and {@link #MAX_CONCURRENT} attempts at once;
 * after a failed attempt a contact waits {@link #FIRST_BACKOFF_MILLIS}, doubling up to {@link #MAX_BACKOFF_MILLIS};
 * {@link #MAX_TRACKED} contacts are remembered. When both ends cannot reach each other both notice and may attach at
 * the same moment: nat's {@code IceLinks.connect} makes that one link (the lower id's Attach carries it, the higher id
 * answers it and its own attempt ends with that link), and an attempt that finds a link open or being set up with
 * the contact uses it. Once a link is open, the overlay sends every request for the contact over it
 * ({@code OverlayNode.linkPaths}); a contact that still goes unanswered while linked is counted
 * ({@link Stats#unansweredLinked()}).
 * Observer callbacks arrive on the overlay's thread; all work happens later on the peer's event loop group.
 */
public final class Attacher implements OverlayObserver {
    private static final Logger LOG = LoggerFactory.getLogger(Attacher.class);
    /** The routed request that checks a contact is alive before its Attach (answered by every DTLS node). */
    static final String PROBE_APP = "link-probe";
    static final int MAX_LINKS = 16;
    static final int MAX_CONCURRENT = 2;
    static final long FIRST_BACKOFF_MILLIS = 15_000;
    static final long MAX_BACKOFF_MILLIS = 10 * 60_000;
    static final int MAX_TRACKED = 256;
    private static final long PROBE_TIMEOUT_MILLIS = 5_000;
    /** How long an attach waits for a relay from the service directory before it goes without one. */
    private static final long RELAY_WAIT_MILLIS = 10_000;
    /** A contact with a link is re-pinged over it at most this often when lookups report it silent elsewhere. */
    private static final long REPING_MILLIS = 30_000;

    /** What happened to a contact's attempts. */
    private static final class State {
        boolean busy;
        long notBefore;
        long backoff = FIRST_BACKOFF_MILLIS;
        long lastReping;
    }

    private final NodeId self;
    private final SecureOverlayLinks links;
    private volatile OverlayObserver next;
    private final EventLoopGroup group;
    private final java.util.function.Supplier<DirectoryRelay> relay;
    private final Map<NodeId, State> states = new LinkedHashMap<>(64, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<NodeId, State> eldest) {
            return size() > MAX_TRACKED && !eldest.getValue().busy;
        }
    };
    private int running;
    private boolean warnedFull;
    private volatile boolean closed;
    private final AtomicLong attempts = new AtomicLong();
    private final AtomicLong linked = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong gone = new AtomicLong();
    private final AtomicLong directAgain = new AtomicLong();
    private final AtomicLong unansweredLinked = new AtomicLong();

    /**
     * What the attempts came to; see {@link Attacher}. {@code unansweredLinked}: requests of lookups to a contact that
     * went unanswered while an ICE link to it was open (the link may have died; it is pinged again).
     */
    public record Stats(long attempts, long linked, long failed, long gone, long directAgain, long unansweredLinked) { }

    /**
     * Attempts through {@code links}; overlay events go on to {@code next}; timers run on {@code group}; {@code relay}
     * gives the relay finder to consult before an Attach, or null when the relay is configured.
     */
    Attacher(SecureOverlayLinks links, OverlayObserver next, EventLoopGroup group,
            java.util.function.Supplier<DirectoryRelay> relay) {
        this.self = links.node().id();
        this.links = links;
        this.next = next;
        this.group = group;
        this.relay = relay;
    }

    /** Hands the overlay's events on to {@code next} from now on (e.g. metrics made after the node). */
    void next(OverlayObserver next) {
        this.next = java.util.Objects.requireNonNull(next, "next");
    }

    /** Makes {@code node} answer the probes of other nodes' attachers. */
    static void serveProbes(OverlayNode node) {
        node.handle(PROBE_APP, r -> CompletableFuture.completedFuture(Bytes.EMPTY));
    }

    Stats stats() {
        return new Stats(attempts.get(), linked.get(), failed.get(), gone.get(), directAgain.get(), unansweredLinked.get());
    }

    void close() {
        closed = true;
    }

    @Override
    public void lookupFinished(long millis, int hops, int queries, boolean found) {
        next.lookupFinished(millis, hops, queries, found);
    }

    @Override
    public void contactUnanswered(Contact contact) {
        next.contactUnanswered(contact);
        if (closed || contact.id().equals(self)) {
            return;
        }
        long now = System.currentTimeMillis();
        IceLink existing = linkTo(contact.id());
        synchronized (this) {
            State s = states.computeIfAbsent(contact.id(), k -> new State());
            if (existing != null) {
                // the link did not answer, or is not authenticated yet (the request went to the address others
                // report): ping over it, which keeps the route on it and shows whether it still carries anything
                unansweredLinked.incrementAndGet();
                if (now - s.lastReping >= REPING_MILLIS) {
                    s.lastReping = now;
                    links.node().ping(existing.remote()).exceptionally(e -> null);
                }
                return;
            }
            if (s.busy || now < s.notBefore) {
                return;
            }
            if (running >= MAX_CONCURRENT) {
                return; // the next silence of this contact tries again
            }
            if (openedLinks() >= MAX_LINKS) {
                if (!warnedFull) {
                    warnedFull = true;
                    LOG.warn("node {}: {} ICE links are open, the most this node sets up; {} stays reached through other "
                            + "nodes (links close when unused for 30 min)", self.shortHex(), MAX_LINKS, contact.id().shortHex());
                }
                return;
            }
            warnedFull = false;
            s.busy = true;
            running++;
        }
        try {
            group.next().execute(() -> attempt(contact));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            finish(contact.id(), false);
        }
    }

    private int openedLinks() {
        int n = 0;
        for (IceLink l : links.ice().links()) {
            if (l.controlling()) {
                n++;
            }
        }
        return n;
    }

    private IceLink linkTo(NodeId id) {
        for (IceLink l : links.ice().links()) {
            if (l.peer().equals(id)) {
                return l;
            }
        }
        return null;
    }

    private void attempt(Contact contact) {
        NodeId id = contact.id();
        if (closed) {
            finish(id, false);
            return;
        }
        if (linkTo(id) != null) {
            LOG.debug("node {}: {} set up a link to this node meanwhile", self.shortHex(), id.shortHex());
            finish(id, true);
            return;
        }
        OverlayNode node = links.node();
        node.route(id, PROBE_APP, Bytes.EMPTY, RouteMode.EXACT, PROBE_TIMEOUT_MILLIS).handle((RouteAnswer a, Throwable e) -> {
            if (e != null || !a.responder().equals(id)) {
                gone.incrementAndGet();
                LOG.debug("node {}: {} at {} answers neither directly nor through the overlay ({}); not attaching",
                        self.shortHex(), id.shortHex(), contact.address(), e != null ? cause(e).getMessage() : "another node answered");
                finish(id, false);
                return null;
            }
            node.ping(contact.address()).handle((c, pe) -> {
                if (pe == null && c.id().equals(id)) {
                    directAgain.incrementAndGet();
                    LOG.debug("node {}: {} answers directly at {} now", self.shortHex(), id.shortHex(), contact.address());
                    finish(id, true);
                    return null;
                }
                connect(contact, a.hops());
                return null;
            });
            return null;
        });
    }

    private void connect(Contact contact, int hops) {
        NodeId id = contact.id();
        attempts.incrementAndGet();
        LOG.info("node {}: {} is reached through the overlay ({} hops) but not directly at {}; setting up an ICE link "
                + "(Attach through the overlay)", self.shortHex(), id.shortHex(), hops, contact.address());
        DirectoryRelay r = relay.get();
        CompletableFuture<Boolean> ready = r == null ? CompletableFuture.completedFuture(false)
                : r.ensure().completeOnTimeout(false, RELAY_WAIT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
        ready.thenCompose(x -> links.connect(id)).whenComplete((link, e) -> {
            if (e == null) {
                linked.incrementAndGet();
                LOG.info("node {}: ICE link to {} up: {} ({} -> {}, {} ms)", self.shortHex(), id.shortHex(),
                        link.relayed() ? "relayed through TURN" : "direct", link.localType().sdpName(),
                        link.remoteType().sdpName(), link.setupMillis());
                finish(id, true);
            } else {
                long f = failed.incrementAndGet();
                long wait = finish(id, false);
                LOG.warn("node {}: no ICE link to {} (failure {} of this node): {}; retrying in {} s. The overlay still "
                        + "reaches it through other nodes. Check that --stun-server names a STUN server both can reach; "
                        + "two NATs that map per destination (symmetric) need a TURN relay", self.shortHex(),
                        id.shortHex(), f, cause(e).getMessage(), wait / 1000);
            }
        });
    }

    /** Ends an attempt; a failure backs the contact off (returned: the wait), a success resets its backoff. */
    private long finish(NodeId id, boolean ok) {
        synchronized (this) {
            running = Math.max(0, running - 1);
            State s = states.get(id);
            if (s == null) {
                return 0;
            }
            s.busy = false;
            if (ok) {
                s.backoff = FIRST_BACKOFF_MILLIS;
                s.notBefore = System.currentTimeMillis() + FIRST_BACKOFF_MILLIS;
                return 0;
            }
            long wait = s.backoff;
            s.notBefore = System.currentTimeMillis() + wait;
            s.backoff = Math.min(MAX_BACKOFF_MILLIS, s.backoff * 2);
            return wait;
        }
    }

    private static Throwable cause(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }
}
