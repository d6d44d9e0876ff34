package org.p2psip.nat.ice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The rules of the prepared ICE session: none before the first setup, the next prepared when a setup ends, replaced
 * when half its maximum age old, never handed out older, freed when idle and on close. Sessions are numbered objects here
 * (preparing a real one needs an ICE agent on a non-loopback interface: the NAT lab tests cover that), the executor
 * runs preparations at once and the clock is moved by hand.
 */
class PreparedSessionsTest {
    private static final long MAX_AGE = 20_000;
    private static final long IDLE = 600_000;

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final AtomicInteger made = new AtomicInteger();
    private final List<Integer> freed = new ArrayList<>();
    private final AtomicBoolean failing = new AtomicBoolean();

    private PreparedSessions<Integer> sessions() {
        return new PreparedSessions<>(() -> {
            if (failing.get()) {
                throw new IllegalStateException("no usable local candidates");
            }
            return made.incrementAndGet();
        }, freed::add, Runnable::run, timer, now::get, MAX_AGE, IDLE);
    }

    @AfterEach
    void stopTimer() {
        timer.shutdownNow();
    }

    @Test
    void nothingIsPreparedBeforeTheFirstSetupThenTheNextWhenASetupEnds() {
        try (PreparedSessions<Integer> p = sessions()) {
            p.refresh();
            p.replenish();
            assertEquals(0, made.get(), "a node that sets up no link prepares nothing");
            assertNull(p.take(), "the first setup gathers its own");
            assertFalse(p.hasReady(), "nothing is prepared while the setup runs");
            p.replenish();
            assertTrue(p.hasReady());
            assertEquals(1, p.take());
            p.replenish();
            p.replenish();
            assertEquals(2, p.take(), "one prepared per setup");
            assertTrue(freed.isEmpty());
        }
    }

    @Test
    void theReadySessionIsReplacedAtHalfItsAgeAndNeverHandedOutOlder() {
        try (PreparedSessions<Integer> p = sessions()) {
            p.take();
            p.replenish(); // session 1
            now.addAndGet(MAX_AGE / 2 - 1);
            p.refresh();
            assertEquals(1, made.get(), "young enough");
            now.addAndGet(1);
            p.refresh();
            assertEquals(2, made.get(), "replaced at half its age");
            assertEquals(List.of(1), freed);
            now.addAndGet(MAX_AGE + 1); // the timer did not run (a stalled machine): too old to use
            assertNull(p.take());
            assertEquals(List.of(1, 2), freed);
            p.replenish();
            assertEquals(3, p.take(), "a fresh one after the setup");
        }
    }

    @Test
    void anIdleNodeFreesItsSessionAndStopsUntilTheNextSetup() {
        try (PreparedSessions<Integer> p = sessions()) {
            p.take();
            p.replenish();
            assertTrue(p.hasReady());
            now.addAndGet(IDLE);
            p.refresh();
            assertFalse(p.hasReady());
            assertEquals(List.of(1), freed);
            now.addAndGet(MAX_AGE);
            p.refresh();
            assertEquals(1, made.get(), "nothing prepared while idle");
            assertNull(p.take());
            p.replenish();
            assertEquals(2, p.take());
        }
    }

    @Test
    void failuresLeaveSetupsToGatherTheirOwnAndCloseFreesTheReadyOne() {
        PreparedSessions<Integer> p = sessions();
        failing.set(true);
        assertNull(p.take());
        p.replenish();
        assertNull(p.take());
        p.replenish();
        assertFalse(p.hasReady());
        failing.set(false);
        assertNull(p.take());
        p.replenish();
        assertTrue(p.hasReady());
        p.close();
        assertFalse(p.hasReady());
        assertEquals(List.of(1), freed);
        assertNull(p.take(), "nothing after close");
        p.replenish();
        assertEquals(1, made.get());
    }
}
