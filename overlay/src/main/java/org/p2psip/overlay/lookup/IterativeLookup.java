package org.p2psip.overlay.lookup;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.runtime.Scheduler;

/**
 * Kademlia's parallel iterative lookup. It keeps up to {@code alpha} queries in flight to the closest
 * nodes not yet asked, and finishes when the {@code size} closest nodes it knows have all answered (nodes
 * that fail drop out). The node itself may be seeded as already answered, so a put can count it among
 * the replicas. Runs on the node's thread: queries must complete there.
 *
 * <p>As in the Kademlia paper, once an answer brings no new node among the {@code size} closest known
 * (the closest set has stopped improving), the lookup <em>converges</em>: it asks all the not yet asked
 * nodes among the {@code size} closest at once instead of {@code alpha} at a time. Near the end of a
 * lookup the set rarely changes, so this saves the rounds that {@code size / alpha} sequential batches
 * would cost (on a small overlay, where the routing table already holds the closest nodes, a lookup of
 * 8 takes 2 rounds instead of 3). It only adds parallelism: the end condition is unchanged, so the
 * result is the same set of nodes. While converging, every unasked node among the {@code size} closest is
 * asked at once, whatever is still in flight to nodes that answers have since pushed out of them (a cap of
 * {@code alpha} + {@code size} in flight held the last of the closest back for one more round trip).
 *
 * <p>A lookup may also converge as soon as the closest set <em>looks final</em>: when the {@code size}
 * closest candidates all share at least {@link #convergeWithin} leading bits with the target. The caller
 * sets that from its own neighbourhood (ids are uniform, so the {@code size} nodes closest to any target are
 * about as close to it as this node's {@code size} closest contacts are to this node). Without it, an
 * answer that already holds the final closest set, but brings new nodes into it, costs a round trip before
 * the next answer shows that nothing changes.
 *
 * <p>A query that has not answered after {@code stallMillis} (the RPC's first-attempt timeout) is
 * <em>stalled</em>: it frees its alpha slot, so the lookup goes on asking others while the RPC retries.
 * A stalled node among the closest still keeps the lookup from finishing, since on a lossy path its
 * retry usually answers, until {@code 2 x stallMillis}: then the lookup gives up on it (a dead node
 * costs the lookup that, not the RPC's whole retry schedule), but only once some node has answered: with
 * no answer yet, giving up would end the lookup empty while a retry may still answer. An answer that still
 * arrives while the lookup runs is used as any other.
 */
public final class IterativeLookup {
    /** Asks one node; completes with the closer contacts it returned, or fails. */
    @FunctionalInterface
    public interface Querier {
        CompletableFuture<List<Contact>> query(Contact node);
    }

    private enum State { NEW, IN_FLIGHT, STALLED, GAVE_UP, ANSWERED, FAILED }

    private static final class Candidate {
        final Contact contact;
        State state = State.NEW;
        /** Sequential queries needed to reach this node: seeds are 1, a node learned from a depth-d reply d + 1. */
        int depth;
        /** The candidate whose answer brought this one (null for seeds and this node). */
        Candidate origin;
        /** Already passed to the settled listener. */
        boolean reported;

        Candidate(Contact contact, int depth) {
            this.contact = contact;
            this.depth = depth;
        }
    }

    private final NodeId target;
    private final int size;
    private final int alpha;
    private final Querier querier;
    private final Contact self;
    private final boolean includeSelf;
    private final Scheduler scheduler;
    private final long stallMillis;
    /** Sorted by distance to the target, closest first. */
    private final ArrayList<Candidate> candidates = new ArrayList<>();
    private final HashMap<NodeId, Candidate> known = new HashMap<>();
    private final CompletableFuture<List<Contact>> result = new CompletableFuture<>();
    private int inFlight;
    private int queries;
    private int hops = -1;
    private int stalls;
    /** Nodes that answered (this node itself not counted). */
    private int answered;
    /** Set once an answer brought no new node among the closest: from then on every slot among them is used. */
    private boolean converging;
    private Consumer<Contact> settled;
    /** Converge once the size closest candidates share this many leading bits with the target (-1: never). */
    private int finalPrefixBits = -1;

