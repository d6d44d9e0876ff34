package org.p2psip.storage.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * Runs asynchronous tasks with at most {@code parallelism} in flight, results in task order; the first failure
 * fails the whole. Re-entrant completions (a task's future completing on the thread that started it) are
 * trampolined, so thousands of tasks do not grow the stack.
 */
final class Bounded<T> {
    private final List<Supplier<CompletableFuture<T>>> tasks;
    private final int parallelism;
    private final Object[] results;
    private final CompletableFuture<List<T>> done = new CompletableFuture<>();
    private int next;
    private int inFlight;
    private int finished;
    private boolean pumping;
    private boolean again;

    private Bounded(List<Supplier<CompletableFuture<T>>> tasks, int parallelism) {
        this.tasks = tasks;
        this.parallelism = Math.max(1, parallelism);
        this.results = new Object[tasks.size()];
    }

    static <T> CompletableFuture<List<T>> run(List<Supplier<CompletableFuture<T>>> tasks, int parallelism) {
        if (tasks.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        Bounded<T> b = new Bounded<>(tasks, parallelism);
        b.pump();
        return b.done;
    }

    private void pump() {
        synchronized (this) {
            if (pumping) {
                again = true;
                return;
            }
            pumping = true;
        }
        while (true) {
            int i;
            synchronized (this) {
                if (done.isDone() || next >= tasks.size() || inFlight >= parallelism) {
                    if (again) {
                        again = false;
                        continue;
                    }
                    pumping = false;
                    return;
                }
                i = next++;
                inFlight++;
            }
            CompletableFuture<T> f;
            try {
                f = tasks.get(i).get();
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
                synchronized (this) {
                    pumping = false;
                }
                return;
            }
            final int index = i;
            f.whenComplete((r, e) -> finish(index, r, e));
        }
    }

    private void finish(int index, T r, Throwable e) {
        if (e != null) {
            done.completeExceptionally(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
            return;
        }
        boolean all;
        synchronized (this) {
            results[index] = r;
            inFlight--;
            all = ++finished == tasks.size();
        }
        if (all) {
            @SuppressWarnings("unchecked")
            List<T> out = (List<T>) new ArrayList<>(Arrays.asList(results));
            done.complete(out);
        } else {
            pump();
        }
    }
}
