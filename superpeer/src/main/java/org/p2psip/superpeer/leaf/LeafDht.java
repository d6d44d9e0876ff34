package org.p2psip.superpeer.leaf;

import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.DhtException;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.DhtValue.ValueId;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.ValueEvent;
import org.p2psip.overlay.link.LinkLayer;
import org.p2psip.overlay.runtime.Scheduler;
import org.p2psip.overlay.wire.Message.Status;
import org.p2psip.superpeer.discovery.Ed25519Keys;
import org.p2psip.superpeer.leaf.LeafCrypto.Ephemeral;
import org.p2psip.superpeer.leaf.LeafCrypto.SessionKeys;
import org.p2psip.superpeer.leaf.LeafMessage.Accept;
import org.p2psip.superpeer.leaf.LeafMessage.Attach;
import org.p2psip.superpeer.leaf.LeafMessage.Detach;
import org.p2psip.superpeer.leaf.LeafMessage.GetCall;
import org.p2psip.superpeer.leaf.LeafMessage.Heartbeat;
import org.p2psip.superpeer.leaf.LeafMessage.HeartbeatAck;
import org.p2psip.superpeer.leaf.LeafMessage.InSession;
import org.p2psip.superpeer.leaf.LeafMessage.ListenCall;
import org.p2psip.superpeer.leaf.LeafMessage.Move;
import org.p2psip.superpeer.leaf.LeafMessage.Notify;
import org.p2psip.superpeer.leaf.LeafMessage.NotifyAck;
import org.p2psip.superpeer.leaf.LeafMessage.PutCall;
import org.p2psip.superpeer.leaf.LeafMessage.Refuse;
import org.p2psip.superpeer.leaf.LeafMessage.RemoveCall;
import org.p2psip.superpeer.leaf.LeafMessage.Result;
import org.p2psip.superpeer.leaf.LeafMessage.Unlisten;
import org.p2psip.superpeer.leaf.LeafMessage.Values;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DHT on a leaf: the same {@link Dht} API as an overlay node, carried to a superpeer of the site over the leaf
 * protocol. The leaf keeps a primary link (its calls go there) and a standby link to another superpeer, both kept
 * alive by heartbeats. When the primary misses {@code missedHeartbeats} acks, or tells the leaf to move, the standby
 * becomes the primary at once: calls not yet answered are sent again there (put, get and remove are idempotent) and
 * listens are registered again; then a new standby is attached. Leaves spread over the superpeers by rendezvous
 * hashing of (leaf id, superpeer id). All state lives on the link's scheduler thread.
 */
