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

    private final NodeId self;
    private final DtlsLinkLayer layer;
    private final Signaling signaling;
    private final IceConfig config;
    private final ExecutorService executor;
    private final java.util.concurrent.ScheduledExecutorService timer;
    private final SecureRandom random = new SecureRandom();
    private final CopyOnWriteArrayList<IceLink> links = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<CompletableFuture<IceLink>> accepted = new CopyOnWriteArrayList<>();
    private final AtomicInteger answering = new AtomicInteger();
    private volatile boolean closed;

    public IceLinks(NodeId self, DtlsLinkLayer layer, Signaling signaling, IceConfig config) {
        Ice4jSettings.apply();
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

    /** Sets up a link to {@code target}: Attach through signaling, then ICE checks as the controlling agent. */
    public CompletableFuture<IceLink> connect(NodeId target) {
        long start = System.nanoTime();
        return CompletableFuture.supplyAsync(() -> {
            Session s = Session.open(true, config);
            DirectFirstNominator.install(s.agent, s.stream, timer, config.relayGrace().toMillis());
            try {
                long tx = random.nextLong();
                AttachMessage.Request request = new AttachMessage.Request(self, target, tx, s.localParameters());
                LOG.info("{}: attach to {} with {}", self.shortHex(), target.shortHex(), request.ice());
                CompletableFuture<AttachMessage> pending = signaling.attach(request);
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
                s.setRemote(answer.ice());
                s.agent.startConnectivityEstablishment();
                s.awaitCompletion(config.checkTimeout().toMillis());
                return finish(s, target, true, start);
            } catch (TimeoutException e) {
                s.agent.free();
                throw new CompletionException(new IOException("no attach answer or ICE completion with " + target.shortHex()
                        + " within the timeout (signaling " + config.signalingTimeout() + ", checks " + config.checkTimeout()
                        + "): " + s.describe(), e));
            } catch (Exception e) {
                s.agent.free();
                throw e instanceof CompletionException ce ? ce : new CompletionException(e);
            }
        }, executor);
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
        return CompletableFuture.supplyAsync(() -> {
            Session s;
            try {
                s = Session.open(false, config);
                s.setRemote(request.ice());
                s.agent.startConnectivityEstablishment();
            } catch (Exception e) {
                link.completeExceptionally(e);
                LOG.warn("{}: cannot answer the attach from {}: {}", self.shortHex(), request.from().shortHex(), e.toString());
                return new AttachMessage.Refused(self, request.from(), request.transaction(),
                        "candidate gathering failed at the target: " + e.getMessage());
            }
            Session session = s;
            executor.execute(() -> {
                try {
                    session.awaitCompletion(config.checkTimeout().toMillis() + config.signalingTimeout().toMillis());
                    link.complete(finish(session, request.from(), false, start));
                } catch (Exception e) {
                    session.agent.free();
                    LOG.info("{}: ICE with {} failed: {}", self.shortHex(), request.from().shortHex(), e.toString());
                    link.completeExceptionally(e);
                }
            });
            return new AttachMessage.Answer(self, request.from(), request.transaction(), session.localParameters());
        }, executor);
    }

    private IceLink finish(Session s, NodeId peer, boolean controlling, long startNanos) throws IOException {
        CandidatePair pair = s.component.getSelectedPair();
        if (pair == null) {
            throw new IOException("ICE completed without a selected pair");
        }
        TransportAddress remote = pair.getRemoteCandidate().getTransportAddress();
        InetSocketAddress remoteAddress = new InetSocketAddress(remote.getAddress(), remote.getPort());
        IcePath path = new IcePath(s.component.getSocket(), remoteAddress);
        TransportAddress local = pair.getLocalCandidate().getTransportAddress();
        IceLink link = new IceLink(peer, controlling, type(pair.getLocalCandidate().getType()),
                type(pair.getRemoteCandidate().getType()), new InetSocketAddress(local.getAddress(), local.getPort()),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), s.agent, path, layer, this::closed);
        if (closed) {
            link.close();
            throw new IOException("closed");
        }
        path.start(layer, peer.shortHex());
        links.add(link);
        LOG.info("{}: {}", self.shortHex(), link);
        return link;
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

    /** One ICE agent with one stream of one component. */
    private static final class Session {
        final Agent agent;
        final IceMediaStream stream;
        final Component component;
        final CompletableFuture<IceProcessingState> done = new CompletableFuture<>();

        private Session(Agent agent, IceMediaStream stream, Component component) {
            this.agent = agent;
            this.stream = stream;
            this.component = component;
        }

        static Session open(boolean controlling, IceConfig config) {
            Agent agent = new Agent();
            try {
                agent.setControlling(controlling);
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
                Session s = new Session(agent, stream, component);
                PropertyChangeListener l = e -> {
                    if (!Agent.PROPERTY_ICE_PROCESSING_STATE.equals(e.getPropertyName())) {
                        return;
                    }
                    Object v = e.getNewValue();
                    if (v == IceProcessingState.COMPLETED || v == IceProcessingState.TERMINATED) {
                        s.done.complete(IceProcessingState.COMPLETED);
                    } else if (v == IceProcessingState.FAILED) {
                        s.done.complete(IceProcessingState.FAILED);
                    }
                };
                agent.addStateChangeListener(l);
                if (s.localParameters().candidates().isEmpty()) {
                    throw new IOException("no usable local candidates");
                }
                return s;
            } catch (IOException | RuntimeException e) {
                agent.free();
                throw new CompletionException(new IOException("ICE candidate gathering failed: " + e.getMessage()
                        + " (is a non-loopback interface up? ice4j never uses loopback)", e));
            }
        }

        IceParameters localParameters() {
            List<IceCandidate> out = new ArrayList<>();
            for (LocalCandidate c : component.getLocalCandidates()) {
                TransportAddress a = c.getTransportAddress();
                if (a.getTransport() != Transport.UDP || out.size() >= IceParameters.MAX_CANDIDATES) {
                    continue;
                }
                TransportAddress rel = c.getRelatedAddress();
                out.add(new IceCandidate(type(c.getType()), c.getFoundation(), c.getPriority(),
                        new InetSocketAddress(a.getAddress(), a.getPort()),
                        rel == null ? null : new InetSocketAddress(rel.getAddress(), rel.getPort())));
            }
            return new IceParameters(agent.getLocalUfrag(), agent.getLocalPassword(), out);
        }

        void setRemote(IceParameters remote) {
            stream.setRemoteUfrag(remote.ufrag());
            stream.setRemotePassword(remote.password());
            List<RemoteCandidate> list = new ArrayList<>();
            for (IceCandidate c : remote.candidates()) {
                list.add(new RemoteCandidate(new TransportAddress(c.address(), Transport.UDP), component, type(c.type()),
                        c.foundation(), c.priority(), null));
            }
            component.addRemoteCandidates(list);
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

        String describe() {
            return "state " + agent.getState() + ", local " + component.getLocalCandidates().size() + " candidates, remote "
                    + component.getRemoteCandidates().size() + ", selected " + component.getSelectedPair();
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