    /**
     * @param self this node: never queried
     * @param includeSelf count this node as an answered candidate, so it may be in the result
     */
    public IterativeLookup(NodeId target, int size, int alpha, Contact self, boolean includeSelf, Querier querier) {
        this(target, size, alpha, self, includeSelf, querier, null, 0);
    }

    /**
     * @param scheduler   the node's scheduler, for stall timers (null: queries never stall)
     * @param stallMillis a query unanswered this long stops holding an alpha slot and the lookup's end (0: never)
     */
    public IterativeLookup(NodeId target, int size, int alpha, Contact self, boolean includeSelf, Querier querier,
                           Scheduler scheduler, long stallMillis) {
        this.scheduler = scheduler;
        this.stallMillis = stallMillis;
        this.target = target;
        this.size = size;
        this.alpha = alpha;
        this.querier = querier;
        this.self = self;
        this.includeSelf = includeSelf;
    }

    /**
     * Calls {@code listener} (on the node's thread, once per node) for each node that has answered and is
     * among the {@code size} closest while the lookup converges, i.e. for nodes that will very likely be
     * in the result, before the lookup ends. A put uses it to send its STOREs early. It is a prediction:
     * a later answer may still bring closer nodes and push a reported node out of the result (the caller
     * compares with the result). This node itself is reported too when it is counted (includeSelf).
     * Set it before {@link #run}.
     */
    public IterativeLookup onSettled(Consumer<Contact> listener) {
        this.settled = listener;
        return this;
    }

    /**
     * Lets the lookup converge (see the class comment) as soon as the {@code size} closest candidates all share
     * at least {@code prefixBits} leading bits with the target, i.e. once they are as close as the caller
     * expects the final closest set to be. It changes how many queries run at once, never the result. Set it
     * before {@link #run}; negative turns it off (the default).
     */
    public IterativeLookup convergeWithin(int prefixBits) {
        this.finalPrefixBits = prefixBits;
        return this;
    }

    /** Starts from {@code seeds} (the closest contacts in the routing table). */
    public CompletableFuture<List<Contact>> run(List<Contact> seeds) {
        Candidate me = insert(self, 0, null);
        if (includeSelf) {
            me.state = State.ANSWERED;
        } else {
            candidates.remove(me);
        }
        for (Contact s : seeds) {
            insert(s, 1, null);
        }
        pump();
        return result;
    }

    /** Nodes queried so far (the lookup's cost in RPCs). */
    public int queries() {
        return queries;
    }

    /**
     * The lookup's hop count, known once it finished: the depth in the query tree of the closest node in
     * the result, i.e. how many sequential queries it took to get an answer from it. A seed from the
     * routing table is 1 hop, a node first returned by a 1-hop node is 2 hops, and so on (the shallowest
     * path counts when several nodes returned it). 0 when this node itself is the closest; -1 before the
     * lookup finished or when nobody answered.
     */
    public int hops() {
        return hops;
    }

    /** Nodes that answered a query of this lookup (this node itself not counted). */
    public int answered() {
        return answered;
    }

    /** Queries that stalled (see the class comment). */
    public int stalls() {
        return stalls;
    }

    /** True once the closest set stopped improving and the rest of it was asked at once. */
    public boolean converged() {
        return converging;
    }

