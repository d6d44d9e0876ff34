package org.p2psip.nat.ice;

import java.beans.PropertyChangeListener;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ICE agent with one stream of one component. With trickle the agent starts with its host candidates;
 * {@link #trickleLocal} then runs the STUN and TURN harvesters (and the port mapping) and reports what they find, and
 * pairs candidates found after the checks started (a relayed one) with the remote candidates, which ice4j does not do
 * by itself. A session can be prepared ahead ({@link #prepareAhead}: STUN and port mapping done before any Attach),
 * then {@link #begin begun} in either role when a setup needs it; only TURN is then left to trickle.
 */
final class IceSession {
    private static final Logger LOG = LoggerFactory.getLogger(IceSession.class);

    final LinkAgent agent;
    final IceMediaStream stream;
    final Component component;
    /** When the setup began (requester: {@code connect}; target: the request's arrival); set by {@link #begin}. */
    private volatile long startNanos;
    /** With trickle, the harvesters {@link #trickleLocal} (or {@link #prepareAhead}) runs; null without servers. */
    private final StunCandidateHarvester stunHarvester;
    private final TurnCandidateHarvester turnHarvester;
    private final java.util.concurrent.atomic.AtomicBoolean stunRun = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicBoolean portsMapped = new java.util.concurrent.atomic.AtomicBoolean();
    /** Without trickle: when {@link #open} had gathered every candidate; else -1. */
    private volatile long gatheredAtOpen = -1;
    /** When {@link #prepareAhead} ended; -1 for a session gathered for its setup. */
    private volatile long preparedNanos = -1;
    /** The controlled side's first USE-CANDIDATE check: (remote, local) reported once to this listener. */
    private volatile java.util.function.BiConsumer<InetSocketAddress, LocalCandidate> nominatedCheck;
    private final java.util.concurrent.atomic.AtomicBoolean nominatedCheckSeen = new java.util.concurrent.atomic.AtomicBoolean();
    /** Guards {@link #earlyPath} and {@link #ended}. */
    final Object pathLock = new Object();
    /** The path the DTLS session was opened over before ICE completed (controlled side), or null; see IceLinks. */
    IcePath earlyPath;
    /** Set by IceLinks when the session finished or failed: no early path may be opened after it. */
    boolean ended;
    final CompletableFuture<IceProcessingState> done = new CompletableFuture<>();
    /** Local candidates told to the peer (type and address). */
    private final java.util.Set<String> advertised = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Local candidates that have been paired with the remote candidates (at the start of the checks or later). */
    private final java.util.Set<LocalCandidate> paired = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean started;
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
    /** When each pair's check was last sent (nanoTime), and the round trip of each pair's last successful check. */
    private final java.util.Map<String, Long> checkSent = new ConcurrentHashMap<>();
    private final java.util.Map<String, Long> checkRttMillis = new ConcurrentHashMap<>();
    /** The controlled side: when the first USE-CANDIDATE check arrived (nanoTime; see nominatedCheckSeen). */
    private volatile long nominatedCheckNanos;
    /** The last state of each pair, from ice4j's events: describes the check list without taking its lock. */
    final java.util.Map<String, String> pairStates = new ConcurrentHashMap<>();

    private IceSession(LinkAgent agent, IceMediaStream stream, Component component, PortMappedCandidates portMapping,
            StunCandidateHarvester stunHarvester, TurnCandidateHarvester turnHarvester) {
        this.portMapping = portMapping;
        this.agent = agent;
        this.stream = stream;
        this.component = component;
        this.stunHarvester = stunHarvester;
        this.turnHarvester = turnHarvester;
        this.startNanos = System.nanoTime();
    }

    long sinceStart() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    IcePhases phases() {
        return new IcePhases(attachSent, answer, gathered, firstValid, completed, trickled.get(), preparedNanos >= 0);
    }

    /**
     * Opens an agent with its host candidates; without trickle it also gathers every other candidate first (STUN,
     * TURN, port mapping). Its role and start are set by {@link #begin}.
     */
    static IceSession open(IceConfig config, boolean trickle, PortMappedCandidates portMapping) {
        LinkAgent agent = new LinkAgent();
        try {
            agent.setTrickling(trickle); // then createComponent gathers host candidates only
            agent.setPerformConsentFreshness(config.consentFreshness());
            agent.setNominationStrategy(NominationStrategy.NONE); // DirectFirstNominator nominates
            StunCandidateHarvester stun = config.stunServer() == null ? null
                    : new StunCandidateHarvester(new TransportAddress(config.stunServer(), Transport.UDP));
            TurnCandidateHarvester turn = config.turnServer() == null ? null
                    : new TurnCandidateHarvester(new TransportAddress(config.turnServer(), Transport.UDP),
                            new LongTermCredential(config.turnUser(), config.turnPassword()));
            if (!trickle) { // createComponent runs them; with trickle, trickleLocal or prepareAhead does
                if (stun != null) {
                    agent.addCandidateHarvester(stun);
                }
                if (turn != null) {
                    agent.addCandidateHarvester(turn);
                }
            }
            IceMediaStream stream = agent.createMediaStream(IceLinks.STREAM);
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
            IceSession s = new IceSession(agent, stream, component, portMapping, trickle ? stun : null,
                    trickle ? turn : null);
            if (!trickle) {
                s.stunRun.set(true);
                s.mapPorts(); // the mapped candidate goes with the others in the Attach message
                s.gatheredAtOpen = System.nanoTime();
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
                        s.timeCheck(p, e.getNewValue());
                    } else if (IceMediaStream.PROPERTY_PAIR_NOMINATED.equals(name)) {
                        s.pairStates.merge(p.toShortString(), "nominated", (old, now) -> old + " nominated");
                    }
                }
            });
            agent.onNominatedCheck((remote, local) -> s.nominatedCheck(remote, local));
            if (component.getLocalCandidates().isEmpty()) {
                throw new IOException("no usable local candidates");
            }
            return s;
        } catch (IOException | RuntimeException e) {
            IceLinks.freeAgent(agent);
            throw new CompletionException(new IOException("ICE candidate gathering failed: " + e.getMessage()
                    + " (is a non-loopback interface up? ice4j never uses loopback)", e));
        }
    }

    /**
     * Gathers ahead of any setup (blocking): the server-reflexive candidate (a STUN round trip) and the port mapping,
     * so that {@link #localParameters()} carries them in the Attach or its answer. TURN is left for
     * {@link #trickleLocal}: an allocation held for a setup that may never come would cost the server.
     */
    void prepareAhead() {
        if (stunHarvester != null && stunRun.compareAndSet(false, true)) {
            stunHarvester.harvest(component);
        }
        mapPorts();
        preparedNanos = System.nanoTime();
    }

    /** Sets the role and the start of the setup the session serves; call once, before its checks. */
    void begin(boolean controlling, long startNanos) {
        this.startNanos = startNanos;
        if (gatheredAtOpen >= 0) {
            gathered = Math.max(0, TimeUnit.NANOSECONDS.toMillis(gatheredAtOpen - startNanos));
        }
        agent.setControlling(controlling);
    }

    /**
     * Calls {@code listener} once, with the remote address and the local candidate, when this controlled agent answers
     * the first connectivity check that carries USE-CANDIDATE (see {@link LinkAgent}).
     */
    void onNominatedCheck(java.util.function.BiConsumer<InetSocketAddress, LocalCandidate> listener) {
        this.nominatedCheck = listener;
    }

    private void nominatedCheck(TransportAddress remote, TransportAddress local) {
        java.util.function.BiConsumer<InetSocketAddress, LocalCandidate> l = nominatedCheck;
        if (l == null || !started || !nominatedCheckSeen.compareAndSet(false, true)) {
            return;
        }
        nominatedCheckNanos = System.nanoTime();
        LocalCandidate c = agent.findLocalCandidate(local);
        if (c != null) {
            l.accept(new InetSocketAddress(remote.getAddress(), remote.getPort()), c);
        }
    }

    /** Times connectivity checks from ice4j's pair events: sent (in progress) to succeeded. */
    private void timeCheck(CandidatePair p, Object state) {
        if (state == org.ice4j.ice.CandidatePairState.IN_PROGRESS) {
            checkSent.put(p.toShortString(), System.nanoTime());
        } else if (state == org.ice4j.ice.CandidatePairState.SUCCEEDED) {
            Long sent = checkSent.get(p.toShortString());
            if (sent != null) {
                checkRttMillis.put(p.toShortString(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent));
            }
        }
    }

    /**
     * A round trip estimate for the path of {@code pair} (null: the pair the controlled side opened early over), in
     * milliseconds, or -1: the round trip of this side's last successful check on it; else, on the controlled side,
     * the time from its Attach answer to the first nominated check (the answer's way through signaling and the
     * check's way back, longer than a round trip on the path); else the Attach round trip through signaling.
     */
    long rttEstimateMillis(CandidatePair pair) {
        Long measured = pair == null ? null : checkRttMillis.get(pair.toShortString());
        if (measured != null) {
            return measured;
        }
        if (nominatedCheckSeen.get() && attachSent >= 0) {
            return Math.max(1, TimeUnit.NANOSECONDS.toMillis(nominatedCheckNanos - startNanos) - attachSent);
        }
        return answer >= 0 && attachSent >= 0 && answer > attachSent ? answer - attachSent : -1;
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
        if (portMapping == null || !portsMapped.compareAndSet(false, true)) {
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
        IceLinks.freeAgent(agent);
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
            out.add(new IceCandidate(IceLinks.type(c.getType()), c.getFoundation(), c.getPriority(),
                    new InetSocketAddress(a.getAddress(), a.getPort()),
                    rel == null ? null : new InetSocketAddress(rel.getAddress(), rel.getPort())));
        }
        return out;
    }

    /**
     * Runs what is left of the gathering on {@code executor} (the port mapping, STUN, unless prepared ahead, and TURN,
     * in parallel) and hands each batch of new candidates to {@code send}; candidates found after the checks started
     * are paired here.
     */
    void trickleLocal(java.util.function.Consumer<List<IceCandidate>> send, java.util.concurrent.Executor executor) {
        List<Runnable> jobs = new ArrayList<>();
        if (portMapping != null && !portsMapped.get()) {
            jobs.add(this::mapPorts); // a round trip to the router
        }
        if (stunHarvester != null && stunRun.compareAndSet(false, true)) {
            jobs.add(() -> stunHarvester.harvest(component));
        }
        if (turnHarvester != null) {
            jobs.add(() -> turnHarvester.harvest(component)); // two round trips with the 401 challenge
        }
        if (jobs.isEmpty()) {
            gathered = sinceStart();
            return;
        }
        AtomicInteger left = new AtomicInteger(jobs.size());
        for (Runnable job : jobs) {
            executor.execute(() -> {
                try {
                    job.run();
                } catch (RuntimeException e) {
                    LOG.info("candidate gathering failed: {}", e.toString());
                }
                pairLateLocals();
                List<IceCandidate> fresh = fresh();
                if (!fresh.isEmpty() && agent.getState() != IceProcessingState.TERMINATED) {
                    trickled.addAndGet(fresh.size());
                    send.accept(fresh);
                }
                if (left.decrementAndGet() == 0) {
                    gathered = sinceStart();
                }
            });
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
        return new RemoteCandidate(new TransportAddress(c.address(), Transport.UDP), component, IceLinks.type(c.type()),
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
