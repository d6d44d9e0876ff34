package org.p2psip.nat.ice;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Trickled candidates of one session: kept until the session has its remote parameters and has started its
 * checks, then handed to it. Bounded: a session takes at most {@link IceParameters#MAX_CANDIDATES} trickled ones.
 */
final class TrickleInbox {
    /** How long trickled candidates wait for the Attach they belong to. */
    static final long EARLY_TRICKLE_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final long createdNanos;
    private final List<IceCandidate> buffered = new ArrayList<>();
    private IceSession session;
    private int received;

    TrickleInbox(long createdNanos) {
        this.createdNanos = createdNanos;
    }

    synchronized boolean expired(long now) {
        return session == null && now - createdNanos > EARLY_TRICKLE_NANOS;
    }

    void add(List<IceCandidate> candidates, AtomicLong dropped) {
        List<IceCandidate> now;
        IceSession target;
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
    void attach(IceSession s, AtomicLong dropped) {
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