    private Candidate insert(Contact c, int depth, Candidate origin) {
        Candidate old = known.get(c.id());
        if (old != null) {
            old.depth = Math.min(old.depth, depth);
            return null;
        }
        Candidate cand = new Candidate(c, depth);
        cand.origin = origin;
        known.put(c.id(), cand);
        int lo = 0;
        int hi = candidates.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (target.compareDistance(candidates.get(mid).contact.id(), c.id()) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        candidates.add(lo, cand);
        return cand;
    }

    private void pump() {
        if (result.isDone()) {
            return;
        }
        int considered = 0;
        int stalledAmongClosest = 0;
        // converging: every unasked node among the closest goes now (at most size of them, plus the alpha
        // queries that may still be in flight to nodes pushed out of the closest)
        int limit = converging ? alpha + size : alpha;
        boolean allAnswered = true;
        for (int i = 0; i < candidates.size() && considered < size; i++) {
            Candidate c = candidates.get(i);
            if (c.state == State.FAILED || c.state == State.GAVE_UP) {
                continue;
            }
            considered++;
            if (c.state != State.ANSWERED) {
                allAnswered = false;
            }
            if (c.state == State.STALLED) {
                stalledAmongClosest++;
            }
            if (c.state == State.NEW && inFlight < limit) {
                send(c);
            }
        }
        // With nothing in flight or stalled, nothing is left to ask among the closest: finish with what answered.
        if (allAnswered || (inFlight == 0 && stalledAmongClosest == 0)) {
            finish();
        } else if (converging && settled != null) {
            reportSettled();
        }
    }

    /** Passes the answered nodes among the closest, not yet reported, to the settled listener. */
    private void reportSettled() {
        List<Contact> fresh = null;
        int considered = 0;
        for (int i = 0; i < candidates.size() && considered < size; i++) {
            Candidate c = candidates.get(i);
            if (c.state == State.FAILED || c.state == State.GAVE_UP) {
                continue;
            }
            considered++;
            if (c.state == State.ANSWERED && !c.reported) {
                c.reported = true;
                if (fresh == null) {
                    fresh = new ArrayList<>();
                }
                fresh.add(c.contact);
            }
        }
        if (fresh != null) {
            // after the walk: the listener sends RPCs, which must not run while the candidates are iterated
            fresh.forEach(settled);
        }
    }

    private void send(Candidate c) {
        c.state = State.IN_FLIGHT;
        inFlight++;
        queries++;
        Scheduler.Cancellable stall = null;
        Scheduler.Cancellable giveUp = null;
        if (scheduler != null && stallMillis > 0) {
            stall = scheduler.schedule(() -> {
                if (c.state == State.IN_FLIGHT && !result.isDone()) {
                    c.state = State.STALLED;
                    inFlight--;
                    stalls++;
                    pump();
                }
            }, stallMillis);
            giveUp = scheduler.schedule(() -> {
                // Not before any node answered: giving up on the only nodes it has would end the lookup with
                // nothing while their retries may still answer (a joining node whose bootstrap's first reply was
                // lost finished its own-id lookup empty and never met its neighbours).
                if (c.state == State.STALLED && !result.isDone() && answered > 0) {
                    c.state = State.GAVE_UP;
                    pump();
                }
            }, 2 * stallMillis);
        }
        Scheduler.Cancellable stallTimer = stall;
        Scheduler.Cancellable giveUpTimer = giveUp;
        querier.query(c.contact).whenComplete((closer, err) -> {
            if (stallTimer != null) {
                stallTimer.cancel();
                giveUpTimer.cancel();
            }
            if (c.state == State.IN_FLIGHT) {
                inFlight--;
            }
            if (err != null) {
                c.state = State.FAILED;
            } else {
                c.state = State.ANSWERED;
                answered++;
                for (Contact n : closer) {
                    insert(n, c.depth + 1, c);
                }
                if (!converging && (!broughtAmongClosest(c) || closestLookFinal())) {
                    converging = true;
                }
            }
            pump();
        });
    }

    /** Whether the {@code size} closest live candidates all share {@link #finalPrefixBits} leading bits with the target. */
    private boolean closestLookFinal() {
        if (finalPrefixBits < 0) {
            return false;
        }
        int considered = 0;
        for (int i = 0; i < candidates.size(); i++) {
            Candidate c = candidates.get(i);
            if (c.state == State.FAILED || c.state == State.GAVE_UP) {
                continue;
            }
            if (++considered == size) {
                // sorted by distance: the size-th is the farthest of them
                return target.commonPrefixLength(c.contact.id()) >= finalPrefixBits;
            }
        }
        return false;
    }

    /** Whether {@code answered}'s reply put a new node among the {@code size} closest live candidates. */
    private boolean broughtAmongClosest(Candidate answered) {
        int considered = 0;
        for (int i = 0; i < candidates.size() && considered < size; i++) {
            Candidate c = candidates.get(i);
            if (c.state == State.FAILED || c.state == State.GAVE_UP) {
                continue;
            }
            considered++;
            if (c.origin == answered) {
                return true;
            }
        }
        return false;
    }

    private void finish() {
        List<Contact> out = new ArrayList<>(size);
        for (Candidate c : candidates) {
            if (c.state == State.ANSWERED) {
                if (out.isEmpty()) {
                    hops = c.depth;
                }
                out.add(c.contact);
                if (out.size() == size) {
                    break;
                }
            }
        }
        result.complete(out);
    }
}
