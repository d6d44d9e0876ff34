package org.p2psip.superpeer.leaf;

import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.DhtException;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.link.LinkLayer;
import org.p2psip.overlay.rpc.RateLimiter;
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
import org.p2psip.superpeer.leaf.LeafMessage.RefuseCode;
import org.p2psip.superpeer.leaf.LeafMessage.RemoveCall;
import org.p2psip.superpeer.leaf.LeafMessage.Result;
import org.p2psip.superpeer.leaf.LeafMessage.Unlisten;
import org.p2psip.superpeer.leaf.LeafMessage.Values;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The superpeer's side of the leaf protocol: accepts attaching leaves up to its capacity, answers heartbeats, runs the
 * leaves' put, get, remove and listen calls on its {@link Dht} (its overlay node) and pushes listen notifications
 * back. Each leaf has a token bucket and an in-flight limit; a leaf not heard for the session timeout is dropped with
 * its listens. {@link #handOff()} (a graceful stop or losing the seat) tells every leaf to move to the backup. All
 * state lives on the link's scheduler thread.
 */
public final class LeafService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LeafService.class);

    /**
     * @param maxLeaves        sessions (primary and standby links) accepted before attaches are refused with CAPACITY
     * @param heartbeatMillis  the interval leaves are told to send heartbeats at
     * @param sessionTimeoutMillis a session not heard for this long is dropped
     * @param callsPerSecond   calls a leaf may make a second on average (bursts of a second's worth)
     * @param maxInFlight      calls of one leaf executing at once
     * @param maxListens       listens one leaf may hold
     * @param clockWindowMillis an attach's timestamp must be within this of the superpeer's clock
     */
    public record Config(int maxLeaves, int heartbeatMillis, long sessionTimeoutMillis, double callsPerSecond,
                         int maxInFlight, int maxListens, long clockWindowMillis) {
        public static Config defaults() {
            return new Config(256, 500, 3_000, 200, 32, 64, 30_000);
        }
    }

    /** What status pages show about one attached leaf. */
    public record LeafInfo(NodeId id, InetSocketAddress address, boolean standby, int listens) { }

    private final Ed25519Keys keys;
    private final LinkLayer link;
    private final Scheduler scheduler;
    private final Dht dht;
    private final Config config;
    private final Supplier<InetSocketAddress> backup;
    private final Random random = new Random();
    private final RateLimiter limiter;
    private final Map<Long, Session> sessions = new HashMap<>();
    private final Map<NodeId, Session> byLeaf = new HashMap<>();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong limited = new AtomicLong();
    private final AtomicLong callsServed = new AtomicLong();
    private final AtomicLong notifiesDropped = new AtomicLong();
    /** Notifications not acknowledged are resent every sweep, this many times at most. */
    private static final int NOTIFY_TRIES = 5;
    /** Unacknowledged notifications kept per session; the oldest is dropped beyond. */
    private static final int MAX_UNACKED = 256;
    private volatile List<LeafInfo> snapshot = List.of();
    private volatile java.util.function.Consumer<List<LeafInfo>> onLeaves = l -> { };
    private Scheduler.Cancellable timer;
    private volatile boolean accepting = true;
    private volatile boolean closed;

    private final class Session {
        final NodeId leaf;
        final long id;
        final SessionKeys keys;
        final ReplayWindow window = new ReplayWindow();
        final long attachTimestamp;
        final Bytes leafEphemeral;
        final byte[] acceptBytes;
        final boolean standby;
        final Map<Long, Dht.Subscription> listens = new HashMap<>();
        final java.util.LinkedHashMap<Long, Unacked> unacked = new java.util.LinkedHashMap<>();
        long notifySequence;
        InetSocketAddress address;
        long lastHeard;
        long counter;
        int inFlight;
        boolean ended;

        Session(NodeId leaf, long id, SessionKeys keys, long attachTimestamp, Bytes leafEphemeral, byte[] acceptBytes,
                boolean standby, InetSocketAddress address, long now) {
            this.leaf = leaf;
            this.id = id;
            this.keys = keys;
            this.attachTimestamp = attachTimestamp;
            this.leafEphemeral = leafEphemeral;
            this.acceptBytes = acceptBytes;
            this.standby = standby;
            this.address = address;
            this.lastHeard = now;
        }
    }

    private static final class Unacked {
        final Notify notify;
        int tries = 1;

        Unacked(Notify notify) {
            this.notify = notify;
        }
    }

    /**
     * @param link   the superpeer side of its {@link LinkMux} (or any link layer that carries only leaf messages)
     * @param dht    where the leaves' calls run: the superpeer's overlay node
     * @param backup the address leaves should move to when this superpeer stops; may return null
     */
    public LeafService(Ed25519Keys keys, LinkLayer link, Dht dht, Config config, Supplier<InetSocketAddress> backup) {
        this.keys = keys;
        this.link = link;
        this.scheduler = link.scheduler();
        this.dht = dht;
        this.config = config;
        this.backup = backup;
        this.limiter = new RateLimiter(config.callsPerSecond(), Math.max(16, config.maxLeaves() * 2));
    }

    /** Starts serving leaves. */
    public LeafService start() {
        scheduler.execute(() -> {
            link.setReceiver(this::onDatagram);
            timer = scheduler.schedule(this::sweep, config.heartbeatMillis());
        });
        return this;
    }

    /** Attached leaves (primary and standby links), as of the last change; any thread. */
    public List<LeafInfo> leaves() {
        return snapshot;
    }

    /** Datagrams dropped as malformed, forged or replayed. */
    public long malformed() {
        return malformed.get();
    }

    /** Attaches refused (capacity, not a superpeer, bad attach). */
    public long refused() {
        return refused.get();
    }

    /** Calls refused by the per-leaf rate or in-flight limit. */
    public long rateLimited() {
        return limited.get();
    }

    public long callsServed() {
        return callsServed.get();
    }

    /** Listen notifications given up after {@value #NOTIFY_TRIES} unacknowledged sends, or beyond the per-leaf bound. */
    public long notifiesDropped() {
        return notifiesDropped.get();
    }

    /**
     * Graceful hand-off: tells every leaf to move to the backup and ends their sessions; new attaches are refused until
     * {@link #resume()}. Used when this peer stops or loses its seat.
     */
    public CompletableFuture<Void> handOff() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        scheduler.execute(() -> {
            accepting = false;
            InetSocketAddress next = backup.get();
            for (Session s : List.copyOf(sessions.values())) {
                send(s, new Move(next));
                end(s, "hand-off to " + next);
            }
            done.complete(null);
        });
        return done;
    }

    /** Accepts attaches again after a {@link #handOff()}. */
    public void resume() {
        accepting = true;
    }

    // ------------------------------------------------------------------ receiving

    private void onDatagram(InetSocketAddress from, byte[] d, int len) {
        if (closed) {
            return;
        }
        try {
            if (LeafCodec.isHandshake(d)) {
                LeafMessage m = LeafCodec.decodeHandshake(d, len);
                if (!(m instanceof Attach a)) {
                    throw new MalformedLeafMessageException("a leaf sent a superpeer's handshake message");
                }
                onAttach(from, a);
                return;
            }
            Session s = sessions.get(LeafCodec.sessionId(d, len));
            if (s == null) {
                throw new MalformedLeafMessageException("no session with that id (expired, or never made)");
            }
            LeafCodec.Sealed sealed = LeafCodec.open(d, len, s.keys.leafToSuperpeer());
            if (!s.window.accept(sealed.counter())) {
                throw new MalformedLeafMessageException("replayed or too old counter " + sealed.counter());
            }
            s.address = from; // authenticated by the MAC, so a leaf that rebinds keeps its session
            s.lastHeard = scheduler.nowMillis();
            onMessage(s, sealed.message());
        } catch (MalformedLeafMessageException e) {
            malformed.incrementAndGet();
            LOG.trace("dropped a leaf datagram from {}: {}", from, e.getMessage());
        }
    }

    private void onAttach(InetSocketAddress from, Attach a) throws MalformedLeafMessageException {
        long now = scheduler.nowMillis();
        NodeId leaf = NodeId.sha1(a.leafKey().unsafeArray());
        if (!a.superpeer().equals(keys.id())) {
            throw new MalformedLeafMessageException("an attach meant for superpeer " + a.superpeer().shortHex());
        }
        if (Math.abs(now - a.timestamp()) > config.clockWindowMillis()) {
            refuse(from, a, RefuseCode.BAD_ATTACH, "attach timestamp is " + (a.timestamp() - now)
                    + " ms off this superpeer's clock; synchronize the clocks (NTP)");
            return;
        }
        Session old = byLeaf.get(leaf);
        if (old != null && a.timestamp() <= old.attachTimestamp) {
            if (a.ephemeral().equals(old.leafEphemeral)) {
                link.send(from, old.acceptBytes); // our ACCEPT was lost: the leaf retries the same attach
                return;
            }
            throw new MalformedLeafMessageException("replayed attach from leaf " + leaf.shortHex());
        }
        if (!accepting) {
            refuse(from, a, RefuseCode.NOT_SUPERPEER, "this peer is no longer a superpeer; attach to another one");
            return;
        }
        if (old == null && byLeaf.size() >= config.maxLeaves()) {
            refuse(from, a, RefuseCode.CAPACITY, "this superpeer serves its maximum of " + config.maxLeaves()
                    + " leaf links; attach to another superpeer");
            return;
        }
        Ephemeral mine = Ephemeral.generate();
        SessionKeys sk;
        try {
            sk = LeafCrypto.derive(mine, a.ephemeral(), a.ephemeral(), mine.publicKey());
        } catch (GeneralSecurityException e) {
            throw new MalformedLeafMessageException("unusable ephemeral key in attach: " + e.getMessage());
        }
        long id;
        do {
            id = random.nextLong();
        } while (sessions.containsKey(id));
        byte[] accept = LeafCodec.accept(new Accept(Bytes.wrap(keys.rawPublicKey()), mine.publicKey(), a.ephemeral(), id,
                config.heartbeatMillis()), keys);
        if (old != null) {
            end(old, "replaced by a newer attach");
        }
        Session s = new Session(leaf, id, sk, a.timestamp(), a.ephemeral(), accept, a.standby(), from, now);
        sessions.put(id, s);
        byLeaf.put(leaf, s);
        link.send(from, accept);
        LOG.info("{}: leaf {} attached from {} ({} link)", keys.id().shortHex(), leaf.shortHex(), from,
                a.standby() ? "standby" : "primary");
        publish();
    }

    private void refuse(InetSocketAddress to, Attach a, RefuseCode code, String reason) {
        refused.incrementAndGet();
        link.send(to, LeafCodec.refuse(new Refuse(Bytes.wrap(keys.rawPublicKey()), a.ephemeral(), code, reason), keys));
    }

    private void onMessage(Session s, InSession m) {
        if (m instanceof Heartbeat h) {
            send(s, new HeartbeatAck(h.sequence()));
        } else if (m instanceof NotifyAck a) {
            s.unacked.remove(a.sequence());
        } else if (m instanceof Detach) {
            end(s, "detached");
        } else if (m instanceof Unlisten u) {
            Dht.Subscription sub = s.listens.remove(u.listenId());
            if (sub != null) {
                sub.close();
                publish();
            }
        } else if (m instanceof ListenCall l) {
            onListen(s, l);
        } else if (m instanceof PutCall p) {
            call(s, p.callId(), () -> dht.put(p.key(), p.value()).thenApply(r -> result(p.callId(), r)));
        } else if (m instanceof GetCall g) {
            call(s, g.callId(), () -> dht.get(g.key()).thenApply(v -> new Values(g.callId(), v)));
        } else if (m instanceof RemoveCall r) {
            call(s, r.callId(), () -> dht.remove(r.key(), r.owner(), r.nonce(), r.proof())
                    .thenApply(x -> result(r.callId(), x)));
        } else {
            malformed.incrementAndGet(); // a superpeer's message type sent by a leaf
        }
    }

    private static Result result(long callId, PutResult r) {
        return new Result(callId, Status.OK, r.stored(), r.contacted(), String.join("; ", r.refusals()));
    }

    private boolean admit(Session s, long callId) {
        if (s.inFlight >= config.maxInFlight() || !limiter.tryAcquire(s.leaf, scheduler.nowMillis())) {
            limited.incrementAndGet();
            send(s, new Result(callId, Status.CAPACITY, 0, 0, "leaf " + s.leaf.shortHex()
                    + " exceeds its rate or in-flight limit at this superpeer; retry later"));
            return false;
        }
        return true;
    }

    private void call(Session s, long callId, Supplier<CompletableFuture<? extends InSession>> run) {
        if (!admit(s, callId)) {
            return;
        }
        s.inFlight++;
        CompletableFuture<? extends InSession> f;
        try {
            f = run.get();
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((reply, err) -> onThread(() -> {
            s.inFlight--;
            callsServed.incrementAndGet();
            if (s.ended) {
                return; // the leaf moved on; it retries the call on its new superpeer
            }
            send(s, err == null ? reply : failure(callId, err));
        }));
    }

    private static Result failure(long callId, Throwable err) {
        Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        Status st = e instanceof DhtException d ? d.status() : Status.AGAIN;
        return new Result(callId, st, 0, 0, String.valueOf(e.getMessage()));
    }

    private void onListen(Session s, ListenCall l) {
        if (s.listens.containsKey(l.listenId())) {
            send(s, new Result(l.listenId(), Status.OK, 0, 0, "already listening"));
            return;
        }
        if (s.listens.size() >= config.maxListens()) {
            limited.incrementAndGet();
            send(s, new Result(l.listenId(), Status.CAPACITY, 0, 0, "leaf holds its maximum of "
                    + config.maxListens() + " listens at this superpeer; close some"));
            return;
        }
        Dht.Subscription sub = dht.listen(l.key(), ev -> onThread(() -> {
            if (!s.ended && s.listens.containsKey(l.listenId())) {
                Notify n = new Notify(l.listenId(), s.notifySequence++, ev.key(), ev.value(), ev.removed());
                if (s.unacked.size() >= MAX_UNACKED) {
                    Long oldest = s.unacked.keySet().iterator().next();
                    s.unacked.remove(oldest);
                    notifiesDropped.incrementAndGet();
                }
                s.unacked.put(n.sequence(), new Unacked(n));
                send(s, n);
            }
        }));
        s.listens.put(l.listenId(), sub);
        send(s, new Result(l.listenId(), Status.OK, 0, 0, "listening"));
        publish();
    }

    // ------------------------------------------------------------------ sending, sessions

    private void send(Session s, InSession m) {
        byte[] bytes;
        try {
            bytes = LeafCodec.seal(s.id, s.counter++, m, s.keys.superpeerToLeaf());
        } catch (IllegalArgumentException tooLarge) {
            if (!(m instanceof Values v)) {
                LOG.warn("{}: cannot send {} to leaf {}: {}", keys.id().shortHex(), m.getClass().getSimpleName(),
                        s.leaf.shortHex(), tooLarge.getMessage());
                return;
            }
            bytes = LeafCodec.seal(s.id, s.counter++, new Result(v.callId(), Status.TOO_LARGE, 0, 0,
                    "the values at this key exceed a leaf link's " + LeafCodec.MAX_DATAGRAM + " bytes"),
                    s.keys.superpeerToLeaf());
        }
        link.send(s.address, bytes);
    }

    private void end(Session s, String why) {
        if (s.ended) {
            return;
        }
        s.ended = true;
        sessions.remove(s.id);
        byLeaf.remove(s.leaf, s);
        s.listens.values().forEach(Dht.Subscription::close);
        s.listens.clear();
        LOG.info("{}: leaf {} session ended: {}", keys.id().shortHex(), s.leaf.shortHex(), why);
        publish();
    }

    private void sweep() {
        if (closed) {
            return;
        }
        long now = scheduler.nowMillis();
        for (Session s : List.copyOf(sessions.values())) {
            if (now - s.lastHeard > config.sessionTimeoutMillis()) {
                end(s, "not heard for " + (now - s.lastHeard) + " ms");
                continue;
            }
            // a NOTIFY lost on the way is sent again (the leaf drops copies it has seen)
            java.util.Iterator<Unacked> it = s.unacked.values().iterator();
            while (it.hasNext()) {
                Unacked u = it.next();
                if (u.tries >= NOTIFY_TRIES) {
                    it.remove();
                    notifiesDropped.incrementAndGet();
                } else {
                    u.tries++;
                    send(s, u.notify);
                }
            }
        }
        timer = scheduler.schedule(this::sweep, config.heartbeatMillis());
    }

    private void publish() {
        List<LeafInfo> out = new ArrayList<>();
        for (Session s : byLeaf.values()) {
            out.add(new LeafInfo(s.leaf, s.address, s.standby, s.listens.size()));
        }
        List<LeafInfo> next = List.copyOf(out);
        boolean changed = !next.equals(snapshot);
        snapshot = next;
        if (changed) {
            try {
                onLeaves.accept(next);
            } catch (RuntimeException e) {
                LOG.warn("{}: a leaf-links listener threw {}", keys.id().shortHex(), e.toString(), e);
            }
        }
    }

    /**
     * Called on the service's thread with the attached leaves each time they change (attach, session end, listen
     * count); for role and link events of an embedding program. Set it before {@link #start()}.
     */
    public LeafService onLeaves(java.util.function.Consumer<List<LeafInfo>> listener) {
        this.onLeaves = java.util.Objects.requireNonNull(listener, "listener");
        return this;
    }

    private void onThread(Runnable r) {
        if (scheduler.inThread()) {
            r.run();
        } else {
            scheduler.execute(r);
        }
    }

    /** Stops serving without telling the leaves (they notice by heartbeat); call {@link #handOff()} first to be polite. */
    @Override
    public void close() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        scheduler.execute(() -> {
            closed = true;
            if (timer != null) {
                timer.cancel();
            }
            for (Session s : List.copyOf(sessions.values())) {
                end(s, "service stopped");
            }
            link.setReceiver((from, d, len) -> { });
            done.complete(null);
        });
        try {
            if (!scheduler.inThread()) {
                done.get(5, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            LOG.warn("{}: stopping the leaf service did not finish: {}", keys.id().shortHex(), e.toString());
        }
    }
}
