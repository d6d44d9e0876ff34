package org.p2psip.nat.ice;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.ice4j.TransportAddress;
import org.ice4j.ice.Agent;
import org.ice4j.Transport;
import org.ice4j.ice.CandidatePair;
import org.ice4j.ice.CandidatePairState;
import org.ice4j.ice.CandidateType;
import org.ice4j.ice.HostCandidate;
import org.ice4j.ice.RelayedCandidate;
import org.ice4j.ice.RemoteCandidate;
import org.ice4j.socket.IceSocketWrapper;
import org.ice4j.ice.Component;
import org.ice4j.ice.IceMediaStream;
import org.ice4j.ice.LocalCandidate;
import org.p2psip.nat.dtls.DtlsLinkLayer;
import org.p2psip.overlay.NodeId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets up overlay links with ICE (RFC 8445, through ice4j) for one node, in both roles.
 *
 * <p><b>Requester</b> ({@link #connect}): sends an {@link AttachMessage.Request} through {@link Signaling} with its
 * host candidates, trickles its server-reflexive (STUN), relayed (TURN) and port-mapped candidates as they are found
 * ({@link AttachMessage.Candidates}), applies the answer and runs the checks as the controlling agent. <b>Target</b>
 * (requests from {@link Signaling}): starts its checks as the controlled agent, answers at once and trickles too.
 * Without a trickling signaling both gather everything first. One {@link IceSession} per setup; trickled candidates
 * wait in a {@link TrickleInbox} until their session can take them. On both sides, when the agent completes, the
 * selected pair becomes an {@link IcePath} attached to the {@link DtlsLinkLayer}: the overlay then sends to
 * {@link IceLink#remote()} and its DTLS records, node-key authenticated, travel over exactly the selected 5-tuple.
 *
 * <p>DTLS roles: the target (controlled) opens the DTLS session as the client the moment it answers the first check
 * that carries USE-CANDIDATE ({@link LinkAgent}), before its own ICE completes; the requester (controlling) learns
 * the pair from that check's answer, which arrives just before the ClientHello, and waits for it as the server. So a
 * link is authenticated one round trip after the requester's checks instead of two. Setups take an agent prepared
 * ahead when one is ready ({@link PreparedSessions}): the Attach and its answer then carry the server-reflexive and
 * port-mapped candidates instead of trickling them after a STUN round trip.
 *
 * <p>Nomination ({@link DirectFirstNominator}): a direct pair is nominated aggressively (its first check carries
 * USE-CANDIDATE); a relayed pair only when every direct pair failed or {@link IceConfig#relayGrace()} passed without
 * a valid direct one, so a link is direct wherever the NATs allow hole punching and relayed only where they do not.
 */
public final class IceLinks implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IceLinks.class);
    static final String STREAM = "overlay";
    /** {@link #accepted()} keeps the most recent answers only. */
    private static final int MAX_ACCEPTED_KEPT = 64;
    /**
     * Attach requests answered at once; more are refused. Each costs an ICE agent (threads, sockets, a TURN
     * allocation) until its checks end, and signaling is not trusted.
     */
    static final int MAX_CONCURRENT_ANSWERS = 16;
    /** Sessions (or early trickles waiting for their Attach) that trickled candidates are kept for at most. */
    static final int MAX_INBOXES = 64;
    /** Set to {@code false} to gather every candidate before the Attach message (no trickle), e.g. to compare. */
    public static final String TRICKLE_PROPERTY = "p2psip.ice.trickle";
    /**
     * How long the controlling side waits for the controlled side's DTLS ClientHello over a new link before it opens
     * the session itself. The controlled side sends it as soon as it answered the nominated check, so it arrives
     * about when the controlling side's ICE completes; the wait only matters when something went wrong.
     */
    static final long PEER_OPENS_WITHIN_MILLIS = 2_000;
    /** A node that set up no ICE link for this long frees its prepared agent (and prepares again on the next setup). */
    static final long PREPARED_IDLE_MILLIS = 10 * 60_000L;
    /** Set to {@code false} for regular nomination only (a second check on the chosen pair), e.g. to compare. */
    public static final String AGGRESSIVE_PROPERTY = "p2psip.ice.aggressive";
    /** How a refusal for glare (both ends attaching at once, see {@link #connect}) starts. */
    static final String GLARE = "glare:";
    /**
     * Set to {@code false} to let whichever side sends first open the DTLS session, after ICE completed on both sides
     * (as before the controlled side opened it early), e.g. to compare.
     */
    public static final String CONTROLLED_OPENS_PROPERTY = "p2psip.ice.controlledOpens";

    private final NodeId self;
    private final DtlsLinkLayer layer;
    private final Signaling signaling;
    /** Read once per setup; {@link #config(IceConfig)} changes it for later setups (a relay found later). */
    private volatile IceConfig config;
    private final PortMappedCandidates portMapping;
    private final ExecutorService executor;
    private final java.util.concurrent.ScheduledExecutorService timer;
    /** An agent gathered ahead for the next setup, or null (no trickle, or {@link IceConfig#preparedMaxAge()} 0). */
    private final PreparedSessions<IceSession> prepared;
    private final SecureRandom random = new SecureRandom();
    private final CopyOnWriteArrayList<IceLink> links = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<CompletableFuture<IceLink>> accepted = new CopyOnWriteArrayList<>();
    private final AtomicInteger answering = new AtomicInteger();
    /** Trickled candidates by (peer, transaction): for sessions running here, or arrived before their Attach. */
    private final ConcurrentHashMap<SessionKey, TrickleInbox> inboxes = new ConcurrentHashMap<>();
    private final AtomicLong trickleDropped = new AtomicLong();
    /** Setups in progress per peer, this node's own (controlling) and those it answers (controlled); under itself. */
    private final Map<NodeId, CompletableFuture<IceLink>> connecting = new HashMap<>();
    private final Map<NodeId, CompletableFuture<IceLink>> answeringFor = new HashMap<>();
    private final AtomicLong glareRefused = new AtomicLong();
    private final AtomicLong glareYielded = new AtomicLong();
    private final AtomicLong setupsShared = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private volatile boolean closed;
    /** Trickle candidates when the signaling can (system property {@value #TRICKLE_PROPERTY}, default true). */
    private final boolean trickle = !"false".equals(System.getProperty(TRICKLE_PROPERTY));
    /** Nominate direct pairs aggressively (system property {@value #AGGRESSIVE_PROPERTY}, default true). */
    private final boolean aggressive = !"false".equals(System.getProperty(AGGRESSIVE_PROPERTY));
    /** The controlled side opens DTLS early (system property {@value #CONTROLLED_OPENS_PROPERTY}, default true). */
    private final boolean controlledOpens = !"false".equals(System.getProperty(CONTROLLED_OPENS_PROPERTY));

    public IceLinks(NodeId self, DtlsLinkLayer layer, Signaling signaling, IceConfig config) {
        this(self, layer, signaling, config, null);
    }

    /**
     * As {@link #IceLinks(NodeId, DtlsLinkLayer, Signaling, IceConfig)}, and each agent's host port is also mapped at
     * the router through {@code portMapping} (UPnP-IGD, NAT-PMP, PCP), whose public address is advertised as a
     * server-reflexive candidate.
     *
     * @param portMapping null for none
     */
    public IceLinks(NodeId self, DtlsLinkLayer layer, Signaling signaling, IceConfig config,
            PortMappedCandidates portMapping) {
        Ice4jSettings.apply();
        this.portMapping = portMapping;
        this.self = self;
        this.layer = layer;
        this.signaling = signaling;
        this.config = config;
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "ice-links-" + self.shortHex() + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ice-nominate-" + self.shortHex());
            t.setDaemon(true);
            return t;
        });
        this.prepared = trickle && signaling.supportsTrickle() && !config.preparedMaxAge().isZero()
                ? new PreparedSessions<>(this::prepareSession, this::freeUnused, executor, timer,
                        System::currentTimeMillis, config.preparedMaxAge().toMillis(), PREPARED_IDLE_MILLIS)
                : null;
        signaling.serve(this::onRequest);
        signaling.onCandidates(this::onCandidates);
    }

    /**
     * Attach requests refused because this node was attaching to the requester at the same moment and has the lower
     * id: its own Attach carries the one link (see {@link #connect}).
     */
    public long glareRefused() {
        return glareRefused.get();
    }

    /**
     * Own setups that gave way to the peer's Attach when both attached at the same moment (this node has the higher
     * id): they end with the link the peer set up.
     */
    public long glareYielded() {
        return glareYielded.get();
    }

    /** {@link #connect} calls that took a setup already in progress with the same peer (either role) instead of a new one. */
    public long setupsShared() {
        return setupsShared.get();
    }

    /**
     * The address the overlay reaches {@code peer} at over an open link whose DTLS session authenticated exactly that
     * peer (the newest such link), or null. Any thread.
     */
    public InetSocketAddress pathTo(NodeId peer) {
        for (int i = links.size() - 1; i >= 0; i--) {
            IceLink l;
            try {
                l = links.get(i);
            } catch (IndexOutOfBoundsException e) {
                continue; // a link closed meanwhile
            }
            if (l.peer().equals(peer) && l.authenticated()) {
                return l.remote();
            }
        }
        return null;
    }

    /** The settings setups start with now. */
    public IceConfig config() {
        return config;
    }

    /**
     * Changes the settings of later setups in both roles (those under way keep theirs): e.g. the TURN relay and
     * credentials a node found in the service directory after it started. Any thread.
     */
    public void config(IceConfig config) {
        this.config = java.util.Objects.requireNonNull(config, "config");
        if (prepared != null) {
            prepared.discard(); // gathered with the old settings (e.g. without the relay)
        }
    }

    /** Opens a trickling session and gathers its server-reflexive and port-mapped candidates now. */
    private IceSession prepareSession() {
        IceSession s = IceSession.open(config, true, portMapping);
        try {
            s.prepareAhead();
        } catch (RuntimeException e) {
            s.free();
            throw e;
        }
        return s;
    }

    /**
     * Frees a prepared session that was not used: in the background (a setup or the timer must not wait for ice4j's
     * shutdown), or at once when closing (the executor is about to stop).
     */
    private void freeUnused(IceSession s) {
        if (closed) {
            s.free();
        } else {
            freeLater(s);
        }
    }

    /** The session for a setup that began at {@code startNanos}: the prepared one if ready, else a new one. */
    private IceSession session(boolean controlling, boolean trickle, long startNanos) {
        IceSession s = trickle && prepared != null ? prepared.take() : null;
        if (s == null) {
            s = IceSession.open(config, trickle, portMapping);
        }
        s.begin(controlling, startNanos);
        return s;
    }

    /** Trickled candidates dropped: no such session, too many early ones, or more than a session takes. */
    public long trickleDropped() {
        return trickleDropped.get();
    }

    /**
     * Setups tried a second time because the first ICE run ended without a link (checks failed or timed out); each
     * is logged with the state of the check list.
     */
    public long retries() {
        return retries.get();
    }

    private final CopyOnWriteArrayList<java.util.function.Consumer<IceLink>> closeListeners = new CopyOnWriteArrayList<>();

    /**
     * Calls {@code listener} when a link (either role) closes, on the closing thread: the overlay forgets the link's
     * address then ({@code OverlayNode.linkClosed}), or it would keep routing to a path that no longer exists.
     */
    public void onClosed(java.util.function.Consumer<IceLink> listener) {
        closeListeners.add(listener);
    }

    private void closed(IceLink link) {
        links.remove(link);
        for (java.util.function.Consumer<IceLink> l : closeListeners) {
            try {
                l.accept(link);
            } catch (RuntimeException e) {
                LOG.warn("{}: a link close listener failed: {}", self.shortHex(), e.toString());
            }
        }
    }

    /** Open links, in both roles (a closed link leaves the list). */
    public List<IceLink> links() {
        return new ArrayList<>(links);
    }

    /**
     * The most recent Attach requests this node answered (at most 64): each completes with the link when its checks
     * succeed, or fails.
     */
    public List<CompletableFuture<IceLink>> accepted() {
        return new ArrayList<>(accepted);
    }

    /**
     * Sets up a link to {@code target}: Attach through signaling, then ICE checks as the controlling agent. When the
     * signaling can trickle, the Attach carries the host candidates and the others follow as they are found. An ICE
     * run that ends without a link (not a refusal) is tried once more with fresh candidates, and counted
     * ({@link #retries()}).
     *
     * <p>One setup per pair of nodes: while a setup with {@code target} is in progress, in either role, this returns
     * it ({@link #setupsShared()}). When both attach to each other at the same moment (each Attach reaches the other
     * while its own is under way), the node with the lower id refuses the other's Attach ({@link #glareRefused()}) and
     * the one with the higher id answers it, its own setup then ending with that link ({@link #glareYielded()}): one
     * ICE session, one link, whatever the timing. A link already open is not looked at: callers that want at most one
     * check {@link #links()} first.
     */
    public CompletableFuture<IceLink> connect(NodeId target) {
        CompletableFuture<IceLink> result;
        synchronized (connecting) {
            CompletableFuture<IceLink> running = connecting.get(target);
            if (running == null) {
                running = answeringFor.get(target);
            }
            if (running != null) {
                setupsShared.incrementAndGet();
                LOG.debug("{}: a link with {} is being set up already; waiting for it", self.shortHex(), target.shortHex());
                return running.thenApply(l -> l); // a caller that cancels its future leaves the setup alone
            }
            result = new CompletableFuture<>();
            connecting.put(target, result);
        }
        result.whenComplete((l, e) -> {
            synchronized (connecting) {
                connecting.remove(target, result);
            }
        });
        long start = System.nanoTime();
        try {
            CompletableFuture.supplyAsync(() -> {
                try {
                    return attempt(target, start);
                } catch (GlareRefused g) {
                    IceLink theirs = theirLink(target, config.signalingTimeout().toMillis());
                    if (theirs != null) {
                        return theirs;
                    }
                    throw new CompletionException(new IOException("node " + target.shortHex() + " refused the attach ("
                            + g.getMessage() + ") but its own Attach did not arrive"));
                } catch (IceRunFailed first) {
                    if (closed) {
                        throw new CompletionException(first.getCause());
                    }
                    IceLink theirs = theirLink(target, 0);
                    if (theirs != null) {
                        return theirs;
                    }
                    retries.incrementAndGet();
                    LOG.warn("{}: ICE with {} ended without a link ({}); trying once more with fresh candidates",
                            self.shortHex(), target.shortHex(), first.getCause().getMessage());
                    try {
                        return attempt(target, start);
                    } catch (IceRunFailed second) {
                        throw new CompletionException(second.getCause());
                    }
                }
            }, executor).whenComplete((l, e) -> {
                replenish();
                if (e != null) {
                    result.completeExceptionally(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
                } else {
                    result.complete(l);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            result.completeExceptionally(new IOException("node is closing", e));
        }
        return result;
    }

    /**
     * The link {@code peer} is setting up with this node (an Attach from it being answered), waited for; null when there
     * is none after {@code waitMillis} (a peer's Attach may arrive after its refusal of ours: both travel the overlay).
     */
    private IceLink theirLink(NodeId peer, long waitMillis) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        CompletableFuture<IceLink> theirs;
        while (true) {
            synchronized (connecting) {
                theirs = answeringFor.get(peer);
            }
            if (theirs != null || System.nanoTime() >= end || closed) {
                break;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        if (theirs == null) {
            return null;
        }
        glareYielded.incrementAndGet();
        LOG.info("{}: {} is attaching to this node at the same moment; using its link", self.shortHex(), peer.shortHex());
        try {
            return theirs.get(config.checkTimeout().toMillis() + config.signalingTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompletionException(e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new CompletionException(e.getCause());
        } catch (TimeoutException e) {
            throw new CompletionException(new IOException("the link " + peer.shortHex() + " set up with this node did "
                    + "not complete", e));
        }
    }

    /** The peer refused this node's Attach because it attaches to this node at the same moment (it has the lower id). */
    private static final class GlareRefused extends RuntimeException {
        GlareRefused(String reason) {
            super(reason);
        }
    }

    /** A setup ended: the next one gets an agent prepared now (not during the setup, see PreparedSessions). */
    private void replenish() {
        if (prepared != null) {
            prepared.replenish();
        }
    }

    /** A run of the checks that ended without a link (as opposed to a refusal or a signaling failure). */
    private static final class IceRunFailed extends RuntimeException {
        IceRunFailed(IOException cause) {
            super(cause);
        }
    }

    private IceLink attempt(NodeId target, long start) {
        IceConfig config = this.config;
        boolean trickle = this.trickle && signaling.supportsTrickle();
        IceSession s = session(true, trickle, start);
        DirectFirstNominator.install(s.agent, s.stream, timer, config.relayGrace().toMillis(), aggressive,
                config.turnServer() == null ? null : config.turnServer().getAddress());
        long tx = random.nextLong();
        SessionKey key = new SessionKey(target, tx);
        TrickleInbox inbox = new TrickleInbox(System.nanoTime());
        inboxes.put(key, inbox);
        try {
            AttachMessage.Request request = new AttachMessage.Request(self, target, tx, s.localParameters());
            LOG.info("{}: attach to {} with {}", self.shortHex(), target.shortHex(), request.ice());
            CompletableFuture<AttachMessage> pending = signaling.attach(request);
            s.attachSent = s.sinceStart();
            if (trickle) {
                executor.execute(() -> s.trickleLocal(c -> signaling.trickle(
                        new AttachMessage.Candidates(self, target, tx, c)), executor));
            }
            AttachMessage reply;
            try {
                reply = pending.get(config.signalingTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } finally {
                pending.cancel(false); // no-op when answered; otherwise the signaling forgets the transaction
            }
            if (reply instanceof AttachMessage.Refused r) {
                if (r.reason().startsWith(GLARE)) {
                    throw new GlareRefused(r.reason());
                }
                throw new IOException("node " + target.shortHex() + " refused the attach: " + r.reason());
            }
            AttachMessage.Answer answer = (AttachMessage.Answer) reply;
            if (answer.transaction() != tx || !answer.from().equals(target)) {
                throw new IOException("the attach answer does not match the request (transaction or sender)");
            }
            s.answer = s.sinceStart();
            s.setRemote(answer.ice());
            s.startChecks();
            inbox.attach(s, trickleDropped);
            try {
                s.awaitCompletion(config.checkTimeout().toMillis());
            } catch (TimeoutException e) {
                String why = s.describe();
                freeLater(s);
                throw new IceRunFailed(new IOException("no ICE completion with " + target.shortHex() + " within "
                        + config.checkTimeout() + ": " + why, e));
            } catch (IOException e) {
                freeLater(s);
                throw new IceRunFailed(e);
            }
            return finish(s, target, true, start);
        } catch (IceRunFailed e) {
            throw e;
        } catch (GlareRefused e) {
            freeLater(s);
            throw e;
        } catch (TimeoutException e) {
            String why = s.describe();
            freeLater(s);
            throw new CompletionException(new IOException("no attach answer from " + target.shortHex() + " within "
                    + config.signalingTimeout() + ": " + why, e));
        } catch (Exception e) {
            freeLater(s);
            throw e instanceof CompletionException ce ? ce : new CompletionException(e);
        } finally {
            inboxes.remove(key, inbox);
        }
    }

    /**
     * Frees a failed session's agent on another thread: the caller (a setup, perhaps about to retry) must not wait
     * for ice4j's shutdown of the agent's threads and sockets.
     */
    private void freeLater(IceSession s) {
        try {
            executor.execute(s::free);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            s.free();
        }
    }

    /** Trickled candidates from signaling: to their session, or kept a while if their Attach is still on its way. */
    private void onCandidates(AttachMessage.Candidates c) {
        if (!c.to().equals(self)) {
            trickleDropped.addAndGet(c.candidates().size());
            return;
        }
        SessionKey key = new SessionKey(c.from(), c.transaction());
        TrickleInbox inbox = inboxes.get(key);
        if (inbox == null) {
            long now = System.nanoTime();
            inboxes.entrySet().removeIf(e -> e.getValue().expired(now));
            if (inboxes.size() >= MAX_INBOXES) {
                trickleDropped.addAndGet(c.candidates().size());
                LOG.debug("{}: dropped {} trickled candidates from {}: too many sessions pending", self.shortHex(),
                        c.candidates().size(), c.from().shortHex());
                return;
            }
            inbox = inboxes.computeIfAbsent(key, k -> new TrickleInbox(now));
        }
        inbox.add(c.candidates(), trickleDropped);
    }

    private CompletableFuture<AttachMessage> onRequest(AttachMessage.Request request) {
        long start = System.nanoTime();
        if (closed) {
            return CompletableFuture.completedFuture(new AttachMessage.Refused(self, request.from(), request.transaction(),
                    "node is closing"));
        }
        if (answering.incrementAndGet() > MAX_CONCURRENT_ANSWERS) {
            answering.decrementAndGet();
            return CompletableFuture.completedFuture(new AttachMessage.Refused(self, request.from(), request.transaction(),
                    "busy: " + MAX_CONCURRENT_ANSWERS + " attaches are being set up here; try again in a few seconds"));
        }
        CompletableFuture<IceLink> link = new CompletableFuture<>();
        NodeId from = request.from();
        synchronized (connecting) {
            // both ends attach at once: the lower id's Attach carries the one link, the higher id answers it
            if (connecting.containsKey(from) && self.compareTo(from) < 0) {
                answering.decrementAndGet();
                glareRefused.incrementAndGet();
                LOG.info("{}: {} attaches while this node attaches to it; this node's Attach (lower id) carries the link",
                        self.shortHex(), from.shortHex());
                return CompletableFuture.completedFuture(new AttachMessage.Refused(self, from, request.transaction(),
                        GLARE + " this node is attaching to you at the same moment and has the lower id; answer its Attach"));
            }
            answeringFor.put(from, link); // a later Attach from the same peer (its retry) replaces an earlier one
        }
        link.whenComplete((l, e) -> {
            answering.decrementAndGet();
            replenish();
            synchronized (connecting) {
                answeringFor.remove(from, link);
            }
        });
        accepted.add(link);
        while (accepted.size() > MAX_ACCEPTED_KEPT) {
            accepted.remove(0);
        }
        boolean trickle = this.trickle && signaling.supportsTrickle();
        SessionKey key = new SessionKey(request.from(), request.transaction());
        TrickleInbox inbox = inboxes.computeIfAbsent(key, k -> new TrickleInbox(System.nanoTime()));
        link.whenComplete((l, e) -> inboxes.remove(key, inbox));
        IceConfig config = this.config;
        return CompletableFuture.supplyAsync(() -> {
            IceSession s = null;
            try {
                s = session(false, trickle, start);
                IceSession opened = s;
                if (controlledOpens) {
                    opened.onNominatedCheck((remote, local) -> openEarly(opened, request.from(), remote, local));
                }
                s.setRemote(request.ice());
                s.startChecks();
                inbox.attach(s, trickleDropped);
            } catch (Exception e) {
                if (s != null) {
                    endEarly(s);
                    freeLater(s);
                }
                link.completeExceptionally(e);
                LOG.warn("{}: cannot answer the attach from {}: {}", self.shortHex(), request.from().shortHex(), e.toString());
                return new AttachMessage.Refused(self, request.from(), request.transaction(),
                        "candidate gathering failed at the target: " + e.getMessage());
            }
            IceSession session = s;
            AttachMessage.Answer answer = new AttachMessage.Answer(self, request.from(), request.transaction(),
                    session.localParameters());
            session.attachSent = session.sinceStart();
            session.answer = session.attachSent;
            if (trickle) {
                executor.execute(() -> session.trickleLocal(c -> signaling.trickle(
                        new AttachMessage.Candidates(self, request.from(), request.transaction(), c)), executor));
            }
            executor.execute(() -> {
                try {
                    session.awaitCompletion(config.checkTimeout().toMillis() + config.signalingTimeout().toMillis());
                    link.complete(finish(session, request.from(), false, start));
                } catch (Exception e) {
                    String why = session.describe();
                    endEarly(session);
                    freeLater(session);
                    LOG.info("{}: ICE with {} failed: {} ({})", self.shortHex(), request.from().shortHex(), e.toString(),
                            why);
                    link.completeExceptionally(e);
                }
            });
            return answer;
        }, executor);
    }

    /**
     * The controlled side answered the first check that carries USE-CANDIDATE ({@link LinkAgent}): the controlling
     * side's ICE completes when that answer arrives. So this side opens the DTLS session over that pair now, as the
     * client: its ClientHello follows the answer and the handshake ends one round trip after the controlling side's
     * checks (the controlling side waits for it, {@link IcePath.Opening#PEER}). ice4j would select the pair only when
     * this side's own triggered check on it succeeds, a round trip later. Host candidates only: a check that arrived
     * through this side's TURN allocation means a relayed pair, which ICE completes at once anyway.
     */
    private void openEarly(IceSession s, NodeId peer, InetSocketAddress remote, LocalCandidate local) {
        if (!(local instanceof HostCandidate host)) {
            return;
        }
        try {
            executor.execute(() -> {
                IcePath path;
                synchronized (s.pathLock) {
                    org.ice4j.ice.ComponentSocket cs = s.component.getComponentSocket();
                    if (s.ended || s.earlyPath != null || closed || cs == null) {
                        return;
                    }
                    // the component socket hands the application only datagrams from addresses of succeeded pairs;
                    // the peer's DTLS records may come before this side's own check on the pair succeeds
                    RemoteCandidate peerAddress = new RemoteCandidate(new TransportAddress(remote, Transport.UDP),
                            s.component, CandidateType.PEER_REFLEXIVE_CANDIDATE, "early", 0, null);
                    cs.propertyChange(new java.beans.PropertyChangeEvent(new CandidatePair(host, peerAddress),
                            IceMediaStream.PROPERTY_PAIR_STATE_CHANGED, CandidatePairState.IN_PROGRESS,
                            CandidatePairState.SUCCEEDED));
                    path = new IcePath(s.component.getSocket(), host.getCandidateIceSocketWrapper(), remote,
                            s.rttEstimateMillis(null));
                    s.earlyPath = path;
                }
                LOG.debug("{}: opening DTLS with {} over {} before ICE completes here", self.shortHex(),
                        peer.shortHex(), remote);
                path.start(layer, peer.shortHex(), IcePath.Opening.THIS_SIDE, 0);
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    /** A setup ended without a link: closes the path opened early, if any, and lets none be opened. */
    private void endEarly(IceSession s) {
        IcePath early;
        synchronized (s.pathLock) {
            s.ended = true;
            early = s.earlyPath;
            s.earlyPath = null;
        }
        if (early != null) {
            early.close();
            layer.detachPath(early);
        }
    }

    private IceLink finish(IceSession s, NodeId peer, boolean controlling, long startNanos) throws IOException {
        CandidatePair pair = s.component.getSelectedPair();
        if (pair == null) {
            throw new IOException("ICE completed without a selected pair");
        }
        org.ice4j.ice.ComponentSocket cs = s.component.getComponentSocket();
        if (cs != null) { // now the component socket sends over the selected pair (see IceSession.open)
            cs.propertyChange(new java.beans.PropertyChangeEvent(pair, IceMediaStream.PROPERTY_PAIR_NOMINATED, false,
                    true));
        }
        TransportAddress remote = pair.getRemoteCandidate().getTransportAddress();
        InetSocketAddress remoteAddress = new InetSocketAddress(remote.getAddress(), remote.getPort());
        LocalCandidate base = pair.getLocalCandidate().getBase() != null ? pair.getLocalCandidate().getBase()
                : pair.getLocalCandidate();
        IceSocketWrapper sendVia = base instanceof HostCandidate h ? h.getCandidateIceSocketWrapper()
                : base instanceof RelayedCandidate r ? r.getCandidateIceSocketWrapper() : null;
        if (sendVia == null) {
            throw new IOException("the selected pair's local candidate " + base + " has no socket to send from");
        }
        IcePath early;
        synchronized (s.pathLock) {
            s.ended = true;
            early = s.earlyPath;
        }
        IcePath path;
        boolean started;
        if (early != null && early.remote().equals(remoteAddress) && early.sendsThrough(sendVia)) {
            path = early; // the DTLS session opened over it already
            started = true;
        } else {
            if (early != null) {
                LOG.info("{}: ICE selected {} with {}, not the pair DTLS was opened over early ({}); reopening",
                        self.shortHex(), pair.toShortString(), peer.shortHex(), early.remote());
                early.close();
                layer.detachPath(early);
            }
            path = new IcePath(s.component.getSocket(), sendVia, remoteAddress, s.rttEstimateMillis(pair));
            started = false;
        }
        TransportAddress local = pair.getLocalCandidate().getTransportAddress();
        IceLink link = new IceLink(peer, controlling, type(pair.getLocalCandidate().getType()),
                type(pair.getRemoteCandidate().getType()), new InetSocketAddress(local.getAddress(), local.getPort()),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), s.phases(), s.agent, path, layer,
                s::release, this::closed);
        if (closed) {
            link.close();
            throw new IOException("closed");
        }
        if (!started) {
            // the controlled side (it answered the Attach) opens the DTLS session; the controlling side waits for it
            IcePath.Opening opening = !controlledOpens ? IcePath.Opening.FIRST_SENDER
                    : controlling ? IcePath.Opening.PEER : IcePath.Opening.THIS_SIDE;
            path.start(layer, peer.shortHex(), opening, PEER_OPENS_WITHIN_MILLIS);
        }
        links.add(link);
        LOG.info("{}: {}", self.shortHex(), link);
        return link;
    }

    /**
     * Frees an agent, closing its relayed candidates' sockets first. {@code Agent.free()} alone can deadlock in ice4j
     * (seen as the "rare ICE stall", with a thread dump): {@code StunStack.shutDown} holds the NetAccessManager's
     * connector map while it closes a relayed socket, whose close waits for the socket's send queue, which the
     * socket's send thread holds while it waits for that same map to send a TURN Send indication. Closed first, out
     * of that lock, the relayed socket waits only for the send in progress, and {@code free()} then finds it closed.
     */
    static void freeAgent(Agent agent) {
        for (IceMediaStream stream : agent.getStreams()) {
            for (Component component : stream.getComponents()) {
                for (LocalCandidate c : component.getLocalCandidates()) {
                    if (c instanceof org.ice4j.ice.RelayedCandidate relayed) {
                        try {
                            relayed.getCandidateIceSocketWrapper().close();
                        } catch (RuntimeException e) {
                            LOG.debug("closing relayed candidate {} failed: {}", c.getTransportAddress(), e.toString());
                        }
                    }
                }
            }
        }
        agent.free();
    }

    static IceCandidate.Type type(CandidateType t) {
        return switch (t) {
            case HOST_CANDIDATE, LOCAL_CANDIDATE -> IceCandidate.Type.HOST;
            case SERVER_REFLEXIVE_CANDIDATE, STUN_CANDIDATE -> IceCandidate.Type.SERVER_REFLEXIVE;
            case PEER_REFLEXIVE_CANDIDATE -> IceCandidate.Type.PEER_REFLEXIVE;
            case RELAYED_CANDIDATE -> IceCandidate.Type.RELAYED;
        };
    }

    static CandidateType type(IceCandidate.Type t) {
        return switch (t) {
            case HOST -> CandidateType.HOST_CANDIDATE;
            case SERVER_REFLEXIVE -> CandidateType.SERVER_REFLEXIVE_CANDIDATE;
            case PEER_REFLEXIVE -> CandidateType.PEER_REFLEXIVE_CANDIDATE;
            case RELAYED -> CandidateType.RELAYED_CANDIDATE;
        };
    }

    /** Which session trickled candidates belong to: the peer and the Attach transaction. */
    private record SessionKey(NodeId peer, long transaction) {
    }

    @Override
    public void close() {
        closed = true;
        for (IceLink l : links) {
            l.close();
        }
        links.clear();
        if (prepared != null) {
            prepared.close();
        }
        executor.shutdownNow();
        timer.shutdownNow();
    }
}
