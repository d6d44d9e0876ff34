package org.p2psip.overlay.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.link.UdpLinkLayer;
import org.p2psip.overlay.store.AheadChecks;
import org.p2psip.overlay.store.StoragePolicy;

/**
 * A storing node that checks values on a worker pool ({@link OverlayNode#checkValuesOn}), over real UDP: it keeps
 * answering while a check runs, applies the check's refusal, and stores what passes.
 */
class CheckedAheadTest {
    /** Accepts everything but values starting "forged"; its check ahead waits at the gate for values starting "slow". */
    private static final class GatedPolicy implements StoragePolicy {
        final CountDownLatch gate = new CountDownLatch(1);
        final CountDownLatch slowCheckStarted = new CountDownLatch(1);
        final AtomicInteger aheadChecks = new AtomicInteger();
        final AtomicInteger nodeThreadChecks = new AtomicInteger();

        @Override
        public Decision precheckPut(NodeId key, DhtValue value, long nowMillis) {
            aheadChecks.incrementAndGet();
            String text = new String(value.data().unsafeArray(), StandardCharsets.UTF_8);
            if (text.startsWith("slow")) {
                slowCheckStarted.countDown();
                try {
                    gate.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return text.startsWith("forged") ? Decision.refuse("forged: the signature does not verify") : null;
        }

        @Override
        public Decision checkPut(NodeId key, DhtValue value, DhtValue existing, long nowMillis) {
            nodeThreadChecks.incrementAndGet();
            return Decision.ACCEPT; // the forgery must have been caught ahead
        }

        @Override
        public Decision checkRemove(NodeId key, RemoveRequest request, DhtValue existing, long nowMillis) {
            return Decision.ACCEPT;
        }
    }

    private static final long EXPIRES = System.currentTimeMillis() + 600_000;

    private static DhtValue value(String text) {
        return new DhtValue(Bytes.wrap(new byte[] {1}), Bytes.wrap(text.getBytes(StandardCharsets.UTF_8)),
                Bytes.wrap(text.getBytes(StandardCharsets.UTF_8)), EXPIRES);
    }

    private static OverlayNode node(Cluster c, StoragePolicy policy) {
        UdpLinkLayer link = Cluster.await(UdpLinkLayer.bind(c.group, new InetSocketAddress("127.0.0.1", 0),
                Cluster.LOOPBACK.maxDatagramBytes()));
        return new OverlayNode(NodeId.random(c.rnd), link, Cluster.LOOPBACK, policy, c.codec, new Random(c.rnd.nextLong()));
    }

    @Test
    void aStoringNodeAnswersWhileAValueIsCheckedAndAppliesTheChecksOutcome() throws Exception {
        GatedPolicy policy = new GatedPolicy();
        ExecutorService workers = AheadChecks.newWorkers("test-check", 2);
        try (Cluster c = new Cluster(5)) {
            OverlayNode writer = node(c, new GatedPolicy()).start(); // checks on its own thread, accepts all
            c.joinThroughBootstrap(writer); // the first node
            c.nodes.add(writer);
            OverlayNode storing = node(c, policy).checkValuesOn(workers).start();
            c.nodes.add(storing);
            c.joinThroughBootstrap(storing);

            NodeId key = NodeId.random(c.rnd);
            CompletableFuture<PutResult> slow = writer.put(key, value("slow value"));
            assertTrue(policy.slowCheckStarted.await(20, TimeUnit.SECONDS), "the storing node never checked the value");
            // its thread is free: it answers a ping and serves another put while the slow check waits
            assertEquals(storing.id(), Cluster.await(writer.ping(storing.contact().address())).id());
            assertFalse(slow.isDone(), "the put was answered before its check ended");
            Thread.sleep(1_000); // the writer resends the STORE meanwhile (its timeout is 300 ms at most)
            policy.gate.countDown();
            PutResult slowResult = Cluster.await(slow);
            assertEquals(2, slowResult.stored(), "writer and storing node both hold it: " + slowResult);
            assertEquals(List.of(value("slow value")), Cluster.await(storing.localValues(key)));

            // the writer resent the STORE while its check waited: the reply cache dropped the copies, none was checked
            assertTrue(writer.counters().rpcRetransmissions() > 0, "the writer never resent the STORE");
            assertEquals(1, policy.aheadChecks.get(), "a resent STORE was checked again");
            int afterSlow = policy.aheadChecks.get();
            NodeId other = NodeId.random(c.rnd);
            PutResult forged = Cluster.await(writer.put(other, value("forged value")));
            assertEquals(1, forged.stored(), "only the writer's own store took the forgery: " + forged);
            assertTrue(forged.refusals().stream().anyMatch(r -> r.contains("forged: the signature does not verify")),
                    "the check's refusal reaches the writer: " + forged.refusals());
            assertEquals(List.of(), Cluster.await(storing.localValues(other)));
            assertEquals(afterSlow + 1, policy.aheadChecks.get());
            assertEquals(1, policy.nodeThreadChecks.get(), "only the value that passed reached the store's own check");
            assertEquals(afterSlow + 1, storing.aheadCheckCounts().applied());

            // the same value again: the store holds it, so nothing is checked a second time
            assertEquals(2, Cluster.await(writer.put(key, value("slow value"))).stored());
            assertEquals(afterSlow + 1, policy.aheadChecks.get());
        } finally {
            workers.shutdownNow();
        }
    }
}
