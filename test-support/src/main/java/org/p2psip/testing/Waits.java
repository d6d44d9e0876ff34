package org.p2psip.testing;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Waiting in tests on a loaded machine: generous deadlines, polled conditions, never a fixed sleep that asserts a
 * moment. The failure names what was awaited.
 */
public final class Waits {
    private Waits() {
    }

    /** The future's value within 20 s; else an AssertionError naming its failure. */
    public static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("operation failed: " + e, e);
        }
    }

    /** Polls {@code cond} every 20 ms until it holds; an AssertionError naming {@code what} after {@code maxMillis}. */
    public static void until(long maxMillis, BooleanSupplier cond, String what) throws InterruptedException {
        long end = System.nanoTime() + maxMillis * 1_000_000;
        while (System.nanoTime() < end) {
            if (cond.getAsBoolean()) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("timed out after " + maxMillis + " ms waiting for " + what);
    }
}
