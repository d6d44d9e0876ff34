package org.p2psip.overlay.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.runtime.Scheduler;
import org.p2psip.overlay.wire.Frame;
import org.p2psip.overlay.wire.Message;

class RpcEngineCancelTest {
    /** A scheduler that never fires timers: the test drives everything by hand on its own thread. */
    private static final Scheduler MANUAL = new Scheduler() {
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
            return () -> { };
        }

        @Override
        public boolean inThread() {
            return true;
        }
    };

    @Test
    void callsMadeByFailureCallbacksDuringCancelAllFailToo() {
        RpcEngine rpc = new RpcEngine(MANUAL, NodeId.random(new Random(1)), (to, f) -> { }, 500, 2, new Random(2));
        InetSocketAddress peer = new InetSocketAddress("192.0.2.1", 4000);
        List<CompletableFuture<Frame>> retries = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            // Like a lookup: when one query fails, ask the next node.
            rpc.call(peer, new Message.Ping()).whenComplete((f, e) -> retries.add(rpc.call(peer, new Message.Ping())));
        }
        rpc.cancelAll(new IllegalStateException("stopped"));
        assertEquals(5, retries.size());
        assertTrue(retries.stream().allMatch(CompletableFuture::isCompletedExceptionally));
        assertEquals(0, rpc.pendingCount());
    }
}
