package org.p2psip.nat.ice;

import java.beans.PropertyChangeListener;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
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
import org.ice4j.Transport;
import org.ice4j.TransportAddress;
import org.ice4j.ice.Agent;
import org.ice4j.ice.CandidatePair;
import org.ice4j.ice.CandidateType;
import org.ice4j.ice.Component;
import org.ice4j.ice.IceMediaStream;
import org.ice4j.ice.IceProcessingState;
import org.ice4j.ice.KeepAliveStrategy;
import org.ice4j.ice.LocalCandidate;
import org.ice4j.ice.NominationStrategy;
import org.ice4j.ice.RemoteCandidate;
import org.ice4j.ice.harvest.StunCandidateHarvester;
import org.ice4j.ice.harvest.TurnCandidateHarvester;
import org.ice4j.security.LongTermCredential;
import org.p2psip.nat.dtls.DtlsLinkLayer;
import org.p2psip.overlay.NodeId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets up overlay links with ICE (RFC 8445, through ice4j) for one node, in both roles.
 *
 * <p><b>Requester</b> ({@link #connect}): gathers host, server-reflexive (STUN) and relayed (TURN) candidates, sends
 * an {@link AttachMessage.Request} through {@link Signaling}, applies the answer and runs the checks as the
 * controlling agent. <b>Target</b> (requests from {@link Signaling}): gathers, starts its checks as the controlled
 * agent and answers. On both sides, when the agent completes, the selected pair becomes an {@link IcePath} attached
 * to the {@link DtlsLinkLayer}: the overlay then sends to {@link IceLink#remote()} and its DTLS records, node-key
 * authenticated, travel over exactly the selected 5-tuple.
 *
 * <p>Nomination ({@link DirectFirstNominator}): a direct pair is nominated as soon as it is valid; a relayed pair only
 * when every direct pair failed or {@link IceConfig#relayGrace()} passed without a valid direct one, so a link is
 * direct wherever the NATs allow hole punching and relayed only where they do not.
 */
public final class IceLinks implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IceLinks.class);
    private static final String STREAM = "overlay";
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
    /** Set to {@code false} for regular nomination only (a second check on the chosen pair), e.g. to compare. */
    public static final String AGGRESSIVE_PROPERTY = "p2psip.ice.aggressive";
    /** How long trickled candidates wait for the Attach they belong to. */
    private static final long EARLY_TRICKLE_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final NodeId self;
    private final DtlsLinkLayer layer;
    private final Signaling signaling;
    private final IceConfig config;
    private final PortMappedCandidates portMapping;
    private final ExecutorService executor;
    private final java.util.concurrent.ScheduledExecutorService timer;
    private final SecureRandom random = new SecureRandom();
    private final CopyOnWriteArrayList<IceLink> links = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<CompletableFuture<IceLink>> accepted = new CopyOnWriteArrayList<>();
    private final AtomicInteger answering = new AtomicInteger();
    /** Trickled candidates by (peer, transaction): for sessions running here, or arrived before their Attach. */
    private final ConcurrentHashMap<SessionKey, Inbox> inboxes = new ConcurrentHashMap<>();
    private final AtomicLong trickleDropped = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private volatile boolean closed;
    /** Trickle candidates when the signaling can (system property {@value #TRICKLE_PROPERTY}, default true). */
    private final boolean trickle = !"false".equals(System.getProperty(TRICKLE_PROPERTY));
    /** Nominate direct pairs aggressively (system property {@value #AGGRESSIVE_PROPERTY}, default true). */
    private final boolean aggressive = !"false".equals(System.getProperty(AGGRESSIVE_PROPERTY));

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
        signaling.serve(this::onRequest);
        signaling.onCandidates(this::onCandidates);
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
     */
    public CompletableFuture<IceLink> connect(NodeId target) {
        long start = System.nanoTime();
        return CompletableFuture.supplyAsync(() -> {
            try {
                return attempt(target, start);
            } catch (IceRunFailed first) {
                if (closed) {
                    throw new CompletionException(first.getCause());
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
        }, executor);
    }

    /** A run of the checks that ended without a link (as opposed to a refusal or a signaling failure). */
    private static final class IceRunFailed extends RuntimeException {
        IceRunFailed(IOException cause) {
            super(cause);
        }
    }

    private IceLink attempt(NodeId target, long start) {
        boolean trickle = this.trickle && signaling.supportsTrickle();
        Session s = Session.open(true, config, trickle, start, portMapping);
        DirectFirstNominator.install(s.agent, s.stream, timer, config.relayGrace().toMillis(), aggressive);
        long tx = random.nextLong();
        SessionKey key = new SessionKey(target, tx);
        Inbox inbox = new Inbox(System.nanoTime());
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
    private void freeLater(Session s) {
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
        Inbox inbox = inboxes.get(key);
        if (inbox == null) {
            long now = System.nanoTime();
            inboxes.entrySet().removeIf(e -> e.getValue().expired(now));
            if (inboxes.size() >= MAX_INBOXES) {
                trickleDropped.addAndGet(c.candidates().size());
                LOG.debug("{}: dropped {} trickled candidates from {}: too many sessions pending", self.shortHex(),
                        c.candidates().size(), c.from().shortHex());
                return;
            }
            inbox = inboxes.computeIfAbsent(key, k -> new Inbox(now));
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
        link.whenComplete((l, e) -> answering.decrementAndGet());
        accepted.add(link);
        while (accepted.size() > MAX_ACCEPTED_KEPT) {
            accepted.remove(0);
        }
        boolean trickle = this.trickle && signaling.supportsTrickle();
        SessionKey key = new SessionKey(request.from(), request.transaction());
        Inbox inbox = inboxes.computeIfAbsent(key, k -> new Inbox(System.nanoTime()));
        link.whenComplete((l, e) -> inboxes.remove(key, inbox));
        return CompletableFuture.supplyAsync(() -> {
            Session s = null;
            try {
                s = Session.open(false, config, trickle, start, portMapping);
                s.setRemote(request.ice());
                s.startChecks();
                inbox.attach(s, trickleDropped);
            } catch (Exception e) {
                if (s != null) {
                    freeLater(s);
                }
                link.completeExceptionally(e);
                LOG.warn("{}: cannot answer the attach from {}: {}", self.shortHex(), request.from().shortHex(), e.toString());
                return new AttachMessage.Refused(self, request.from(), request.transaction(),
                        "candidate gathering failed at the target: " + e.getMessage());
            }
            Session session = s;
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
                    freeLater(session);
                    LOG.info("{}: ICE with {} failed: {} ({})", self.shortHex(), request.from().shortHex(), e.toString(),
                            why);
                    link.completeExceptionally(e);
                }
            });
            return answer;
        }, executor);
    }

    private IceLink finish(Session s, NodeId peer, boolean controlling, long startNanos) throws IOException {
        CandidatePair pair = s.component.getSelectedPair();
        if (pair == null) {
            throw new IOException("ICE completed without a selected pair");
        }
        org.ice4j.ice.ComponentSocket cs = s.component.getComponentSocket();
        if (cs != null) { // now the component socket sends over the selected pair (see Session.open)
            cs.propertyChange(new java.beans.PropertyChangeEvent(pair, IceMediaStream.PROPERTY_PAIR_NOMINATED, false,
                    true));
        }
        TransportAddress remote = pair.getRemoteCandidate().getTransportAddress();
        InetSocketAddress remoteAddress = new InetSocketAddress(remote.getAddress(), remote.getPort());
        IcePath path = new IcePath(s.component.getSocket(), remoteAddress);
        TransportAddress local = pair.getLocalCandidate().getTransportAddress();
        IceLink link = new IceLink(peer, controlling, type(pair.getLocalCandidate().getType()),
                type(pair.getRemoteCandidate().getType()), new InetSocketAddress(local.getAddress(), local.getPort()),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), s.phases(), s.agent, path, layer,
                s::release, this::closed);
        if (closed) {
            link.close();
            throw new IOException("closed");
        }
        path.start(layer, peer.shortHex());
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

    /**
     * Trickled candidates of one session: kept until the session has its remote parameters and has started its
     * checks, then handed to it. Bounded: a session takes at most {@link IceParameters#MAX_CANDIDATES} trickled ones.
     */
    private static final class Inbox {
        private final long createdNanos;
        private final List<IceCandidate> buffered = new ArrayList<>();
        private Session session;
        private int received;

        Inbox(long createdNanos) {
            this.createdNanos = createdNanos;
        }

        synchronized boolean expired(long now) {
            return session == null && now - createdNanos > EARLY_TRICKLE_NANOS;
        }

        void add(List<IceCandidate> candidates, AtomicLong dropped) {
            List<IceCandidate> now;
            Session target;
            synchronized (this) {
                int room = IceParameters.MAX_CANDIDATES - received;
                List<IceCandidate> taken = candidates.subList(0, Math.max(0, Math.min(room, candidates.size())));
                dropped.addAndGet(candidates.size() - taken.size());
                received += taken.size();
                if (session == null) {
                    buffered.addAll(taken);
                    return;
                }
                target = session;
                now = new ArrayList<>(taken);
            }
            target.addTrickled(now);
        }

        /** Hands what was buffered to {@code s}, which has its remote parameters and runs its checks. */
        void attach(Session s, AtomicLong dropped) {
            List<IceCandidate> now;
            synchronized (this) {
                session = s;
                now = new ArrayList<>(buffered);
                buffered.clear();
            }
            if (!now.isEmpty()) {
                s.addTrickled(now);
            }
        }
    }

    /**
     * One ICE agent with one stream of one component. With trickle the agent starts with its host candidates;
     * {@link #trickleLocal} then runs the STUN and TURN harvesters and reports what they find, and pairs candidates
     * found after the checks started (a relayed one) with the remote candidates, which ice4j does not do by itself.
     */
    private static final class Session {
        final Agent agent;
        final IceMediaStream stream;
        final Component component;
        final long startNanos;
        final CompletableFuture<IceProcessingState> done = new CompletableFuture<>();
        /** Local candidates told to the peer (type and address). */
        private final java.util.Set<String> advertised = java.util.concurrent.ConcurrentHashMap.newKeySet();
        /** Local candidates that have been paired with the remote candidates (at the start of the checks or later). */
        private final java.util.Set<LocalCandidate> paired = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private boolean started;
        private final PortMappedCandidates portMapping;
        /** Host addresses mapped at the router, and the candidates that advertise their public addresses. */
        private final List<InetSocketAddress> mappedHosts = new CopyOnWriteArrayList<>();
        private final List<IceCandidate> mapped = new CopyOnWriteArrayList<>();
        private final java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
        volatile long attachSent = -1;
        volatile long answer = -1;
        volatile long gathered = -1;
        volatile long firstValid = -1;
        volatile long completed = -1;
        final AtomicInteger trickled = new AtomicInteger();
        /** The last state of each pair, from ice4j's events: describes the check list without taking its lock. */
        final java.util.Map<String, String> pairStates = new ConcurrentHashMap<>();

        private Session(Agent agent, IceMediaStream stream, Component component, long startNanos,
                PortMappedCandidates portMapping) {
            this.portMapping = portMapping;
            this.agent = agent;
            this.stream = stream;
            this.component = component;
            this.startNanos = startNanos;
        }

        long sinceStart() {
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        }

        IcePhases phases() {
            return new IcePhases(attachSent, answer, gathered, firstValid, completed, trickled.get());
        }

        static Session open(boolean controlling, IceConfig config, boolean trickle, long startNanos,
                PortMappedCandidates portMapping) {
            Agent agent = new Agent();
            try {
                agent.setControlling(controlling);
                agent.setTrickling(trickle); // then createComponent gathers host candidates only
                agent.setPerformConsentFreshness(config.consentFreshness());
                agent.setNominationStrategy(NominationStrategy.NONE); // DirectFirstNominator nominates
                if (config.stunServer() != null) {
                    agent.addCandidateHarvester(new StunCandidateHarvester(
                            new TransportAddress(config.stunServer(), Transport.UDP)));
                }
                if (config.turnServer() != null) {
                    agent.addCandidateHarvester(new TurnCandidateHarvester(
                            new TransportAddress(config.turnServer(), Transport.UDP),
                            new LongTermCredential(config.turnUser(), config.turnPassword())));
                }
                IceMediaStream stream = agent.createMediaStream(STREAM);
                Component component = agent.createComponent(stream, KeepAliveStrategy.SELECTED_ONLY, true);
                // ice4j's component socket sends to the first pair it hears nominated, for good. With aggressive
                // nomination that can be a pair whose check then fails; so it hears no nomination from the stream,
                // only the selected pair's, from finish(). Every other event (a pair succeeded: its remote address
                // may send to this socket) still reaches it.
                org.ice4j.ice.ComponentSocket cs = component.getComponentSocket();
                if (cs != null) {
                    stream.removePairStateChangeListener(cs);
                    stream.addPairChangeListener(e -> {
                        if (!IceMediaStream.PROPERTY_PAIR_NOMINATED.equals(e.getPropertyName())) {
                            cs.propertyChange(e);
                        }
                    });
                }
                Session s = new Session(agent, stream, component, startNanos, portMapping);
                if (!trickle) {
                    s.mapPorts(); // the mapped candidate goes with the others in the Attach message
                    s.gathered = s.sinceStart();
                }
                PropertyChangeListener l = e -> {
                    if (!Agent.PROPERTY_ICE_PROCESSING_STATE.equals(e.getPropertyName())) {
                        return;
                    }
                    Object v = e.getNewValue();
                    if (v == IceProcessingState.COMPLETED || v == IceProcessingState.TERMINATED) {
                        if (s.completed < 0) {
                            s.completed = s.sinceStart();
                        }
                        s.done.complete(IceProcessingState.COMPLETED);
                    } else if (v == IceProcessingState.FAILED) {
                        s.done.complete(IceProcessingState.FAILED);
                    }
                };
                agent.addStateChangeListener(l);
                stream.addPairChangeListener(e -> {
                    if (IceMediaStream.PROPERTY_PAIR_VALIDATED.equals(e.getPropertyName()) && s.firstValid < 0) {
                        s.firstValid = s.sinceStart();
                    }
                    if (e.getSource() instanceof CandidatePair p) {
                        String name = e.getPropertyName();
                        if (IceMediaStream.PROPERTY_PAIR_STATE_CHANGED.equals(name)) {
                            s.pairStates.merge(p.toShortString(), String.valueOf(e.getNewValue()),
                                    (old, now) -> old.endsWith(" nominated") ? now + " nominated" : now);
                        } else if (IceMediaStream.PROPERTY_PAIR_NOMINATED.equals(name)) {
                            s.pairStates.merge(p.toShortString(), "nominated", (old, now) -> old + " nominated");
                        }
                    }
                });
                if (component.getLocalCandidates().isEmpty()) {
                    throw new IOException("no usable local candidates");
                }
                return s;
            } catch (IOException | RuntimeException e) {
                freeAgent(agent);
                throw new CompletionException(new IOException("ICE candidate gathering failed: " + e.getMessage()
                        + " (is a non-loopback interface up? ice4j never uses loopback)", e));
            }
        }

        /** The local parameters with every candidate found so far, which then count as told to the peer. */
        IceParameters localParameters() {
            List<IceCandidate> out = fresh();
            return new IceParameters(agent.getLocalUfrag(), agent.getLocalPassword(), out);
        }

        /**
         * Maps the host candidates' ports at the router (blocking: a round trip to it) and keeps the public addresses
         * as server-reflexive candidates (type preference 100, RFC 8445 5.1.2.2), which {@link #fresh} then reports.
         */
        void mapPorts() {
            if (portMapping == null) {
                return;
            }
            for (LocalCandidate c : component.getLocalCandidates()) {
                if (c.getType() != CandidateType.HOST_CANDIDATE || c.getTransport() != Transport.UDP) {
                    continue;
                }
                TransportAddress a = c.getTransportAddress();
                InetSocketAddress host = new InetSocketAddress(a.getAddress(), a.getPort());
                java.util.Optional<InetSocketAddress> pub = portMapping.map(host);
                if (pub.isPresent()) {
                    mappedHosts.add(host);
                    if (released.get()) { // the setup ended meanwhile
                        release();
                        return;
                    }
                    long priority = (100L << 24) + (65_535L << 8) + 255;
                    mapped.add(new IceCandidate(IceCandidate.Type.SERVER_REFLEXIVE, "pm" + mapped.size(), priority,
                            pub.get(), host));
                    LOG.info("port-mapped candidate {} for host {}", pub.get(), host);
                }
            }
        }

        /** Deletes the port mappings made for this agent. Idempotent. */
        void release() {
            released.set(true);
            for (InetSocketAddress h : mappedHosts) {
                if (mappedHosts.remove(h)) {
                    portMapping.unmap(h);
                }
            }
        }

        /** Frees the agent (sockets, TURN allocation) and the port mappings. */
        void free() {
            freeAgent(agent);
            release();
        }

        /** Local UDP candidates not yet told to the peer (at most {@link IceParameters#MAX_CANDIDATES} in all). */
        private synchronized List<IceCandidate> fresh() {
            List<IceCandidate> out = new ArrayList<>();
            for (IceCandidate m : mapped) {
                if (advertised.size() < IceParameters.MAX_CANDIDATES && advertised.add("mapped " + m.address())) {
                    out.add(m);
                }
            }
            for (LocalCandidate c : component.getLocalCandidates()) {
                TransportAddress a = c.getTransportAddress();
                if (a.getTransport() != Transport.UDP || c.getType() == CandidateType.PEER_REFLEXIVE_CANDIDATE
                        || advertised.size() >= IceParameters.MAX_CANDIDATES
                        || !advertised.add(c.getType() + " " + a)) {
                    continue;
                }
                TransportAddress rel = c.getRelatedAddress();
                out.add(new IceCandidate(type(c.getType()), c.getFoundation(), c.getPriority(),
                        new InetSocketAddress(a.getAddress(), a.getPort()),
                        rel == null ? null : new InetSocketAddress(rel.getAddress(), rel.getPort())));
            }
            return out;
        }

        /**
         * Runs the STUN and TURN harvesters (blocking until all are done) and hands each batch of new candidates to
         * {@code send}; candidates found after the checks started are paired here.
         */
        void trickleLocal(java.util.function.Consumer<List<IceCandidate>> send, java.util.concurrent.Executor executor) {
            if (portMapping != null) {
                executor.execute(() -> {
                    mapPorts(); // a round trip to the router, in parallel with STUN and TURN
                    List<IceCandidate> fresh = fresh();
                    if (!fresh.isEmpty() && agent.getState() != IceProcessingState.TERMINATED) {
                        trickled.addAndGet(fresh.size());
                        send.accept(fresh);
                    }
                });
            }
            try {
                agent.startCandidateTrickle(batch -> {
                    if (batch == null) {
                        gathered = sinceStart();
                        return;
                    }
                    pairLateLocals();
                    List<IceCandidate> fresh = fresh();
                    if (!fresh.isEmpty() && agent.getState() != IceProcessingState.TERMINATED) {
                        trickled.addAndGet(fresh.size());
                        send.accept(fresh);
                    }
                });
            } catch (RuntimeException e) {
                LOG.info("trickle gathering ended early: {}", e.toString());
            }
        }

        synchronized void setRemote(IceParameters remote) {
            stream.setRemoteUfrag(remote.ufrag());
            stream.setRemotePassword(remote.password());
            List<RemoteCandidate> list = new ArrayList<>();
            for (IceCandidate c : remote.candidates()) {
                list.add(remote(c));
            }
            component.addRemoteCandidates(list);
        }

        private RemoteCandidate remote(IceCandidate c) {
            return new RemoteCandidate(new TransportAddress(c.address(), Transport.UDP), component, type(c.type()),
                    c.foundation(), c.priority(), null);
        }

        void startChecks() {
            synchronized (this) {
                paired.addAll(component.getLocalCandidates());
                agent.startConnectivityEstablishment();
                started = true;
            }
            pairLateLocals(); // found between the snapshot above and the start
        }

        /** Remote candidates trickled by the peer: new pairs join the running check list (ice4j pairs them). */
        void addTrickled(List<IceCandidate> candidates) {
            synchronized (this) {
                for (IceCandidate c : candidates) {
                    component.addUpdateRemoteCandidates(remote(c));
                }
                if (started && agent.getState() == IceProcessingState.RUNNING) {
                    component.updateRemoteCandidates();
                }
            }
        }

        /**
         * Pairs local candidates found after the checks started (a relayed one: its allocation took longer) with the
         * remote candidates. ice4j pairs only new remote candidates; without this a late relayed candidate would send
         * no check, so its TURN allocation would grant no permission to the peer and the peer's checks to it fail.
         */
        private void pairLateLocals() {
            synchronized (this) {
                if (!started || agent.getState() != IceProcessingState.RUNNING) {
                    return;
                }
                org.ice4j.ice.CheckList checks = stream.getCheckList();
                for (LocalCandidate local : component.getLocalCandidates()) {
                    CandidateType t = local.getType();
                    if (t == CandidateType.SERVER_REFLEXIVE_CANDIDATE || t == CandidateType.PEER_REFLEXIVE_CANDIDATE
                            || !paired.add(local)) {
                        continue; // reflexive ones send from their base, which is paired already
                    }
                    for (RemoteCandidate remote : component.getRemoteCandidates()) {
                        if (local.canReach(remote) && remote.getTransportAddress().getPort() != 0
                                && checks.findPairMatching(local, remote) == null) {
                            synchronized (checks) {
                                checks.add(new CandidatePair(local, remote));
                            }
                        }
                    }
                }
            }
        }

        void awaitCompletion(long timeoutMillis) throws Exception {
            IceProcessingState st = agent.getState();
            if (st == IceProcessingState.COMPLETED || st == IceProcessingState.TERMINATED) {
                done.complete(IceProcessingState.COMPLETED);
            }
            IceProcessingState result = done.get(timeoutMillis, TimeUnit.MILLISECONDS);
            if (result != IceProcessingState.COMPLETED) {
                throw new IOException("ICE connectivity checks failed: " + describe());
            }
        }

        /**
         * The agent's state and its check list, for errors; call before {@code agent.free()}, which empties both.
         * Takes none of ice4j's locks (the pairs' states come from its events): it must not hang on an agent that
         * does.
         */
        String describe() {
            return "state " + agent.getState() + ", local " + component.getLocalCandidateCount() + " candidates, remote "
                    + component.getRemoteCandidateCount() + ", phases " + phases() + ", pairs " + pairStates;
        }
    }

    @Override
    public void close() {
        closed = true;
        for (IceLink l : links) {
            l.close();
        }
        links.clear();
        executor.shutdownNow();
        timer.shutdownNow();
    }
}
