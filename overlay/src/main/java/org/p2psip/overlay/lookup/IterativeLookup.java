package org.p2psip.overlay.lookup;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.NodeId;

/**
 * Kademlia's parallel iterative lookup. It keeps up to {@code alpha} queries in flight to the closest
 * nodes not yet asked, and finishes when the {@code size} closest nodes it knows have all answered (nodes
 * that fail drop out). The node itself may be seeded as already answered, so a put can count it among
 * the replicas. Runs on the node's thread: queries must complete there.
 */
public final class IterativeLookup {
    /** Asks one node; completes with the closer contacts it returned, or fails. */
    @FunctionalInterface
    public interface Querier {
        CompletableFuture<List<Contact>> query(Contact node);
    }

    private enum State { NEW, IN_FLIGHT, ANSWERED, FAILED }

    private static final class Candidate {
        final Contact contact;
        State state = State.NEW;

        Candidate(Contact contact) {
            this.contact = contact;
        }
    }

    private final NodeId target;
    private final int size;
    private final int alpha;
    private final Querier querier;
    private final Contact self;
    private final boolean includeSelf;
    /** Sorted by distance to the target, closest first. */
    private final ArrayList<Candidate> candidates = new ArrayList<>();
    private final Set<NodeId> known = new HashSet<>();
    private final CompletableFuture<List<Contact>> result = new CompletableFuture<>();
    private int inFlight;
    private int queries;

    /**
     * @param self this node: never queried
     * @param includeSelf count this node as an answered candidate, so it may be in the result
     */
    public IterativeLookup(NodeId target, int size, int alpha, Contact self, boolean includeSelf, Querier querier) {
        this.target = target;
        this.size = size;
        this.alpha = alpha;
        this.querier = querier;
        this.self = self;
        this.includeSelf = includeSelf;
    }

    /** Starts from {@code seeds} (the closest contacts in the routing table). */
    public CompletableFuture<List<Contact>> run(List<Contact> seeds) {
        Candidate me = insert(self);
        if (includeSelf) {
            me.state = State.ANSWERED;
        } else {
            candidates.remove(me);
        }
        for (Contact s : seeds) {
            insert(s);
        }
        pump();
        return result;
    }

    /** Nodes queried so far (a proxy for the lookup's cost and hop count). */
    public int queries() {
        return queries;
    }

    private Candidate insert(Contact c) {
        if (!known.add(c.id())) {
            return null;
        }
        Candidate cand = new Candidate(c);
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
        boolean allAnswered = true;
        for (int i = 0; i < candidates.size() && considered < size; i++) {
            Candidate c = candidates.get(i);
            if (c.state == State.FAILED) {
                continue;
            }
            considered++;
            if (c.state != State.ANSWERED) {
                allAnswered = false;
            }
            if (c.state == State.NEW && inFlight < alpha) {
                send(c);
            }
        }
        // With nothing in flight, nothing is left to ask among the closest: finish with what answered.
        if (allAnswered || inFlight == 0) {
            finish();
        }
    }

    private void send(Candidate c) {
        c.state = State.IN_FLIGHT;
        inFlight++;
        queries++;
        querier.query(c.contact).whenComplete((closer, err) -> {
            inFlight--;
            if (err != null) {
                c.state = State.FAILED;
            } else {
                c.state = State.ANSWERED;
                for (Contact n : closer) {
                    insert(n);
                }
            }
            pump();
        });
    }

    private void finish() {
        List<Contact> out = new ArrayList<>(size);
        for (Candidate c : candidates) {
            if (c.state == State.ANSWERED) {
                out.add(c.contact);
                if (out.size() == size) {
                    break;
                }
            }
        }
        result.complete(out);
    }
}
