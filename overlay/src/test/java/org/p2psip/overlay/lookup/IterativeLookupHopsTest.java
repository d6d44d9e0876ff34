package org.p2psip.overlay.lookup;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.runtime.Scheduler;

class IterativeLookupHopsTest {
    private static Contact contact(String hex, int port) {
        return new Contact(NodeId.fromHex(hex), new InetSocketAddress("192.0.2.1", port));
    }

    @Test
    void hopsIsTheQueryTreeDepthOfTheClosestNode() {
        NodeId target = NodeId.fromHex("0000000000000000000000000000000000000000");
        Contact self = contact("f000000000000000000000000000000000000000", 1);
        Contact seed = contact("8000000000000000000000000000000000000000", 2);
        Contact mid = contact("4000000000000000000000000000000000000000", 3);
        Contact closest = contact("0000000000000000000000000000000000000001", 4);
        // seed (1 hop) knows mid (2 hops), which knows the closest node (3 hops).
        Map<Contact, List<Contact>> replies = Map.of(seed, List.of(mid), mid, List.of(closest), closest, List.of());
        IterativeLookup l = new IterativeLookup(target, 2, 3, self, false,
                c -> CompletableFuture.completedFuture(replies.get(c)));
        List<Contact> result = l.run(List.of(seed)).join();
        assertEquals(List.of(closest, mid), result);
        assertEquals(3, l.hops());
        assertEquals(3, l.queries());
    }

    @Test
    void selfClosestIsZeroHops() {
        NodeId target = NodeId.fromHex("0000000000000000000000000000000000000000");
        Contact self = contact("0000000000000000000000000000000000000001", 1);
        Contact seed = contact("8000000000000000000000000000000000000000", 2);
        IterativeLookup l = new IterativeLookup(target, 2, 3, self, true, c -> CompletableFuture.completedFuture(List.of()));
        assertEquals(List.of(self, seed), l.run(List.of(seed)).join());
        assertEquals(0, l.hops());
    }

    /** Timers that fire only when the test says so. */
    private static class ManualScheduler implements Scheduler {
        final List<Runnable> timers = new ArrayList<>();

        @Override
        public long nowMillis() {
            return 0;
        }

        @Override
        public void execute(Runnable task) {
            task.run();
        }

        @Override
        public Cancellable schedule(Runnable task, long delayMillis) {
            boolean[] cancelled = new boolean[1];
            timers.add(() -> {
                if (!cancelled[0]) {
                    task.run();
                }
            });
            return () -> cancelled[0] = true;
        }

        @Override
        public boolean inThread() {
            return true;
        }

        void fireAll() {
            List<Runnable> now = new ArrayList<>(timers);
            timers.clear();
            now.forEach(Runnable::run);
        }
    }

    @Test
    void aSilentNodeStallsInsteadOfHoldingTheLookup() {
        NodeId target = NodeId.fromHex("0000000000000000000000000000000000000000");
        Contact self = contact("f000000000000000000000000000000000000000", 1);
        Contact dead = contact("0000000000000000000000000000000000000001", 2);
        Contact alive = contact("8000000000000000000000000000000000000000", 3);
        Contact other = contact("4000000000000000000000000000000000000000", 4);
        CompletableFuture<List<Contact>> never = new CompletableFuture<>();
        ManualScheduler sched = new ManualScheduler();
        // alpha 1: the dead node, closest of all, is asked first and holds the only slot until it stalls.
        IterativeLookup l = new IterativeLookup(target, 2, 1, self, false,
                c -> c.equals(dead) ? never : CompletableFuture.completedFuture(List.of(other)), sched, 500);
        CompletableFuture<List<Contact>> result = l.run(List.of(dead, alive));
        assertEquals(false, result.isDone());
        sched.fireAll();
        assertEquals(List.of(other, alive), result.join());
        assertEquals(1, l.stalls());
        // Without a scheduler the lookup waits for the dead node's RPC to fail.
        IterativeLookup patient = new IterativeLookup(target, 2, 1, self, false,
                c -> c.equals(dead) ? never : CompletableFuture.completedFuture(List.of(other)));
        assertEquals(false, patient.run(List.of(dead, alive)).isDone());
    }

    @Test
    void aStalledNodeAmongTheClosestIsWaitedForUntilTheLookupGivesUp() {
        NodeId target = NodeId.fromHex("0000000000000000000000000000000000000000");
        Contact self = contact("f000000000000000000000000000000000000000", 1);
        Contact slow = contact("0000000000000000000000000000000000000001", 2);
        Contact alive = contact("8000000000000000000000000000000000000000", 3);
        CompletableFuture<List<Contact>> slowAnswer = new CompletableFuture<>();
        List<Runnable> stallTimers = new ArrayList<>();
        List<Runnable> giveUpTimers = new ArrayList<>();
        Scheduler sched = new ManualScheduler() {
            @Override
            public Cancellable schedule(Runnable task, long delayMillis) {
                (delayMillis == 500 ? stallTimers : giveUpTimers).add(task);
                return () -> { };
            }
        };
        IterativeLookup l = new IterativeLookup(target, 2, 1, self, false,
                c -> c.equals(slow) ? slowAnswer : CompletableFuture.completedFuture(List.of()), sched, 500);
        CompletableFuture<List<Contact>> result = l.run(List.of(slow, alive));
        new ArrayList<>(stallTimers).forEach(Runnable::run);
        // The slow node stalled: the alive one was asked, but the lookup waits for the slow one's retry.
        assertEquals(false, result.isDone());
        slowAnswer.complete(List.of());
        assertEquals(List.of(slow, alive), result.join());
        assertEquals(1, l.stalls());
    }

    @Test
    void aLookupDoesNotGiveUpOnItsOnlyNodeBeforeAnyoneAnswered() {
        // A joining node's own-id lookup starts from its bootstrap alone; on a lossy path the first reply is lost
        // and the retry comes after the give-up time. Giving up then ended the lookup empty: the node never met its
        // neighbours and stayed in no routing table (SimRouteTest's lost routes).
        NodeId target = NodeId.fromHex("0000000000000000000000000000000000000000");
        Contact self = contact("0000000000000000000000000000000000000001", 1);
        Contact bootstrap = contact("8000000000000000000000000000000000000000", 2);
        Contact neighbour = contact("0000000000000000000000000000000000000002", 3);
        CompletableFuture<List<Contact>> retried = new CompletableFuture<>();
        ManualScheduler sched = new ManualScheduler();
        IterativeLookup l = new IterativeLookup(target, 2, 3, self, false,
                c -> c.equals(bootstrap) ? retried : CompletableFuture.completedFuture(List.of()), sched, 500);
        CompletableFuture<List<Contact>> result = l.run(List.of(bootstrap));
        sched.fireAll(); // stalls
        sched.fireAll(); // and would give up
        assertEquals(false, result.isDone(), "nobody answered yet: the lookup waits for the bootstrap's retry");
        retried.complete(List.of(neighbour));
        assertEquals(List.of(neighbour, bootstrap), result.join());
    }
}
