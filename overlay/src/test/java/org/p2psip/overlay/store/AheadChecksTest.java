package org.p2psip.overlay.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;

/** {@link AheadChecks} with hand-driven executors: the order of completion is chosen by the test. */
class AheadChecksTest {
    /** Queues tasks until the test runs them, in any order. */
    private static final class Manual implements Executor {
        final List<Runnable> tasks = new ArrayList<>();

        @Override
        public void execute(Runnable r) {
            tasks.add(r);
        }

        void run(int i) {
            tasks.set(i, null).run();
        }
    }

    /** The node's thread: runs what is handed to it at once, in order. */
    private static final class NodeThread implements Executor {
        final ArrayDeque<Runnable> queue = new ArrayDeque<>();

        @Override
        public void execute(Runnable r) {
            queue.add(r);
        }

        void runAll() {
            while (!queue.isEmpty()) {
                queue.poll().run();
            }
        }
    }

    @Test
    void requestsAreAppliedInArrivalOrderWhateverOrderTheirChecksEnd() {
        Manual workers = new Manual();
        NodeThread node = new NodeThread();
        AheadChecks checks = new AheadChecks(workers, node, 8);
        List<String> applied = new ArrayList<>();
        for (String name : List.of("put", "remove", "put2")) {
            assertTrue(checks.submit(() -> null, refusal -> applied.add(name)));
        }
        workers.run(2);
        workers.run(1);
        node.runAll();
        assertEquals(List.of(), applied, "the first request's check has not ended: nothing after it is applied");
        assertEquals(3, checks.pending());
        workers.run(0);
        node.runAll();
        assertEquals(List.of("put", "remove", "put2"), applied);
        assertEquals(0, checks.pending());
        assertEquals(3, checks.applied());
    }

    @Test
    void aRequestWithNothingToCheckIsAppliedAtOnceOrAfterTheOnesWaitingWithoutAHandOff() {
        Manual workers = new Manual();
        NodeThread node = new NodeThread();
        AheadChecks checks = new AheadChecks(workers, node, 2);
        List<String> applied = new ArrayList<>();
        assertTrue(checks.applyInOrder(refusal -> applied.add("refresh")));
        assertEquals(List.of("refresh"), applied, "nothing waits: applied at once, on the caller's thread");
        assertTrue(workers.tasks.isEmpty() && node.queue.isEmpty(), "no task handed to another thread");

        assertTrue(checks.submit(() -> null, refusal -> applied.add("put")));
        assertTrue(checks.applyInOrder(refusal -> applied.add("refresh2")));
        assertEquals(List.of("refresh"), applied, "a put waits for its check: the refresh after it waits too");
        assertFalse(checks.applyInOrder(refusal -> applied.add("refresh3")), "past the bound: refused");
        assertEquals(1, checks.shed());
        workers.run(0);
        node.runAll();
        assertEquals(List.of("refresh", "put", "refresh2"), applied);
        assertEquals(3, checks.applied());
    }

    @Test
    void aRefusalOfTheCheckReachesTheRequestAndAnAcceptanceOrAFailureDoesNot() {
        Manual workers = new Manual();
        NodeThread node = new NodeThread();
        AheadChecks checks = new AheadChecks(workers, node, 8);
        List<StoragePolicy.Decision> seen = new ArrayList<>();
        checks.submit(() -> StoragePolicy.Decision.refuse("bad signature"), seen::add);
        checks.submit(() -> StoragePolicy.Decision.ACCEPT, seen::add);
        checks.submit(() -> {
            throw new IllegalStateException("a bug in the policy");
        }, seen::add);
        for (int i = 0; i < 3; i++) {
            workers.run(i);
        }
        node.runAll();
        assertEquals(3, seen.size());
        assertEquals("bad signature", seen.get(0).reason());
        assertNull(seen.get(1), "accepted ahead: the store's own check decides");
        assertNull(seen.get(2), "a failing check leaves it to the store's own check");
    }

    @Test
    void pastTheBoundRequestsAreRefusedAndCounted() {
        Manual workers = new Manual();
        NodeThread node = new NodeThread();
        AheadChecks checks = new AheadChecks(workers, node, 2);
        List<Integer> applied = new ArrayList<>();
        assertTrue(checks.submit(() -> null, r -> applied.add(1)));
        assertTrue(checks.submit(() -> null, r -> applied.add(2)));
        assertFalse(checks.submit(() -> null, r -> applied.add(3)));
        assertEquals(1, checks.shed());
        workers.run(0);
        workers.run(1);
        node.runAll();
        assertEquals(List.of(1, 2), applied);
        assertTrue(checks.submit(() -> null, r -> applied.add(4)), "room again once the waiting ones are applied");
    }

    @Test
    void withItsWorkersShutDownARequestIsAppliedAtOnceOnTheNodesThread() {
        NodeThread node = new NodeThread();
        AheadChecks checks = new AheadChecks(r -> {
            throw new RejectedExecutionException("shut down");
        }, node, 4);
        List<StoragePolicy.Decision> seen = new ArrayList<>();
        assertTrue(checks.submit(() -> StoragePolicy.Decision.refuse("never asked"), seen::add));
        assertEquals(1, seen.size());
        assertNull(seen.get(0));
    }
}