public final class LeafDht implements Dht, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LeafDht.class);

    /** A superpeer a leaf may attach to: its node id and the address it announced. */
    public record SuperpeerRef(NodeId id, InetSocketAddress address) { }

    /**
     * @param heartbeatMillis   interval of heartbeats on each link
     * @param missedHeartbeats  a link not answering for this many intervals is dead
     * @param attemptMillis     a call not answered within this is sent again (on the current primary)
     * @param callTimeoutMillis a call not answered within this fails with AGAIN
     * @param avoidMillis       a superpeer that died, refused or moved us away is not tried again for this long
     * @param maxPending        calls waiting for an answer; more fail at once with CAPACITY
     */
    public record Config(int heartbeatMillis, int missedHeartbeats, long attemptMillis, long callTimeoutMillis,
                         long avoidMillis, int maxPending) {
        public static Config defaults() {
            return new Config(500, 3, 1_000, 20_000, 5_000, 1_024);
        }
    }

    /** The link states: attaching (ATTACH sent), attached (session up), dead (gave up; replaced at the next tick). */
    enum LinkState { ATTACHING, ATTACHED, DEAD }

    private final Ed25519Keys keys;
    private final LinkLayer link;
    private final Scheduler scheduler;
    private final Supplier<List<SuperpeerRef>> superpeers;
    private final Config config;
    private final Random random = new Random();
    private final Map<Long, Pending> pending = new LinkedHashMap<>();
    private final Map<Long, LeafListen> listens = new HashMap<>();
    private final Map<NodeId, Long> avoid = new HashMap<>();
    private final AtomicLong failovers = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private Link primary;
    private Link standby;
    private Scheduler.Cancellable timer;
    private volatile SuperpeerRef primaryView;
    private volatile SuperpeerRef standbyView;
    private volatile java.util.function.BiConsumer<SuperpeerRef, SuperpeerRef> onLinks = (p, s) -> { };
    private volatile boolean closed;

    /** One link to a superpeer. */
    private final class Link {
        final SuperpeerRef ref;
        final boolean asStandby;
        final Ephemeral ephemeral = Ephemeral.generate();
        final long attachTimestamp;
        final byte[] attachBytes;
        LinkState state = LinkState.ATTACHING;
        long startedAt;
        long sessionId;
        SessionKeys sessionKeys;
        final ReplayWindow window = new ReplayWindow();
        long counter;
        long lastHeard;
        long lastHeartbeat;
        long heartbeats;

        Link(SuperpeerRef ref, boolean asStandby, long now) {
            this.ref = ref;
            this.asStandby = asStandby;
            this.attachTimestamp = now;
            this.startedAt = now;
            this.attachBytes = LeafCodec.attach(new Attach(Bytes.wrap(keys.rawPublicKey()), ephemeral.publicKey(),
                    ref.id(), now, asStandby), keys);
        }

        boolean attached() {
            return state == LinkState.ATTACHED;
        }

        void send(InSession m) {
            link.send(ref.address(), LeafCodec.seal(sessionId, counter++, m, sessionKeys.leafToSuperpeer()));
        }
    }

    private final class Pending {
        final long callId;
        final InSession request;
        final CompletableFuture<Object> future = new CompletableFuture<>();
        final long deadline;
        long sentAt = Long.MIN_VALUE;
        long sentOnSession;

        Pending(long callId, InSession request, long now) {
            this.callId = callId;
            this.request = request;
            this.deadline = now + config.callTimeoutMillis();
        }
    }

    private final class LeafListen {
        final long id;
        final NodeId key;
        final Consumer<ValueEvent> listener;
        final Map<ValueId, DhtValue> known = new HashMap<>();
        long registeredOnSession;
        long requestedAt = Long.MIN_VALUE;
        boolean closed;

        LeafListen(long id, NodeId key, Consumer<ValueEvent> listener) {
            this.id = id;
            this.key = key;
            this.listener = listener;
        }
    }

    /**
     * @param link       the leaf side of a {@link LinkMux}, or a link layer used for nothing else
     * @param superpeers the site's superpeers as the election sees them now, best first; asked at every tick
     */
    public LeafDht(Ed25519Keys keys, LinkLayer link, Supplier<List<SuperpeerRef>> superpeers, Config config) {
        this.keys = keys;
        this.link = link;
        this.scheduler = link.scheduler();
        this.superpeers = superpeers;
        this.config = config;
    }

    /** Starts attaching. */
    public LeafDht start() {
        scheduler.execute(() -> {
            link.setReceiver(this::onDatagram);
            tick();
        });
        return this;
    }

    public NodeId id() {
        return keys.id();
    }

    /** The address of the leaf's socket. */
    public InetSocketAddress localAddress() {
        return link.localAddress();
    }

    /** The superpeer this leaf's calls go to, when attached. */
    public Optional<SuperpeerRef> primary() {
        return Optional.ofNullable(primaryView);
    }

    /** The superpeer of the standby link, when attached. */
    public Optional<SuperpeerRef> standby() {
        return Optional.ofNullable(standbyView);
    }

    /** Times the standby (or another superpeer) took over from a dead or departing primary. */
    public long failovers() {
        return failovers.get();
    }

    /** Datagrams dropped as malformed, forged or replayed. */
    public long malformed() {
        return malformed.get();
    }

    /** Calls sent again (after a timeout or on a new primary). */
    public long retries() {
        return retries.get();
    }

    /**
     * Orders superpeers for this leaf: by SHA-1 of (leaf id, superpeer id), so the leaves of a site spread evenly over
     * its superpeers and each leaf's choice is stable while the set does not change.
     */
    public static List<SuperpeerRef> preferenceOrder(NodeId leaf, List<SuperpeerRef> candidates) {
        List<SuperpeerRef> out = new ArrayList<>(candidates);
        out.sort(Comparator.comparing((SuperpeerRef r) -> rendezvous(leaf, r.id())));
        return out;
    }

    private static Bytes rendezvous(NodeId leaf, NodeId sp) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-1");
            md.update(leaf.toBytes());
            md.update(sp.toBytes());
            return Bytes.wrap(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is missing from this Java runtime", e);
        }
    }

    // ------------------------------------------------------------------ the Dht API

    @Override
    public CompletableFuture<PutResult> put(NodeId key, DhtValue value) {
        return call(id -> new PutCall(id, key, value)).thenApply(LeafDht::putResult);
    }

    @Override
    @SuppressWarnings("unchecked")
    public CompletableFuture<List<DhtValue>> get(NodeId key) {
        return call(id -> new GetCall(id, key)).thenApply(o -> {
            if (o instanceof Values v) {
                List<DhtValue> out = new ArrayList<>(v.values());
                out.sort((a, b) -> a.id().compareTo(b.id()));
                return out;
            }
            throw new DhtException(Status.BAD_REQUEST, "the superpeer answered a get with " + o);
        });
    }

    @Override
    public CompletableFuture<PutResult> remove(NodeId key, Bytes owner, Bytes nonce, Bytes proof) {
        return call(id -> new RemoveCall(id, key, owner, nonce, proof)).thenApply(LeafDht::putResult);
    }

    @Override
    public Subscription listen(NodeId key, Consumer<ValueEvent> listener) {
        LeafListen l = new LeafListen(random.nextLong(), key, listener);
        scheduler.execute(() -> {
            listens.put(l.id, l);
            registerListen(l, scheduler.nowMillis());
        });
        return () -> scheduler.execute(() -> {
            l.closed = true;
            listens.remove(l.id);
            if (primary != null && primary.attached()) {
                primary.send(new Unlisten(l.id));
            }
        });
    }

    private static PutResult putResult(Object o) {
        if (o instanceof Result r) {
            return new PutResult(r.stored(), r.contacted(), r.message().isEmpty() ? List.of() : List.of(r.message()));
        }
        throw new DhtException(Status.BAD_REQUEST, "the superpeer answered a put or remove with " + o);
    }

    private CompletableFuture<Object> call(java.util.function.LongFunction<InSession> request) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("leaf " + keys.id().shortHex() + " is stopped"));
        }
        CompletableFuture<Object> out = new CompletableFuture<>();
        scheduler.execute(() -> {
            if (pending.size() >= config.maxPending()) {
                out.completeExceptionally(new DhtException(Status.CAPACITY, "leaf " + keys.id().shortHex() + " has "
                        + config.maxPending() + " calls waiting for its superpeer; wait for some to finish"));
                return;
            }
            long id;
            do {
                id = random.nextLong();
            } while (pending.containsKey(id) || listens.containsKey(id));
            Pending p = new Pending(id, request.apply(id), scheduler.nowMillis());
            pending.put(id, p);
            p.future.whenComplete((v, e) -> {
                if (e != null) {
                    out.completeExceptionally(e);
                } else {
                    out.complete(v);
                }
            });
            trySend(p, scheduler.nowMillis());
        });
        return out;
    }

    private void trySend(Pending p, long now) {
        if (primary == null || !primary.attached()) {
            return; // sent when a primary attaches
        }
        if (p.sentAt != Long.MIN_VALUE) {
            retries.incrementAndGet();
        }
        p.sentAt = now;
        p.sentOnSession = primary.sessionId;
        primary.send(p.request);
    }

    private void registerListen(LeafListen l, long now) {
        if (primary == null || !primary.attached()) {
            return;
        }
        l.requestedAt = now;
        primary.send(new ListenCall(l.id, l.key));
    }

    // ------------------------------------------------------------------ receiving

    private void onDatagram(InetSocketAddress from, byte[] d, int len) {
        if (closed) {
            return;
        }
        try {
            if (LeafCodec.isHandshake(d)) {
                onHandshake(LeafCodec.decodeHandshake(d, len));
                return;
            }
            long session = LeafCodec.sessionId(d, len);
            Link l = primary != null && primary.attached() && primary.sessionId == session ? primary
                    : standby != null && standby.attached() && standby.sessionId == session ? standby : null;
            if (l == null) {
                throw new MalformedLeafMessageException("no link with that session id");
            }
            LeafCodec.Sealed s = LeafCodec.open(d, len, l.sessionKeys.superpeerToLeaf());
            if (!l.window.accept(s.counter())) {
                throw new MalformedLeafMessageException("replayed or too old counter " + s.counter());
            }
            l.lastHeard = scheduler.nowMillis();
            onMessage(l, s.message());
        } catch (MalformedLeafMessageException e) {
            malformed.incrementAndGet();
            LOG.trace("leaf {} dropped a datagram from {}: {}", keys.id().shortHex(), from, e.getMessage());
        }
    }

    private void onHandshake(LeafMessage m) throws MalformedLeafMessageException {
        Bytes spKey;
        Bytes leafEph;
        if (m instanceof Accept a) {
            spKey = a.superpeerKey();
            leafEph = a.leafEphemeral();
        } else if (m instanceof Refuse r) {
            spKey = r.superpeerKey();
            leafEph = r.leafEphemeral();
        } else {
            throw new MalformedLeafMessageException("a superpeer sent a leaf's handshake message");
        }
        NodeId sp = NodeId.sha1(spKey.unsafeArray());
        Link l = matching(primary, sp, leafEph) ? primary : matching(standby, sp, leafEph) ? standby : null;
        if (l == null) {
            if (answered(primary, sp, leafEph) || answered(standby, sp, leafEph)) {
                return; // a copy of an accept already used: the attach was sent twice before the answer came
            }
            throw new MalformedLeafMessageException("a handshake answer for no pending attach (late or forged)");
        }
        long now = scheduler.nowMillis();
        if (m instanceof Refuse r) {
            LOG.info("leaf {}: superpeer {} refused to attach: {} {}", keys.id().shortHex(), sp.shortHex(), r.code(),
                    r.reason());
            kill(l, now, "refused");
            tick();
            return;
        }
        Accept a = (Accept) m;
        try {
            l.sessionKeys = LeafCrypto.derive(l.ephemeral, a.ephemeral(), l.ephemeral.publicKey(), a.ephemeral());
        } catch (GeneralSecurityException e) {
            throw new MalformedLeafMessageException("unusable ephemeral key in accept: " + e.getMessage());
        }
        l.sessionId = a.sessionId();
        l.state = LinkState.ATTACHED;
        l.lastHeard = now;
        l.lastHeartbeat = now;
        LOG.info("leaf {}: attached to superpeer {} at {} as {} in {} ms", keys.id().shortHex(), sp.shortHex(),
                l.ref.address(), l == primary ? "primary" : "standby", now - l.startedAt);
        if (l == primary) {
            onNewPrimary(now);
        }
        views();
    }

    private static boolean matching(Link l, NodeId sp, Bytes leafEph) {
        return l != null && l.state == LinkState.ATTACHING && l.ref.id().equals(sp)
                && l.ephemeral.publicKey().equals(leafEph);
    }

    private static boolean answered(Link l, NodeId sp, Bytes leafEph) {
        return l != null && l.state == LinkState.ATTACHED && l.ref.id().equals(sp)
                && l.ephemeral.publicKey().equals(leafEph);
    }

    private void onMessage(Link l, InSession m) {
        if (m instanceof HeartbeatAck) {
            return; // lastHeard is updated for every authenticated message
        }
        if (m instanceof Move mv) {
            LOG.info("leaf {}: superpeer {} hands its leaves to {}", keys.id().shortHex(), l.ref.id().shortHex(),
                    mv.next());
            kill(l, scheduler.nowMillis(), "moved away");
            tick();
            return;
        }
        if (m instanceof Notify n) {
            l.send(new NotifyAck(n.sequence()));
            LeafListen ll = listens.get(n.listenId());
            if (ll != null && ll.key.equals(n.key())) {
                deliver(ll, n.value(), n.removed());
            }
            return;
        }
        long callId = m instanceof Result r ? r.callId() : m instanceof Values v ? v.callId() : 0;
        LeafListen ll = listens.get(callId);
        if (ll != null && m instanceof Result r) {
            if (r.status().ok()) {
                ll.registeredOnSession = l.sessionId;
            }
            return;
        }
        Pending p = pending.get(callId);
        if (p == null) {
            return; // a late duplicate answer
        }
        if (m instanceof Result r && !r.status().ok()) {
            if (r.status() == Status.AGAIN) {
                return; // the superpeer could not reach the overlay this time: retried at the next attempt
            }
            pending.remove(callId);
            p.future.completeExceptionally(new DhtException(r.status(), "superpeer " + l.ref.id().shortHex()
                    + ": " + r.message()));
            return;
        }
        pending.remove(callId);
        p.future.complete(m);
    }

    private void deliver(LeafListen l, DhtValue v, boolean removed) {
        if (l.closed) {
            return;
        }
        boolean changed = removed ? l.known.remove(v.id()) != null : !v.equals(l.known.put(v.id(), v));
        if (!changed) {
            return; // seen already (a renewal, or the new superpeer reporting what the old one did)
        }
        try {
            l.listener.accept(new ValueEvent(l.key, v, removed));
        } catch (RuntimeException e) {
            LOG.warn("a listener of key {} threw {}", l.key.shortHex(), e.toString(), e);
        }
    }

    // ------------------------------------------------------------------ links and failover

    private void tick() {
        if (closed) {
            return;
        }
        if (timer != null) {
            timer.cancel();
        }
        long now = scheduler.nowMillis();
        long deadAfter = (long) config.heartbeatMillis() * config.missedHeartbeats();
        for (Link l : new Link[] {primary, standby}) {
            if (l == null) {
                continue;
            }
            if (l.state == LinkState.ATTACHED && now - l.lastHeard > deadAfter) {
                LOG.info("leaf {}: superpeer {} missed {} heartbeats", keys.id().shortHex(), l.ref.id().shortHex(),
                        config.missedHeartbeats());
                kill(l, now, "dead");
            } else if (l.state == LinkState.ATTACHING && now - l.startedAt > deadAfter) {
                kill(l, now, "no answer to attach");
            }
        }
        if (primary != null && primary.state == LinkState.DEAD) {
            boolean wasAttached = primary.sessionKeys != null;
            primary = null;
            if (standby != null && standby.state != LinkState.DEAD) {
                primary = standby;
                standby = null;
                if (wasAttached) {
                    failovers.incrementAndGet();
                }
                LOG.info("leaf {}: standby {} becomes the primary", keys.id().shortHex(), primary.ref.id().shortHex());
                if (primary.attached()) {
                    onNewPrimary(now);
                }
            }
        }
        if (standby != null && standby.state == LinkState.DEAD) {
            standby = null;
        }
        avoid.values().removeIf(until -> until <= now);
        List<SuperpeerRef> order = preferenceOrder(keys.id(), candidates());
        if (primary == null) {
            primary = open(order, null, false, now);
        }
        if (standby == null) {
            standby = open(order, primary, true, now);
        }
        for (Link l : new Link[] {primary, standby}) {
            if (l == null) {
                continue;
            }
            if (l.state == LinkState.ATTACHING) {
                link.send(l.ref.address(), l.attachBytes); // resent each tick until answered
            } else if (l.state == LinkState.ATTACHED && now - l.lastHeartbeat >= config.heartbeatMillis()) {
                l.lastHeartbeat = now;
                l.send(new Heartbeat(l.heartbeats++));
            }
        }
        retryCalls(now);
        views();
        // half the heartbeat interval: a dead primary is noticed at most half an interval after its deadline
        timer = scheduler.schedule(this::tick, Math.max(50, config.heartbeatMillis() / 2));
    }

    private List<SuperpeerRef> candidates() {
        List<SuperpeerRef> all;
        try {
            all = superpeers.get();
        } catch (RuntimeException e) {
            LOG.warn("leaf {}: the superpeer list failed: {}", keys.id().shortHex(), e.toString());
            all = List.of();
        }
        List<SuperpeerRef> out = new ArrayList<>();
        for (SuperpeerRef r : all) {
            if (!r.id().equals(keys.id()) && !avoid.containsKey(r.id())) {
                out.add(r);
            }
        }
        return out;
    }

    private Link open(List<SuperpeerRef> order, Link other, boolean asStandby, long now) {
        for (SuperpeerRef r : order) {
            if (other == null || !other.ref.id().equals(r.id())) {
                return new Link(r, asStandby, now);
            }
        }
        return null;
    }

    private void kill(Link l, long now, String why) {
        if (l.state == LinkState.DEAD) {
            return;
        }
        if (l.attached() && !why.equals("moved away") && !why.equals("dead")) {
            l.send(new Detach());
        }
        l.state = LinkState.DEAD;
        avoid.put(l.ref.id(), now + config.avoidMillis());
        LOG.info("leaf {}: link to superpeer {} closed: {}", keys.id().shortHex(), l.ref.id().shortHex(), why);
    }

    /** A primary came up: every unanswered call and every listen goes to it. */
    private void onNewPrimary(long now) {
        for (Pending p : pending.values()) {
            trySend(p, now);
        }
        for (LeafListen l : listens.values()) {
            registerListen(l, now);
        }
    }

    private void retryCalls(long now) {
        Iterator<Pending> it = pending.values().iterator();
        while (it.hasNext()) {
            Pending p = it.next();
            if (now >= p.deadline) {
                it.remove();
                p.future.completeExceptionally(new DhtException(Status.AGAIN, "no superpeer answered within "
                        + config.callTimeoutMillis() + " ms; is a superpeer of this site running?"));
            } else if (primary != null && primary.attached()
                    && (p.sentOnSession != primary.sessionId || now - p.sentAt >= config.attemptMillis())) {
                trySend(p, now);
            }
        }
        for (LeafListen l : listens.values()) {
            if (primary != null && primary.attached() && l.registeredOnSession != primary.sessionId
                    && now - l.requestedAt >= config.attemptMillis()) {
                registerListen(l, now);
            }
        }
    }

    private void views() {
        SuperpeerRef p = primary != null && primary.attached() ? primary.ref : null;
        SuperpeerRef s = standby != null && standby.attached() ? standby.ref : null;
        boolean changed = !java.util.Objects.equals(p, primaryView) || !java.util.Objects.equals(s, standbyView);
        primaryView = p;
        standbyView = s;
        if (changed) {
            try {
                onLinks.accept(p, s);
            } catch (RuntimeException e) {
                LOG.warn("leaf {}: a link listener threw {}", keys.id().shortHex(), e.toString(), e);
            }
        }
    }

    /**
     * Called on the link's thread with the attached primary and standby (each null when none) each time either
     * changes: attach, failover, loss; for role and link events of an embedding program. Set it before
     * {@link #start()}.
     */
    public LeafDht onLinks(java.util.function.BiConsumer<SuperpeerRef, SuperpeerRef> listener) {
        this.onLinks = java.util.Objects.requireNonNull(listener, "listener");
        return this;
    }

    /** Detaches from both superpeers and fails calls still waiting. */
    @Override
    public void close() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        scheduler.execute(() -> {
            closed = true;
            if (timer != null) {
                timer.cancel();
            }
            for (Link l : new Link[] {primary, standby}) {
                if (l != null && l.attached()) {
                    l.send(new Detach());
                }
            }
            primary = null;
            standby = null;
            views();
            for (Pending p : pending.values()) {
                p.future.completeExceptionally(new IllegalStateException("leaf " + keys.id().shortHex() + " stopped"));
            }
            pending.clear();
            link.setReceiver((from, d, len) -> { });
            done.complete(null);
        });
        try {
            if (!scheduler.inThread()) {
                done.get(5, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            LOG.warn("leaf {}: stopping did not finish: {}", keys.id().shortHex(), e.toString());
        }
    }
}
