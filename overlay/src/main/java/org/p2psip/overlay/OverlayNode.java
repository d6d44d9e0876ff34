package org.p2psip.overlay;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.zip.CRC32C;
import org.p2psip.overlay.DhtValue.ValueId;
import org.p2psip.overlay.link.LinkLayer;
import org.p2psip.overlay.link.LinkTable;
import org.p2psip.overlay.lookup.IterativeLookup;
import org.p2psip.overlay.route.RouteAnswer;
import org.p2psip.overlay.route.RouteHandler;
import org.p2psip.overlay.route.RouteMode;
import org.p2psip.overlay.routing.RoutingTable;
import org.p2psip.overlay.rpc.RateLimiter;
import org.p2psip.overlay.rpc.ReplyCache;
import org.p2psip.overlay.rpc.RpcEngine;
import org.p2psip.overlay.runtime.Scheduler;
import org.p2psip.overlay.store.AheadChecks;
import org.p2psip.overlay.store.LocalStore;
import org.p2psip.overlay.store.StoragePolicy;
import org.p2psip.overlay.store.ValueStore;
import org.p2psip.overlay.wire.Fragmenter;
import org.p2psip.overlay.wire.Frame;
import org.p2psip.overlay.wire.MalformedFrameException;
import org.p2psip.overlay.wire.Message;
import org.p2psip.overlay.wire.Message.Ack;
import org.p2psip.overlay.wire.Message.FindNode;
import org.p2psip.overlay.wire.Message.Get;
import org.p2psip.overlay.wire.Message.GetReply;
import org.p2psip.overlay.wire.Message.Listen;
import org.p2psip.overlay.wire.Message.Nodes;
import org.p2psip.overlay.wire.Message.Notify;
import org.p2psip.overlay.wire.Message.Ping;
import org.p2psip.overlay.wire.Message.Pong;
import org.p2psip.overlay.wire.Message.Put;
import org.p2psip.overlay.wire.Message.PutAck;
import org.p2psip.overlay.wire.Message.PutReply;
import org.p2psip.overlay.wire.Message.Remove;
import org.p2psip.overlay.wire.Message.Route;
import org.p2psip.overlay.wire.Message.Status;
import org.p2psip.overlay.wire.Reassembler;
import org.p2psip.overlay.wire.WireCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Kademlia node: routing, RPCs, storage, replication and the {@link Dht} API. All its state lives on
 * its link layer's {@link Scheduler} thread; public methods hop onto it and return futures.
 */
