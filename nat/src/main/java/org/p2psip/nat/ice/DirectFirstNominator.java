package org.p2psip.nat.ice;

import java.beans.PropertyChangeEvent;
import java.beans.PropertyChangeListener;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.ice4j.ice.Agent;
import org.ice4j.ice.CandidatePair;
import org.ice4j.ice.CandidatePairState;
import org.ice4j.ice.CandidateType;
import org.ice4j.ice.IceMediaStream;
import org.ice4j.ice.RelayedCandidate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controlling agent's nomination (ice4j's own is switched off with {@code NominationStrategy.NONE}): the first
 * valid direct pair (host, server- or peer-reflexive at both ends) is nominated at once; a valid relayed pair only
 * when every direct pair has failed or after a grace time without a valid direct one. When a nominated pair's check
 * fails, the next valid pair is nominated (a lost nomination must not leave the agent waiting for ever). ice4j's
 * {@code NOMINATE_FIRST_HOST_OR_REFLEXIVE_VALID} does the same with a fixed 800 ms grace, which a loaded machine
 * can exceed while two NATs are still being punched; the grace here is {@link IceConfig#relayGrace()}.
 */
final class DirectFirstNominator implements PropertyChangeListener {
    private static final Logger LOG = LoggerFactory.getLogger(DirectFirstNominator.class);

    private final Agent agent;
    private final IceMediaStream stream;
    private final ScheduledExecutorService timer;
    private final long graceMillis;
    /** Relayed pairs that became valid, in that order (the first one starts the grace time). */
    private final List<CandidatePair> validRelayed = new ArrayList<>();
    private boolean graceOver;
    /** Whether direct pairs are nominated aggressively (their first check carries USE-CANDIDATE). */
    private final boolean aggressive;
    /** Direct pairs that became valid, in that order. */
    private final List<CandidatePair> validDirect = new ArrayList<>();
    /** The pair nominated last; null before, or after its nomination check failed. */
    private CandidatePair nominee;

    /** The IP of this node's TURN server, or null. */
    private final java.net.InetAddress turnServerIp;

    private DirectFirstNominator(Agent agent, IceMediaStream stream, ScheduledExecutorService timer, long graceMillis,
            boolean aggressive, java.net.InetAddress turnServerIp) {
        this.turnServerIp = turnServerIp;
        this.aggressive = aggressive;
        this.agent = agent;
        this.stream = stream;
        this.timer = timer;
        this.graceMillis = graceMillis;
    }

    /** Installs the nominator on a controlling agent's stream; call before the checks start. */
    static void install(Agent agent, IceMediaStream stream, ScheduledExecutorService timer, long graceMillis,
            boolean aggressive, java.net.InetAddress turnServerIp) {
        stream.addPairChangeListener(new DirectFirstNominator(agent, stream, timer, graceMillis, aggressive,
                turnServerIp));
    }

    /**
     * Whether {@code p} goes through a TURN relay at either end. A peer-reflexive remote candidate whose address is a
     * relay's is one too: the peer's checks from its relayed candidate can arrive before that candidate is trickled
     * (seen in a cold start whose Attach answer came late), and then ice4j knows the address only as peer-reflexive.
     * Nominated aggressively as if direct, such a pair made the peer select the relayed path while this side selected
     * a direct one, and DTLS then found no common path (IceLabTest, full cone <- address-restricted, once). The relay
     * address known here is this node's own TURN server's IP (the lab's nodes, and overlay nodes that take TURN from
     * the same superpeer, share one); a peer on another TURN server is not recognised this way.
     */
    boolean isRelayed(CandidatePair p) {
        if (p.getLocalCandidate() instanceof RelayedCandidate
                || p.getLocalCandidate().getType() == CandidateType.RELAYED_CANDIDATE
                || p.getRemoteCandidate().getType() == CandidateType.RELAYED_CANDIDATE) {
            return true;
        }
        if (p.getRemoteCandidate().getType() != CandidateType.PEER_REFLEXIVE_CANDIDATE) {
            return false;
        }
        // takes no lock (this runs on ice4j's pacing thread): the remote candidate list is not consulted
        return p.getRemoteCandidate().getTransportAddress().getAddress().equals(turnServerIp);
    }

    @Override
    public void propertyChange(PropertyChangeEvent e) {
        if (!(e.getSource() instanceof CandidatePair pair)) {
            return;
        }
        String name = e.getPropertyName();
        if (IceMediaStream.PROPERTY_PAIR_STATE_CHANGED.equals(name) && e.getNewValue() == CandidatePairState.WAITING) {
            // Aggressive nomination of direct pairs (RFC 5245 8.1.1.2): the pair's check carries USE-CANDIDATE, so
            // the first direct pair that works is selected by that check's answer, without a second round trip.
            // Only direct pairs: a relayed one still waits for the direct ones (relayGrace). Runs on ice4j's
            // pacing thread just before the check is sent; takes no lock.
            if (aggressive && !isRelayed(pair) && !pair.isNominated()) {
                pair.nominate();
            }
            return;
        }
        boolean relevant = IceMediaStream.PROPERTY_PAIR_VALIDATED.equals(name)
                || (IceMediaStream.PROPERTY_PAIR_STATE_CHANGED.equals(name)
                        && e.getNewValue() == CandidatePairState.FAILED);
        if (!relevant) {
            return;
        }
        // Read outside this object's lock: ice4j may fire events while holding the check list's.
        boolean allDirectFailed = allDirectPairsFailed();
        CandidatePair choice;
        synchronized (this) {
            if (IceMediaStream.PROPERTY_PAIR_VALIDATED.equals(name)) {
                if (isRelayed(pair)) {
                    if (validRelayed.isEmpty()) {
                        timer.schedule(this::graceOver, graceMillis, TimeUnit.MILLISECONDS);
                    }
                    if (!validRelayed.contains(pair)) {
                        validRelayed.add(pair);
                    }
                } else if (!validDirect.contains(pair)) {
                    validDirect.add(pair);
                }
            } else if (IceMediaStream.PROPERTY_PAIR_STATE_CHANGED.equals(name)
                    && e.getNewValue() == CandidatePairState.FAILED) {
                validDirect.remove(pair);
                validRelayed.remove(pair);
                if (pair == nominee) {
                    LOG.debug("the nominated pair {} failed; choosing another", pair.toShortString());
                    nominee = null;
                }
            }
            choice = choose(allDirectFailed);
        }
        nominate(choice);
    }

    private void graceOver() {
        CandidatePair choice;
        synchronized (this) {
            graceOver = true;
            choice = choose(false);
        }
        nominate(choice);
    }

    /**
     * The pair to nominate now, or null: nothing while a nominee's check runs; else the first valid direct pair; else
     * the relayed pair once the grace time is over or no direct pair can succeed any more. Called under this object's
     * lock, which must never wait for the check list's.
     */
    private CandidatePair choose(boolean allDirectFailed) {
        if (nominee != null) {
            return null;
        }
        for (CandidatePair p : validDirect) {
            if (p.getState() != CandidatePairState.FAILED) {
                nominee = p;
                LOG.debug("nominating the direct pair {}", p.toShortString());
                return p;
            }
        }
        if (!graceOver && !allDirectFailed) {
            return null;
        }
        // the next relayed pair whose nomination has not failed: one whose check was lost must not end the setup
        for (CandidatePair relayed : validRelayed) {
            if (relayed.getState() != CandidatePairState.FAILED) {
                nominee = relayed;
                LOG.debug("nominating the relayed pair {} ({})", relayed.toShortString(),
                        graceOver ? "no direct pair within " + graceMillis + " ms" : "every direct pair failed");
                return relayed;
            }
        }
        return null;
    }

    private boolean allDirectPairsFailed() {
        List<CandidatePair> pairs;
        synchronized (stream.getCheckList()) {
            pairs = new ArrayList<>(stream.getCheckList());
        }
        for (CandidatePair p : pairs) {
            if (!isRelayed(p) && p.getState() != CandidatePairState.FAILED) {
                return false;
            }
        }
        return true;
    }

    private void nominate(CandidatePair pair) {
        if (pair == null) {
            return;
        }
        try {
            agent.nominate(pair);
        } catch (RuntimeException e) {
            LOG.debug("ice4j refused to nominate {}: {}", pair.toShortString(), e.toString());
        }
    }
}