public final class OverlayNode implements Dht, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OverlayNode.class);
    /** Bytes of values per GET reply page, leaving room for contacts within a frame. */
    private static final int PAGE_BYTES = 56 * 1024;
    private static final int MAX_PAGES_PER_NODE = 64;
    private static final int MAX_LISTEN_REGISTRATIONS = 16_384;
    private static final int MAX_LISTENERS_PER_KEY = 256;
    private static final String LOCAL_SOURCE = "local";
    /** Republish operations, and re-replication pushes, in flight at once. */
    static final int MAINTENANCE_IN_FLIGHT = 16;
    /** Republish and re-replication each start at most 1/4 of the neighbours' rate limit per source a second. */
    private static final int MAINTENANCE_SHARE_OF_RATE_LIMIT = 4;
    /** A contact silent this long is questionable: a newcomer finding its bucket full pings it (see {@link #learn}). */
    static final long QUESTIONABLE_AFTER_MILLIS = 60_000;
    /**
     * A lookup converges once its closest set shares this many bits fewer with the target than this node's own
     * closest contacts share with it (see {@link IterativeLookup#convergeWithin}): the closest set's spread at a
     * uniform density varies by about a bit from one id to another.
     */
    private static final int NEIGHBOURHOOD_SLACK_BITS = 1;
    /** Bounds of the reply cache: about 5 s of STOREs at a loaded storing node, 8 MiB at most. */
    private static final int REPLY_CACHE_ENTRIES = 32_768;
    private static final long REPLY_CACHE_BYTES = 8L << 20;

    private final NodeId id;
    private final OverlayConfig config;
    private final LinkLayer links;
    private final Scheduler scheduler;
    private final Contact self;
    private final WireCodec codec;
    private final RoutingTable routing;
    private final LinkTable linkTable;
    private final LocalStore store;
    private final RpcEngine rpc;
    /** Answers to recent STOREs and REMOVEs, resent to their retransmissions instead of executing them again. */
    private final ReplyCache replies;
    private final RateLimiter limiter;
    private final Reassembler reassembler;
    private final Router router;
    private final Random random;
    private final OverlayStats stats = new OverlayStats();
    /** Store requests waiting for a check off this thread (see {@link #checkValuesOn}); null: checks run here. */
    private volatile AheadChecks aheadChecks;
    /** Store requests that may wait for their check at once; about 2.5 MB of 2.5 KB records. */
    static final int MAX_PENDING_CHECKS = 1024;
    /** Who listens at keys this node stores: key -> (listener address, token) -> expiry. */
    private final Map<NodeId, LinkedHashMap<ListenerKey, Long>> listeners = new HashMap<>();
    private int listenRegistrations;
    /** This node's own listens, by token. */
    private final Map<Long, ListenState> listens = new HashMap<>();
    /** Values this node wrote, republished until they expire or are removed. */
    private final Map<NodeId, Map<ValueId, DhtValue>> published = new HashMap<>();
    private final ArrayDeque<Contact> newContacts = new ArrayDeque<>();
    private final Set<NodeId> pinging = new HashSet<>();
    private final List<Scheduler.Cancellable> timers = new ArrayList<>();
    /** Republish rounds: each operation a value's lookup and STOREs (see {@link PacedWork}). */
    private final PacedWork republishing;
    /** Re-replication rounds: each operation one push of one value to one replica. */
    private final PacedWork replicating;
    private long streamIds;
    private volatile boolean joined;
    private volatile boolean closed;
    private volatile OverlayObserver observer = OverlayObserver.NONE;
    /** Where a node id is reached over a link set up outside the overlay (an ICE link); null: nowhere special. */
    private volatile Function<NodeId, InetSocketAddress> linkPaths = x -> null;

    private record ListenerKey(InetSocketAddress address, long token) { }

    /**
     * Creates a node on {@code links}; call {@link #start()} then {@link #join}.
     *
     * @param id     the node id: SHA-1 of the node's public key
     * @param policy decides which values this node stores
     */
    public OverlayNode(NodeId id, LinkLayer links, OverlayConfig config, StoragePolicy policy, WireCodec codec, Random random) {
        this(id, links, config, new ValueStore(policy, config.storeMaxBytes(), config.storeMaxBytesPerSource(),
                config.maxValuesPerKey(), config.maxTtlMillis()), codec, random);
    }

    /**
     * Creates a node on {@code links} that keeps its share of the DHT in {@code store} (for example a persistent
     * one, so a restart keeps every record); the store applies its own policy and quotas.
     */
    public OverlayNode(NodeId id, LinkLayer links, OverlayConfig config, LocalStore store, WireCodec codec, Random random) {
        this.id = id;
        this.config = config;
        this.links = links;
        this.scheduler = links.scheduler();
        this.self = new Contact(id, links.localAddress());
        this.codec = codec;
        this.random = random;
        long now = scheduler.nowMillis();
        this.routing = new RoutingTable(id, config.k(), now);
        this.linkTable = new LinkTable(config.maxLinks(), addr -> routing.removeAddress(addr, scheduler.nowMillis()),
                routing::containsAddress);
        this.store = store;
        this.rpc = new RpcEngine(scheduler, id, this::send, addr -> {
            LinkTable.Link l = linkTable.get(addr);
            return l == null ? null : l.rtt();
        }, config.attemptTimeoutMillis(), config.attempts(), random);
        this.replies = new ReplyCache(REPLY_CACHE_ENTRIES, REPLY_CACHE_BYTES, replyCacheTtl(config));
        this.limiter = new RateLimiter(config.requestsPerSecondPerSource(), 65_536);
        this.reassembler = new Reassembler(4 << 20, 8, 5_000);
        this.router = new Router(id, scheduler, rpc, routing, this::send, stats, random, config.k());
        // a quarter of what a neighbour accepts from one source, leaving the rest to the users' own requests
        int limit = config.requestsPerSecondPerSource();
        int paced = limit == 0 ? 0 : Math.max(1, limit / MAINTENANCE_SHARE_OF_RATE_LIMIT);
        this.republishing = new PacedWork("republish", MAINTENANCE_IN_FLIGHT, paced, scheduler);
        this.replicating = new PacedWork("replication", MAINTENANCE_IN_FLIGHT, paced, scheduler);
    }

    /**
     * How long the reply cache keeps an answer: past a requester's last retransmission, which comes at most
     * {@code (2^(attempts-1) - 1)} maximal RTOs after the first send, plus 2 s for queues; within 5..60 s.
     */
    static long replyCacheTtl(OverlayConfig config) {
        long maxRto = Math.max(RpcEngine.MAX_RTO_MILLIS, config.attemptTimeoutMillis());
        long lastSend = maxRto * ((1L << Math.min(config.attempts() - 1, 8)) - 1);
        return Math.max(5_000, Math.min(60_000, lastSend + 2_000));
    }

    public NodeId id() {
        return id;
    }

    public Contact contact() {
        return self;
    }

    public OverlayConfig config() {
        return config;
    }

    public boolean isJoined() {
        return joined;
    }

    /** Starts receiving and the maintenance timers. */
    public OverlayNode start() {
        scheduler.execute(() -> {
            links.setReceiver(this::onDatagram);
            every(config.sweepIntervalMillis(), this::sweep);
            every(Math.min(config.refreshIntervalMillis(), 60_000), this::refreshBuckets);
            every(config.replicationIntervalMillis(), this::replicate);
            every(config.republishIntervalMillis(), this::republish);
            every(1_000, () -> {
                handOver();
                router.sweep(scheduler.nowMillis()); // transits are short-lived: free them promptly (one timer for both)
                replies.expire(scheduler.nowMillis());
            });
        });
        return this;
    }

    /** Runs {@code task} every {@code periodMillis} until the node closes; keeps one handle per task. */
    private void every(long periodMillis, Runnable task) {
        Scheduler.Cancellable[] next = new Scheduler.Cancellable[1];
        Runnable[] loop = new Runnable[1];
        loop[0] = () -> {
            if (closed) {
                return;
            }
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.warn("node {}: maintenance task failed: {}", id.shortHex(), e.toString(), e);
            }
            next[0] = scheduler.schedule(loop[0], periodMillis);
        };
        next[0] = scheduler.schedule(loop[0], periodMillis);
        timers.add(() -> next[0].cancel());
    }

    // ------------------------------------------------------------------ joining

    /**
     * Joins the overlay through {@code bootstrap} nodes: pings them, looks up this node's own id, then
     * refreshes every bucket. With no bootstrap node this is the first node and joining is immediate.
     *
     * @return the number of neighbours known after joining
     */
    public CompletableFuture<Integer> join(List<InetSocketAddress> bootstrap) {
        return onThread(() -> {
            if (bootstrap.isEmpty()) {
                joined = true;
                return CompletableFuture.completedFuture(0);
            }
            List<CompletableFuture<Frame>> pings = new ArrayList<>();
            for (InetSocketAddress b : bootstrap) {
                pings.add(rpc.call(b, new Ping()).exceptionally(e -> null));
            }
            return CompletableFuture.allOf(pings.toArray(CompletableFuture[]::new)).thenCompose(x -> {
                if (routing.size() == 0) {
                    return CompletableFuture.failedFuture(new IOException("no bootstrap node answered at " + bootstrap
                            + "; check the addresses and that a node runs there"));
                }
                return findNodes(id, config.k(), false);
            }).thenCompose(closest -> {
                if (closest.isEmpty()) {
                    // without its own-id lookup the node never meets its neighbours, and nobody would route to it
                    return CompletableFuture.failedFuture(new IOException("no node answered this node's lookup of its "
                            + "own id through " + bootstrap + "; the network loses too much, join again"));
                }
                List<CompletableFuture<List<Contact>>> refreshes = new ArrayList<>();
                for (int i = 0; i < routing.bucketCount(); i++) {
                    refreshes.add(findNodes(id.randomWithPrefix(i, random), config.k(), false));
                }
                return CompletableFuture.allOf(refreshes.toArray(CompletableFuture[]::new));
            }).thenApply(x -> {
                joined = true;
                LOG.debug("node {} joined: {} neighbours in {} buckets", id.shortHex(), routing.size(), routing.bucketCount());
                return routing.size();
            });
        });
    }

    // ------------------------------------------------------------------ the DHT API

    @Override
    public CompletableFuture<PutResult> put(NodeId key, DhtValue value) {
        return onThread(() -> store(key, value, null, true, null));
    }

    @Override
    public CompletableFuture<PutResult> putRefresh(NodeId key, DhtValue compact, DhtValue full) {
        if (!compact.id().equals(full.id()) || compact.expiresAtMillis() != full.expiresAtMillis()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(
                    "a compact refresh must have the full value's owner, nonce and expiry"));
        }
        return onThread(() -> store(key, compact, full, true, null));
    }

    /** A {@link #put} that also tells how it went ({@link OpTrace}); for benchmarks and diagnostics. */
    public CompletableFuture<OpTrace.Traced<PutResult>> tracePut(NodeId key, DhtValue value) {
        long called = System.nanoTime();
        return onThread(() -> {
            Probe p = new Probe(called);
            return p.finish(store(key, value, null, true, p));
        });
    }

    /** A {@link #get} that also tells how it went ({@link OpTrace}); for benchmarks and diagnostics. */
    public CompletableFuture<OpTrace.Traced<List<DhtValue>>> traceGet(NodeId key) {
        long called = System.nanoTime();
        return onThread(() -> {
            Probe p = new Probe(called);
            return p.finish(fetch(key, p));
        });
    }

    /** Collects an {@link OpTrace} while one operation runs on this node's thread. */
    private final class Probe {
        final long called;
        final long started = System.nanoTime();
        final long retransmissions = rpc.retransmissions();
        final long timeouts = rpc.timeouts();
        final long out = stats.datagramsOut.get();
        final long in = stats.datagramsIn.get();
        IterativeLookup lookup;
        int stores;

        Probe(long called) {
            this.called = called;
        }

        <T> CompletableFuture<OpTrace.Traced<T>> finish(CompletableFuture<T> op) {
            return op.thenApply(r -> new OpTrace.Traced<>(r, new OpTrace(rpc.currentRound(),
                    lookup == null ? 0 : lookup.queries(), stores, lookup == null ? 0 : lookup.stalls(),
                    rpc.retransmissions() - retransmissions, rpc.timeouts() - timeouts,
                    stats.datagramsOut.get() - out, stats.datagramsIn.get() - in, started - called, System.nanoTime())));
        }
    }

    /**
     * A put: a lookup of the {@code replicas} closest nodes, and a STORE to each, pipelined with the
     * lookup. The lookup's queries are PUTs that also ask for the node's closest contacts
     * ({@link Put#wantCloser}), so one round trip both answers the lookup and stores the value where FIND_NODE
     * then PUT took two. Such a PUT is conditional: a node stores it only if it knows fewer than {@code replicas}
     * nodes closer to the key than itself, else it answers {@link Status#NOT_CLOSEST} with those nodes, so the
     * queries on the way to the key leave no copies. Values whose PUT does not fit in one datagram are not sent
     * to every node queried: their lookup asks FIND_NODE until it converges (see {@link IterativeLookup}), and
     * only the not-yet-asked nodes among the closest then get the conditional PUT. Nodes that answered a
     * FIND_NODE, or declined, and settle among the closest get a plain PUT as soon as the lookup converges
     * (see {@link IterativeLookup#onSettled}). The put then waits for the STOREs of exactly the nodes the
     * lookup returned, so its result and where the value lives are those of a lookup followed by STOREs. A node
     * that stored the value and that a later answer pushed out of the closest keeps a copy beyond the replicas
     * (counted in {@link OverlayStats.Snapshot#extraCopies}); a remove reaches it (see {@link #remove}).
     *
     * <p>With {@code full} (a {@link #putRefresh}), {@code value} is its compact form, and each replica that refuses
     * it gets {@code full}; {@code full} is what this node republishes.
     */
    private CompletableFuture<PutResult> store(NodeId key, DhtValue value, DhtValue full, boolean remember, Probe probe) {
        Map<NodeId, CompletableFuture<PutAck>> stores = new HashMap<>();
        IterativeLookup[] lookup = new IterativeLookup[1];
        IterativeLookup.Querier findNode = findNodeQuerier(key);
        Put conditional = new Put(key, value, false, true);
        boolean everyQuery = fitsOneDatagram(conditional);
        IterativeLookup.Querier querier = c -> {
            if (!(everyQuery || lookup[0].converged()) || stores.containsKey(c.id())) {
                return findNode.query(c);
            }
            CompletableFuture<Frame> call = rpc.call(addressOf(c), conditional);
            CompletableFuture<PutAck> stored = call.handle((f, e) -> e != null
                    ? new PutAck(new Ack(Status.AGAIN, c + " did not answer"))
                    : f.message() instanceof PutReply r ? r.putAck()
                    : new PutAck(new Ack(Status.BAD_REQUEST, "unexpected reply from " + c)));
            stores.put(c.id(), orFull(c, key, full, stored));
            return call.thenApply(f -> {
                if (!(f.message() instanceof PutReply r)) {
                    throw new CompletionException(new IOException("unexpected reply to PUT"));
                }
                return r.closer();
            });
        };
        IterativeLookup l = newLookup(key, config.replicas(), true, querier)
                .onSettled(c -> stores.compute(c.id(), (x, f) -> f == null || declined(f) ? storeOn(c, key, value, full) : f));
        lookup[0] = l;
        if (probe != null) {
            probe.lookup = l;
        }
        // Through observed() so that put lookups count in the lookup metrics too.
        return observed(l, scheduler.nowMillis(), l.run(routing.closest(key, config.k()))).thenCompose(nodes -> {
            List<CompletableFuture<PutAck>> acks = new ArrayList<>();
            Set<NodeId> result = new HashSet<>();
            for (Contact c : nodes) {
                result.add(c.id());
                CompletableFuture<PutAck> f = stores.get(c.id());
                if (f == null) {
                    f = storeOn(c, key, value, full);
                    stores.put(c.id(), f);
                }
                // a node that declined the conditional PUT but is among the closest after all stores it now
                acks.add(f.thenCompose(a -> a.status() == Status.NOT_CLOSEST ? storeOn(c, key, value, full)
                        : CompletableFuture.completedFuture(a)));
            }
            List<CompletableFuture<PutAck>> stalled = new ArrayList<>();
            NodeId farthest = nodes.isEmpty() ? null : nodes.get(nodes.size() - 1).id();
            stores.forEach((node, f) -> {
                if (!result.contains(node)) {
                    f.thenAccept(a -> {
                        if (a.status().ok()) {
                            stats.extraCopies.incrementAndGet();
                        }
                    });
                    // A node closer than the result's farthest that the lookup gave up on (stalled) may still
                    // answer its PUT's retry: wait for it, so that once the put is done it holds the value if it
                    // stores it at all (it is not counted in the result: the lookup did not return it).
                    if (!f.isDone() && farthest != null && key.compareDistance(node, farthest) < 0) {
                        stalled.add(f);
                    }
                }
            });
            if (probe != null) {
                probe.stores = stores.size();
            }
            CompletableFuture<PutResult> done = collect(acks);
            if (!stalled.isEmpty()) {
                done = CompletableFuture.allOf(stalled.toArray(CompletableFuture[]::new)).thenCombine(done, (x, r) -> r);
            }
            return done.thenApply(r -> {
                if (remember) {
                    published.computeIfAbsent(key, k -> new HashMap<>()).put(value.id(), full != null ? full : value);
                }
                return r;
            });
        });
    }

    /** True when {@code f} is a conditional PUT the node answered with {@link Status#NOT_CLOSEST}. */
    private static boolean declined(CompletableFuture<PutAck> f) {
        return f.isDone() && !f.isCompletedExceptionally() && f.join().status() == Status.NOT_CLOSEST;
    }

    /** Whether {@code req} travels in one datagram (else it is fragmented, and worth sending only where needed). */
    private boolean fitsOneDatagram(Message.Request req) {
        return codec.encode(new Frame(false, 0, id, req)).length <= config.maxDatagramBytes();
    }

    /** {@link #storeOn(Contact, NodeId, DhtValue)}, then {@code full} (if any) where {@code value} was refused. */
    private CompletableFuture<PutAck> storeOn(Contact c, NodeId key, DhtValue value, DhtValue full) {
        if (full != null && c.id().equals(id)) {
            // this node's own copy: the full value, the same bytes it republishes (no second expanded copy)
            return storeOn(c, key, full);
        }
        return orFull(c, key, full, storeOn(c, key, value));
    }

    /**
     * {@code stored}, or, when it was refused and {@code full} is given (a compact refresh the node holds no version
     * to expand), the store of {@code full} on that node.
     */
    private CompletableFuture<PutAck> orFull(Contact c, NodeId key, DhtValue full, CompletableFuture<PutAck> stored) {
        return full == null ? stored : stored.thenCompose(a -> a.status() == Status.REFUSED ? storeOn(c, key, full)
                : CompletableFuture.completedFuture(a));
    }

    private CompletableFuture<PutAck> storeOn(Contact c, NodeId key, DhtValue value) {
        return c.id().equals(id) ? CompletableFuture.completedFuture(storeLocally(key, value, LOCAL_SOURCE, true))
                : rpc.call(addressOf(c), new Put(key, value, false)).handle((f, e) -> {
                    if (e != null) {
                        routing.failed(c.id(), scheduler.nowMillis());
                        return new PutAck(new Ack(Status.AGAIN, c + " did not answer"));
                    }
                    // an Ack is a node that gives no summary (the reply to a PUT before PUT_ACK): the writer reads
                    return f.message() instanceof PutAck a ? a : f.message() instanceof Ack a ? new PutAck(a)
                            : new PutAck(new Ack(Status.BAD_REQUEST, "unexpected reply from " + c));
                });
    }

    /**
     * {@inheritDoc} Fails with {@link DhtException} (AGAIN) when this node knows other nodes, none of them answered,
     * and it holds no value itself: an empty list means that the nodes asked hold nothing.
     */
    @Override
    public CompletableFuture<List<DhtValue>> get(NodeId key) {
        return onThread(() -> fetch(key, null));
    }

    private CompletableFuture<List<DhtValue>> fetch(NodeId key, Probe probe) {
        Map<ValueId, DhtValue> found = new HashMap<>();
        long now = scheduler.nowMillis();
        merge(found, store.get(key, now));
        IterativeLookup l = newLookup(key, config.replicas(), true, c -> fetchPages(c, key, Bytes.EMPTY, found, 0));
        if (probe != null) {
            probe.lookup = l;
        }
        return observed(l, now, l.run(routing.closest(key, config.k())))
                .thenApply(nodes -> {
                    long t = scheduler.nowMillis();
                    List<DhtValue> out = new ArrayList<>(found.size());
                    for (DhtValue v : found.values()) {
                        if (!v.expiredAt(t)) {
                            out.add(v);
                        }
                    }
                    out.sort((a, b) -> a.id().compareTo(b.id()));
                    if (out.isEmpty() && l.queries() > 0 && l.answered() == 0) {
                        // nobody could say whether the key holds anything: not "no value" (a proxy would answer 404
                        // for a user whose record lives on the nodes that did not answer)
                        stats.unansweredGets.incrementAndGet();
                        throw new DhtException(Status.AGAIN, "none of the " + l.queries() + " nodes asked for key "
                                + key.shortHex() + " answered (overloaded or unreachable); retry later");
                    }
                    return out;
                });
    }

    /**
     * {@inheritDoc} The REMOVE goes to the {@code k} closest nodes a lookup finds (each leaves a tombstone), which
     * covers every node that may hold a copy: the replicas, and the few just outside them that a pipelined put or
     * a newcomer's arrival left one on.
     */
    @Override
    public CompletableFuture<PutResult> remove(NodeId key, Bytes owner, Bytes nonce, Bytes proof) {
        return onThread(() -> {
            Map<ValueId, DhtValue> mine = published.get(key);
            DhtValue known = mine == null ? null : mine.get(new ValueId(owner, nonce));
            long tombstone = known != null ? known.expiresAtMillis() : scheduler.nowMillis() + config.maxTtlMillis();
            Remove req = new Remove(key, owner, nonce, proof, tombstone);
            // The k closest, not only the replicas: copies also live just outside the replicas (a put's conditional
            // store on a node that believed itself among them, a former replica that a newcomer displaced), and a
            // remove must reach those too, or a get that asks them would bring the value back.
            return findNodes(key, config.k(), true).thenCompose(nodes -> {
                List<CompletableFuture<PutAck>> acks = new ArrayList<>();
                for (Contact c : nodes) {
                    acks.add(c.id().equals(id) ? CompletableFuture.completedFuture(new PutAck(removeLocally(req, LOCAL_SOURCE)))
                            : request(c, req).thenApply(PutAck::new));
                }
                return collect(acks);
            }).thenApply(r -> {
                if (mine != null) {
                    mine.remove(new ValueId(owner, nonce));
                    if (mine.isEmpty()) {
                        published.remove(key);
                    }
                }
                return r;
            });
        });
    }

    @Override
    public Subscription listen(NodeId key, Consumer<ValueEvent> listener) {
        ListenState state = new ListenState(key, random.nextLong(), listener);
        scheduler.execute(() -> {
            listens.put(state.token, state);
            state.renew();
        });
        return () -> scheduler.execute(state::close);
    }

    // ------------------------------------------------------------------ routed requests

    /**
     * Sends {@code payload} for application {@code appId} to the node whose id is {@code target}, hop by hop over the
     * overlay's existing links (each hop forwards to its contact closest to the target), and completes with the
     * answer of that node's handler ({@link #handle}), which returns along the same hops. For reaching a node this one
     * has no direct link to, such as a peer behind a NAT (ICE's Attach, SIP). Fails with a {@link DhtException}: AGAIN
     * when no route or no answer within 10 s, REFUSED when the target has no handler or its handler failed.
     */
    public CompletableFuture<RouteAnswer> route(NodeId target, String appId, Bytes payload) {
        return route(target, appId, payload, RouteMode.EXACT, Router.DEFAULT_TIMEOUT_MILLIS);
    }

    /**
     * As {@link #route(NodeId, String, Bytes)}, to the exact node or to the node closest to {@code target}
     * ({@link RouteMode}), waiting at most {@code timeoutMillis} (1..60,000) for the answer.
     */
    public CompletableFuture<RouteAnswer> route(NodeId target, String appId, Bytes payload, RouteMode mode,
                                                long timeoutMillis) {
        return onThread(() -> router.route(target, appId, payload, mode, timeoutMillis));
    }

    /**
     * Sets the handler of routed requests for {@code appId} (1..32 ASCII letters, digits, '.', '-', '_') that reach
     * this node; null removes it. Requests for an application without a handler are refused and counted.
     */
    public OverlayNode handle(String appId, RouteHandler handler) {
        router.handle(appId, handler);
        return this;
    }

    /**
     * Pings {@code address} and completes with the node that answered, which is then in the routing table at that
     * address: how a link set up outside the overlay (an ICE link) becomes a route the overlay uses.
     */
    public CompletableFuture<Contact> ping(InetSocketAddress address) {
        return onThread(() -> rpc.call(address, new Ping()).thenApply(f -> new Contact(f.sender(), address)));
    }

    /**
     * Tells the node that its link to {@code address} is gone (an ICE link closed, say): the routing entries at that
     * address go at once, so routes and lookups stop sending there and take another way (a routed request then goes
     * through another hop). Any thread; nothing happens once the node is stopped.
     */
    public void linkClosed(InetSocketAddress address) {
        if (closed) {
            return;
        }
        try {
            scheduler.execute(() -> {
                linkTable.close(address);
                routing.removeAddress(address, scheduler.nowMillis());
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the node's event loop is shutting down: nothing left to route
        }
    }

    /**
     * Sets where node ids are reached over links set up outside the overlay: {@code paths} returns, for a node id, the
     * address of such a link to it (an authenticated ICE link), or null. Requests of lookups, stores and listens to a
     * contact then go to that address whatever address other nodes reported for it: a node behind a NAT is reported at
     * an address only its own neighbours can reach, and trying it there costs a timeout per lookup. Called on the
     * node's thread for every such request, so it must be fast. Any thread.
     */
    public OverlayNode linkPaths(Function<NodeId, InetSocketAddress> paths) {
        this.linkPaths = java.util.Objects.requireNonNull(paths, "paths");
        return this;
    }

    /** Where requests to {@code c} go: over a link set up outside the overlay if there is one, else its address. */
    private InetSocketAddress addressOf(Contact c) {
        InetSocketAddress p = linkPaths.apply(c.id());
        return p != null ? p : c.address();
    }

    /** Neighbours in the routing table, for tests and status. */
    public CompletableFuture<List<Contact>> neighbours() {
        return onThread(() -> CompletableFuture.completedFuture(routing.contacts()));
    }

    /** The values this node stores at {@code key} itself (not a DHT lookup). */
    public CompletableFuture<List<DhtValue>> localValues(NodeId key) {
        return onThread(() -> CompletableFuture.completedFuture(store.get(key, scheduler.nowMillis())));
    }

    /** The {@code n} nodes closest to {@code target} found by an iterative lookup. */
    public CompletableFuture<List<Contact>> findClosest(NodeId target, int n) {
        return onThread(() -> findNodes(target, n, true));
    }

    public CompletableFuture<NodeStatus> status() {
        return onThread(() -> CompletableFuture.completedFuture(new NodeStatus(id, links.localAddress(), joined,
                routing.size(), routing.bucketCount(), linkTable.size(), linkTable.capacity(), store.keyCount(),
                store.valueCount(), store.bytes(), store.maxBytes(), rpc.pendingCount(), listens.size(),
                stats.snapshot(reassembler.droppedStreams(), rpc, replies))));
    }

    /** Counters, readable from any thread. */
    public OverlayStats.Snapshot counters() {
        return stats.snapshot(reassembler.droppedStreams(), rpc, replies);
    }

    /** Datagrams this node has sent, as {@code counters().datagramsOut()} without building a snapshot (for per-operation sampling). */
    public long datagramsOut() {
        return stats.datagramsOut.get();
    }

    // ------------------------------------------------------------------ lookups

    /**
     * Like {@link #findClosest}, and also tells how the lookup went: its hop count (see
     * {@link IterativeLookup#hops()}) and the number of nodes it queried. For benchmarks and diagnostics.
     */
    public CompletableFuture<LookupTrace> traceClosest(NodeId target, int n) {
        return onThread(() -> {
            IterativeLookup l = newLookup(target, n, true, findNodeQuerier(target));
            return l.run(routing.closest(target, config.k())).thenApply(c -> new LookupTrace(c, l.hops(), l.queries()));
        });
    }

    /** A finished lookup: the closest nodes found, its hop count and the nodes it queried. */
    public record LookupTrace(List<Contact> closest, int hops, int queries) { }

    private CompletableFuture<List<Contact>> findNodes(NodeId target, int size, boolean includeSelf) {
        return lookup(target, size, includeSelf, findNodeQuerier(target));
    }

    private IterativeLookup.Querier findNodeQuerier(NodeId target) {
        return c -> rpc.call(addressOf(c), new FindNode(target)).thenApply(f -> {
            if (!(f.message() instanceof Nodes n)) {
                throw new CompletionException(new IOException("unexpected reply to FIND_NODE"));
            }
            return n.nodes();
        });
    }

    private CompletableFuture<List<Contact>> lookup(NodeId target, int size, boolean includeSelf, IterativeLookup.Querier q) {
        IterativeLookup l = newLookup(target, size, includeSelf, q);
        return observed(l, scheduler.nowMillis(), l.run(routing.closest(target, config.k())));
    }

    /** Tells the {@link OverlayObserver} how lookup {@code l}, started at {@code startMillis}, went once {@code run} ends. */
    private CompletableFuture<List<Contact>> observed(IterativeLookup l, long startMillis, CompletableFuture<List<Contact>> run) {
        return run.whenComplete((c, e) -> {
            try {
                observer.lookupFinished(scheduler.nowMillis() - startMillis, l.hops(), l.queries(), c != null && !c.isEmpty());
            } catch (RuntimeException x) {
                LOG.warn("the overlay observer failed: {}", x.toString());
            }
        });
    }

    /** Sets who is told of lookups (for metrics); {@link OverlayObserver#NONE} by default. Any thread. */
    public OverlayNode observer(OverlayObserver observer) {
        this.observer = java.util.Objects.requireNonNull(observer, "observer");
        return this;
    }

    private IterativeLookup newLookup(NodeId target, int size, boolean includeSelf, IterativeLookup.Querier q) {
        routing.touch(target, scheduler.nowMillis());
        IterativeLookup.Querier counted = c -> q.query(c).whenComplete((r, e) -> {
            if (e != null) {
                routing.failed(c.id(), scheduler.nowMillis());
                try {
                    observer.contactUnanswered(c);
                } catch (RuntimeException x) {
                    LOG.warn("the overlay observer failed: {}", x.toString());
                }
            }
        });
        IterativeLookup l = new IterativeLookup(target, size, config.alpha(), self, includeSelf, counted, scheduler,
                config.attemptTimeoutMillis());
        // The closest set looks final once it is about as tight around the target as this node's own closest
        // contacts are around it (every node knows its own neighbourhood completely); one bit of slack.
        List<Contact> mine = routing.closest(id, size);
        if (mine.size() == size) {
            l.convergeWithin(Math.max(0, id.commonPrefixLength(mine.get(size - 1).id()) - NEIGHBOURHOOD_SLACK_BITS));
        }
        return l;
    }

    private CompletableFuture<List<Contact>> fetchPages(Contact c, NodeId key, Bytes placemark,
                                                        Map<ValueId, DhtValue> found, int page) {
        return rpc.call(addressOf(c), new Get(key, 0, placemark)).thenCompose(f -> {
            if (!(f.message() instanceof GetReply r)) {
                return CompletableFuture.failedFuture(new IOException("unexpected reply to GET"));
            }
            merge(found, r.values());
            if (!r.placemark().isEmpty() && page + 1 < MAX_PAGES_PER_NODE) {
                return fetchPages(c, key, r.placemark(), found, page + 1).thenApply(x -> r.closer());
            }
            return CompletableFuture.completedFuture(r.closer());
        });
    }

    private static void merge(Map<ValueId, DhtValue> found, List<DhtValue> values) {
        for (DhtValue v : values) {
            found.merge(v.id(), v, (a, b) -> a.expiresAtMillis() >= b.expiresAtMillis() ? a : b);
        }
    }

    private CompletableFuture<Ack> request(Contact c, Message.Request req) {
        return rpc.call(addressOf(c), req).handle((f, e) -> {
            if (e != null) {
                routing.failed(c.id(), scheduler.nowMillis());
                return new Ack(Status.AGAIN, c + " did not answer");
            }
            return f.message() instanceof Ack a ? a : f.message() instanceof PutAck p ? p.ack()
                    : new Ack(Status.BAD_REQUEST, "unexpected reply from " + c);
        });
    }

    /** The {@link PutResult} of answers to a put or remove: how many stored, why the others refused, what they hold. */
    private static CompletableFuture<PutResult> collect(List<CompletableFuture<PutAck>> acks) {
        return CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).thenApply(x -> {
            int ok = 0;
            List<String> refusals = new ArrayList<>();
            List<HeldValues> held = new ArrayList<>();
            Status worst = Status.AGAIN;
            for (CompletableFuture<PutAck> f : acks) {
                PutAck a = f.join();
                if (a.status().ok()) {
                    ok++;
                    if (a.held().complete()) {
                        held.add(a.held());
                    }
                } else {
                    refusals.add(a.status() + ": " + a.reason());
                    if (a.status() != Status.AGAIN) {
                        worst = a.status();
                    }
                }
            }
            if (ok == 0) {
                throw new DhtException(acks.isEmpty() ? Status.AGAIN : worst, acks.isEmpty()
                        ? "no node is reachable; is this node joined to the overlay?"
                        : "no replica accepted the operation: " + String.join("; ", refusals));
            }
            return new PutResult(ok, acks.size(), refusals, held);
        });
    }

    // ------------------------------------------------------------------ datagrams in and out

    private void send(InetSocketAddress to, Frame frame) {
        if (closed) {
            return;
        }
        sendEncoded(to, codec.encode(frame));
    }

    private void sendEncoded(InetSocketAddress to, byte[] bytes) {
        if (closed) {
            return;
        }
        linkTable.sent(to, scheduler.nowMillis());
        for (byte[] d : Fragmenter.split(bytes, config.maxDatagramBytes(), streamIds++)) {
            stats.datagramsOut.incrementAndGet();
            links.send(to, d);
        }
    }

    private Object sourceKey(InetSocketAddress from) {
        return config.sourceKey() == OverlayConfig.SourceKey.IP ? from.getAddress() : from;
    }

    private void onDatagram(InetSocketAddress from, byte[] d, int len) {
        if (closed) {
            return;
        }
        stats.datagramsIn.incrementAndGet();
        long now = scheduler.nowMillis();
        if (len < 4) {
            stats.malformed.incrementAndGet();
            return;
        }
        int kind = d[3];
        // The limit counts requests: a whole request, or the first fragment of a fragmented frame (its
        // kind is unknown until reassembled), so a 64 KiB value costs one token, not fifty.
        boolean counted = kind == Frame.KIND_FRAGMENT ? reassembler.opensStream(from, d, len) : kind != Frame.KIND_REPLY;
        if (counted && !limiter.tryAcquire(sourceKey(from), now)) {
            stats.rateLimited.incrementAndGet();
            return;
        }
        byte[] bytes = d;
        int length = len;
        try {
            if (kind == Frame.KIND_FRAGMENT) {
                bytes = reassembler.accept(from, d, len, now);
                if (bytes == null) {
                    return;
                }
                length = bytes.length;
            }
            Frame f = codec.decode(bytes, length);
            if (f.sender().equals(id)) {
                throw new MalformedFrameException("a frame claiming this node's own id");
            }
            if (!links.acceptSender(from, f.sender())) {
                throw new MalformedFrameException("the sender id differs from the one the link authenticated");
            }
            Contact c = new Contact(f.sender(), from);
            if (f.reply()) {
                if (!rpc.onReply(from, f, () -> learn(c, now, true))) {
                    stats.unmatchedReplies.incrementAndGet();
                }
            } else {
                learn(c, now, false);
                serve(c, f, now, bytes, length);
            }
        } catch (MalformedFrameException e) {
            stats.malformed.incrementAndGet();
            LOG.trace("dropped a datagram from {}: {}", from, e.getMessage());
        }
    }

    /**
     * A node talked to us: keep its link and routing entry fresh; ping-before-evict on a full bucket, but only
     * when the bucket's oldest contact has been silent for {@link #QUESTIONABLE_AFTER_MILLIS}: a contact heard
     * from recently is alive, and pinging it for every newcomer that finds its bucket full (most of a large
     * table's far buckets) doubled a loaded node's datagrams for nothing (see overlay/README.md, "Ping before
     * evict"). Dead contacts still go after {@link RoutingTable#MAX_FAILURES} failed requests.
     *
     * <p>A requester that would diversify its full bucket (see {@link RoutingTable}) is asked to answer a PING
     * first: only a contact that answered us may displace another, and its PONG brings it back here as such.
     *
     * @param answered {@code c} answered a request of ours (else it sent one)
     */
    private void learn(Contact c, long now, boolean answered) {
        linkTable.received(c.address(), now);
        RoutingTable.Outcome o = routing.seen(c, now, answered);
        if (o instanceof RoutingTable.Outcome.Added || o instanceof RoutingTable.Outcome.Diversified) {
            newContacts.add(c);
            return;
        }
        if (!(o instanceof RoutingTable.Outcome.Full full)) {
            return;
        }
        if (!answered && full.diversifies() && pinging.add(c.id())) {
            rpc.call(c.address(), new Ping()).whenComplete((f, e) -> pinging.remove(c.id()));
        }
        if (now - full.oldestLastSeen() >= QUESTIONABLE_AFTER_MILLIS && pinging.add(full.oldest().id())) {
            Contact oldest = full.oldest();
            rpc.call(oldest.address(), new Ping()).whenComplete((f, e) -> {
                pinging.remove(oldest.id());
                if (e != null && routing.remove(oldest.id(), scheduler.nowMillis())) {
                    newContacts.add(full.newcomer());
                }
            });
        }
    }

    /**
     * STOREs and REMOVEs cost a storing node a policy check (the storage module's: an XML parse and a signature
     * verification): their retransmissions are answered from {@link #replies}. The other requests are cheap or
     * read-only and run again (a routed request's retransmission is answered by its transit, see {@link Router}).
     */
    private static boolean answeredOnce(Message m) {
        return m instanceof Put || m instanceof Remove;
    }

    /** A checksum of a request's body (whole, after reassembly), telling a retransmission from another request. */
    private static int bodyChecksum(byte[] frame, int length) {
        CRC32C crc = new CRC32C();
        crc.update(frame, Frame.HEADER_BYTES, length - Frame.HEADER_BYTES);
        return (int) crc.getValue();
    }

    private void serve(Contact from, Frame f, long now, byte[] frameBytes, int frameLength) {
        Message m = f.message();
        boolean once = answeredOnce(m);
        int checksum = 0;
        if (once) {
            checksum = bodyChecksum(frameBytes, frameLength);
            byte[] cached = replies.lookup(from.address(), f.requestId(), f.sender(), checksum, now);
            if (cached != null) {
                if (cached.length > 0) {
                    sendEncoded(from.address(), cached);
                } // else still waiting for its check ahead (IN_PROGRESS): the answer goes out when it is done
                return;
            }
        }
        stats.requestsServed.incrementAndGet();
        Message reply;
        if (m instanceof Ping) {
            reply = new Pong(from.address());
        } else if (m instanceof FindNode fn) {
            reply = new Nodes(closestExcept(fn.target(), from.id()));
        } else if (m instanceof Get g) {
            ValueStore.Page page = store.page(g.key(), g.maxValues(), g.placemark(), PAGE_BYTES, now);
            reply = new GetReply(closestExcept(g.key(), from.id()), page.values(), page.placemark());
        } else if (m instanceof Put p && p.wantCloser()) {
            List<Contact> closer = closestExcept(p.key(), from.id());
            if (!amongClosest(p.key())) {
                reply = new PutReply(Status.NOT_CLOSEST, "this node knows " + config.replicas() + " nodes closer to the key",
                        closer);
            } else {
                servePut(from, f, p, a -> new PutReply(a.status(), a.reason(), closer, a.held()), now, checksum);
                return;
            }
        } else if (m instanceof Put p) {
            servePut(from, f, p, a -> a, now, checksum);
            return;
        } else if (m instanceof Remove r) {
            serveChecked(from, f, () -> store.precheckRemove(
                    new StoragePolicy.RemoveRequest(r.key(), r.owner(), r.nonce(), r.proof()), now),
                    () -> new PutAck(removeLocally(r, sourceKey(from.address()))), PutAck::ack, checksum);
            return;
        } else if (m instanceof Listen l) {
            reply = register(from.address(), l, now);
        } else if (m instanceof Route r) {
            router.onRequest(from, f, r); // answers later, or never (a dropped one)
            return;
        } else if (m instanceof Notify n) {
            ListenState s = listens.get(n.token());
            if (s != null && s.key.equals(n.key())) {
                s.deliver(n.values(), n.removed());
            }
            reply = Ack.OK;
        } else {
            reply = new Ack(Status.BAD_REQUEST, "unsupported request");
        }
        if (once) {
            answerOnce(from, f, reply, checksum); // a PUT's NOT_CLOSEST; the others answered above
        } else {
            send(from.address(), new Frame(true, f.requestId(), id, reply));
        }
    }

    private void servePut(Contact from, Frame f, Put p, Function<PutAck, Message> wrap, long now, int checksum) {
        // a hand-over or re-replication (replica) is not told what the key holds: nobody compares it, and it comes in bulk
        Supplier<PutAck> apply = () -> storeLocally(p.key(), p.value(), sourceKey(from.address()), !p.replica());
        if (aheadChecks == null || store.holds(p.key(), p.value(), now)) {
            answerOnce(from, f, wrap.apply(apply.get()), checksum); // a copy already held: no check
            return;
        }
        // a value with nothing to check ahead (a refresh checked by hashing) skips the trip to the check pool
        serveChecked(from, f, store.checksAhead(p.key(), p.value()) ? () -> store.precheckPut(p.key(), p.value(), now)
                : null, apply, wrap, checksum);
    }

    /** Marks a request in {@link #replies} whose answer waits for its check ahead: a retransmission is dropped. */
    private static final byte[] IN_PROGRESS = new byte[0];

    /** Sends the answer to a STORE or REMOVE and keeps it for the request's retransmissions (see {@link #replies}). */
    private void answerOnce(Contact from, Frame f, Message reply, int checksum) {
        byte[] encoded = codec.encode(new Frame(true, f.requestId(), id, reply));
        replies.put(from.address(), f.requestId(), f.sender(), checksum, encoded, scheduler.nowMillis());
        sendEncoded(from.address(), encoded);
    }

    /**
     * Answers a store or remove request: at once when the node checks on its own thread, else once {@code check}
     * ran on the check executor ({@link #checkValuesOn}) and every request before it was applied. A refusal of the
     * check is the answer; otherwise {@code apply} (the store's full check and the write) gives it. A null
     * {@code check} (nothing to check ahead) is applied without leaving the node's thread, in order.
     */
    private void serveChecked(Contact from, Frame f, Supplier<StoragePolicy.Decision> check, Supplier<PutAck> apply,
            Function<PutAck, Message> wrap, int checksum) {
        if (aheadChecks == null) {
            answerOnce(from, f, wrap.apply(apply.get()), checksum);
            return;
        }
        boolean[] answered = {false}; // the check may end at once (its executor shut down): then no IN_PROGRESS mark
        java.util.function.Consumer<StoragePolicy.Decision> checked = refusal -> {
            answered[0] = true;
            PutAck a;
            if (refusal != null) {
                stats.refusedPuts.incrementAndGet();
                a = new PutAck(new Ack(Status.REFUSED, refusal.reason()));
            } else {
                a = apply.get();
            }
            answerOnce(from, f, wrap.apply(a), checksum);
        };
        boolean queued = check == null ? aheadChecks.applyInOrder(checked) : aheadChecks.submit(check, checked);
        if (queued) {
            if (!answered[0]) {
                replies.put(from.address(), f.requestId(), f.sender(), checksum, IN_PROGRESS, scheduler.nowMillis());
            }
        } else { // not kept: a retransmission may find room
            send(from.address(), new Frame(true, f.requestId(), id, wrap.apply(new PutAck(new Ack(Status.AGAIN, "this node has "
                    + aheadChecks.pending() + " store requests waiting for their signature check; retry later")))));
        }
    }

    /**
     * Checks the values of incoming store and remove requests (signature verification, see
     * {@link StoragePolicy#precheckPut}) on {@code workers} rather than on this node's thread, which keeps answering
     * pings, lookups and gets meanwhile; requests are still applied in arrival order, and at most
     * {@value #MAX_PENDING_CHECKS} wait (more are answered {@code AGAIN}). Takes effect for the requests that arrive
     * after it; call it once, before {@link #start()} or right after (an elected site peer's node). The executor may
     * be shared by several nodes; the caller shuts it down after closing them.
     */
    public OverlayNode checkValuesOn(java.util.concurrent.Executor workers) {
        if (aheadChecks != null) {
            throw new IllegalStateException("this node already checks values on an executor");
        }
        this.aheadChecks = new AheadChecks(workers, scheduler::execute, MAX_PENDING_CHECKS);
        return this;
    }

    /** Store requests applied after a check on the check executor, and refused because too many waited. */
    public record AheadCheckCounts(long applied, long shed) { }

    /** See {@link #checkValuesOn}; zeros without a check executor. Any thread. */
    public AheadCheckCounts aheadCheckCounts() {
        AheadChecks a = aheadChecks;
        return a == null ? new AheadCheckCounts(0, 0) : new AheadCheckCounts(a.applied(), a.shed());
    }

    /** Whether fewer than {@code replicas} contacts this node knows are closer to {@code key} than itself. */
    private boolean amongClosest(NodeId key) {
        List<Contact> closest = routing.closest(key, config.replicas());
        return closest.size() < config.replicas() || key.compareDistance(id, closest.get(closest.size() - 1).id()) < 0;
    }

    private List<Contact> closestExcept(NodeId target, NodeId except) {
        List<Contact> out = routing.closest(target, config.k() + 1);
        out.removeIf(c -> c.id().equals(except));
        return out.size() > config.k() ? out.subList(0, config.k()) : out;
    }

    /**
     * Stores a value here; with {@code summarize}, the answer also says what the key holds now (see {@link HeldValues}),
     * so that the writer need not read the key back to learn it.
     */
    private PutAck storeLocally(NodeId key, DhtValue value, Object source, boolean summarize) {
        long now = scheduler.nowMillis();
        ValueStore.Outcome o = store.put(key, value, source, now);
        if (!o.status().ok()) {
            stats.refusedPuts.incrementAndGet();
            return new PutAck(new Ack(o.status(), o.reason()));
        }
        if (o.changed()) {
            notifyListeners(key, List.of(o.value()), List.of());
        }
        return summarize ? new PutAck(Status.OK, "", HeldValues.of(store.get(key, now))) : PutAck.OK;
    }

    private Ack removeLocally(Remove r, Object source) {
        ValueStore.Outcome o = store.remove(new StoragePolicy.RemoveRequest(r.key(), r.owner(), r.nonce(), r.proof()),
                r.tombstoneUntilMillis(), source, scheduler.nowMillis());
        if (!o.status().ok()) {
            return new Ack(o.status(), o.reason());
        }
        if (o.changed()) {
            notifyListeners(r.key(), List.of(), List.of(o.value()));
        }
        return Ack.OK;
    }

    // ------------------------------------------------------------------ listen

    private Ack register(InetSocketAddress from, Listen l, long now) {
        LinkedHashMap<ListenerKey, Long> forKey = listeners.computeIfAbsent(l.key(), k -> new LinkedHashMap<>());
        ListenerKey lk = new ListenerKey(from, l.token());
        if (!forKey.containsKey(lk)) {
            if (listenRegistrations >= MAX_LISTEN_REGISTRATIONS || forKey.size() >= MAX_LISTENERS_PER_KEY) {
                if (forKey.isEmpty()) {
                    listeners.remove(l.key());
                }
                return new Ack(Status.CAPACITY, "this node tracks the maximum number of listeners; retry later");
            }
            listenRegistrations++;
        }
        forKey.put(lk, now + Math.min(l.seconds(), 3600) * 1000L);
        return Ack.OK;
    }

    private void notifyListeners(NodeId key, List<DhtValue> values, List<DhtValue> removed) {
        for (ListenState s : listens.values()) {
            if (s.key.equals(key)) {
                s.deliver(values, removed);
            }
        }
        LinkedHashMap<ListenerKey, Long> forKey = listeners.get(key);
        if (forKey == null) {
            return;
        }
        long now = scheduler.nowMillis();
        Iterator<Map.Entry<ListenerKey, Long>> it = forKey.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<ListenerKey, Long> e = it.next();
            if (e.getValue() <= now) {
                it.remove();
                listenRegistrations--;
                continue;
            }
            rpc.call(e.getKey().address(), new Notify(key, e.getKey().token(), values, removed)).exceptionally(x -> null);
        }
        if (forKey.isEmpty()) {
            listeners.remove(key);
        }
    }

    /** One of this node's own listens: renews its registrations and reports changes once each. */
    private final class ListenState {
        final NodeId key;
        final long token;
        final Consumer<ValueEvent> listener;
        final Map<ValueId, DhtValue> known = new HashMap<>();
        Scheduler.Cancellable timer;
        boolean closed;

        ListenState(NodeId key, long token, Consumer<ValueEvent> listener) {
            this.key = key;
            this.token = token;
            this.listener = listener;
        }

        void renew() {
            if (closed || OverlayNode.this.closed) {
                return;
            }
            findNodes(key, config.replicas(), false).thenAccept(nodes -> {
                for (Contact c : nodes) {
                    rpc.call(addressOf(c), new Listen(key, token, config.listenSeconds())).exceptionally(e -> null);
                }
            });
            get(key).thenAccept(values -> {
                long now = scheduler.nowMillis();
                deliver(values, List.of());
                List<DhtValue> gone = new ArrayList<>();
                for (DhtValue v : known.values()) {
                    if (v.expiredAt(now)) {
                        gone.add(v);
                    }
                }
                deliver(List.of(), gone);
            });
            timer = scheduler.schedule(this::renew, config.listenSeconds() * 500L);
        }

        void deliver(List<DhtValue> values, List<DhtValue> removed) {
            if (closed) {
                return;
            }
            for (DhtValue v : values) {
                DhtValue prev = known.put(v.id(), v);
                if (!v.equals(prev)) {
                    fire(new ValueEvent(key, v, false));
                }
            }
            for (DhtValue v : removed) {
                if (known.remove(v.id()) != null) {
                    fire(new ValueEvent(key, v, true));
                }
            }
        }

        private void fire(ValueEvent e) {
            try {
                listener.accept(e);
            } catch (RuntimeException ex) {
                LOG.warn("a listener of key {} threw {}", key.shortHex(), ex.toString(), ex);
            }
        }

        void close() {
            closed = true;
            if (timer != null) {
                timer.cancel();
            }
            listens.remove(token);
        }
    }

    // ------------------------------------------------------------------ maintenance

    private void sweep() {
        long now = scheduler.nowMillis();
        store.sweep(now, (key, v) -> notifyListeners(key, List.of(), List.of(v)));
        published.values().forEach(m -> m.values().removeIf(v -> v.expiredAt(now)));
        published.values().removeIf(Map::isEmpty);
        listeners.values().forEach(m -> {
            int before = m.size();
            m.values().removeIf(t -> t <= now);
            listenRegistrations -= before - m.size();
        });
        listeners.values().removeIf(Map::isEmpty);
    }

    private void refreshBuckets() {
        if (!joined) {
            return;
        }
        for (NodeId target : routing.refreshTargets(scheduler.nowMillis(), config.refreshIntervalMillis(), random)) {
            findNodes(target, config.k(), false);
        }
    }

    /** Hands values over to nodes that joined near them, so a closer newcomer serves them at once. */
    private void handOver() {
        if (newContacts.isEmpty()) {
            return;
        }
        Set<NodeId> fresh = new HashSet<>();
        for (Contact c : newContacts) {
            fresh.add(c.id());
        }
        newContacts.clear();
        store.forEachKey(scheduler.nowMillis(), (key, values) -> {
            for (Contact c : replicaSet(key)) {
                if (fresh.contains(c.id())) {
                    for (DhtValue v : values) {
                        rpc.call(addressOf(c), new Put(key, v, true)).exceptionally(e -> null);
                    }
                }
            }
        });
    }

    /**
     * The nodes responsible for {@code key} as far as this node knows: the {@code replicas} closest,
     * this node counted among them. Replication and hand-over push to these only, so a value lives on
     * exactly the nodes a put or remove reaches (pushing to the replicas closest contacts besides this
     * node made one copy too many, which a remove never reached).
     */
    private List<Contact> replicaSet(NodeId key) {
        List<Contact> set = routing.closest(key, config.replicas());
        set.add(self);
        set.sort((a, b) -> key.compareDistance(a.id(), b.id()));
        return set.size() > config.replicas() ? set.subList(0, config.replicas()) : set;
    }

    /**
     * Periodic re-replication. Only the two nodes closest to a key push it to the other replicas, which
     * keeps traffic at 2 x replicas per value per interval while surviving the loss of either.
     */
    private void replicate() {
        if (!replicating.idle()) {
            // the previous round is still being sent: this node is behind, and a second round on top would only add load
            LOG.info("node {}: re-replication round skipped, {} pushes of the previous round still queued",
                    id.shortHex(), replicating.queued());
            return;
        }
        store.forEachKey(scheduler.nowMillis(), (key, values) -> {
            List<Contact> set = replicaSet(key);
            int rank = set.indexOf(self);
            if (rank < 0 || rank >= 2) {
                return;
            }
            for (Contact c : set) {
                if (c.equals(self)) {
                    continue;
                }
                for (DhtValue v : values) {
                    // the value may have expired or been replaced by the time its push leaves: it is sent as it was
                    replicating.add(() -> rpc.call(addressOf(c), new Put(key, v, true)).exceptionally(e -> null));
                }
            }
        });
    }

    /** The writer re-puts its live values, so they reach the nodes now responsible for them. */
    private void republish() {
        if (!republishing.idle()) {
            LOG.info("node {}: republish round skipped, {} values of the previous round still queued", id.shortHex(),
                    republishing.queued());
            return;
        }
        for (Map.Entry<NodeId, Map<ValueId, DhtValue>> e : published.entrySet()) {
            NodeId key = e.getKey();
            for (ValueId vid : List.copyOf(e.getValue().keySet())) {
                republishing.add(() -> {
                    // looked up when its turn comes: removed, replaced or expired meanwhile is not re-put as it was
                    Map<ValueId, DhtValue> mine = published.get(key);
                    DhtValue v = mine == null ? null : mine.get(vid);
                    if (v == null || v.expiredAt(scheduler.nowMillis())) {
                        return CompletableFuture.completedFuture(null);
                    }
                    return store(key, v, null, false, null).handle((r, x) -> {
                        Throwable cause = x instanceof CompletionException && x.getCause() != null ? x.getCause() : x;
                        if (cause instanceof DhtException d && d.status() == Status.REFUSED) {
                            // every replica refused it (removed by its owner elsewhere, or replaced by a newer
                            // version): re-putting it each round would only be refused again
                            Map<ValueId, DhtValue> now = published.get(key);
                            if (now != null && now.remove(vid, v) && now.isEmpty()) {
                                published.remove(key);
                            }
                            stats.republishDropped.incrementAndGet();
                        }
                        return null;
                    });
                });
            }
        }
    }

    /**
     * Before a graceful stop: pushes every value this node stores to the other nodes now responsible for its key
     * (the {@code replicas} closest it knows, itself excluded), so the copies it held live on at the next responsible
     * node. Completes, with the number of pushes a node accepted, when every push was answered or timed out.
     */
    public CompletableFuture<Integer> handOverAll() {
        return onThread(() -> {
            List<CompletableFuture<Ack>> acks = new ArrayList<>();
            store.forEachKey(scheduler.nowMillis(), (key, values) -> {
                for (Contact c : routing.closest(key, config.replicas())) {
                    for (DhtValue v : values) {
                        acks.add(request(c, new Put(key, v, true)));
                    }
                }
            });
            LOG.info("node {} hands {} copies over before stopping", id.shortHex(), acks.size());
            return CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new))
                    .thenApply(x -> (int) acks.stream().filter(f -> f.join().status().ok()).count());
        });
    }

    // ------------------------------------------------------------------ plumbing

    private <T> CompletableFuture<T> onThread(Supplier<CompletableFuture<T>> task) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("node " + id.shortHex() + " is stopped"));
        }
        CompletableFuture<T> out = new CompletableFuture<>();
        Runnable r = () -> {
            try {
                task.get().whenComplete((v, e) -> {
                    if (e != null) {
                        out.completeExceptionally(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
                    } else {
                        out.complete(v);
                    }
                });
            } catch (RuntimeException e) {
                out.completeExceptionally(e);
            }
        };
        if (scheduler.inThread()) {
            r.run();
        } else {
            scheduler.execute(r);
        }
        return out;
    }

    /** Stops the node: timers, pending calls and the link layer. Values it held live on at its replicas. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        scheduler.execute(() -> {
            closed = true;
            republishing.stop();
            replicating.stop();
            timers.forEach(Scheduler.Cancellable::cancel);
            timers.clear();
            listens.values().forEach(s -> {
                if (s.timer != null) {
                    s.timer.cancel();
                }
            });
            rpc.cancelAll(new IllegalStateException("node " + id.shortHex() + " stopped"));
            done.complete(null);
        });
        if (!scheduler.inThread()) {
            done.join();
        }
        links.close();
    }
}
