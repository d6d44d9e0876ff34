package org.p2psip.sip.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.DhtException;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.ValueEvent;
import org.p2psip.storage.NameOwners;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.api.DraftDht;
import org.p2psip.storage.api.DraftPolicy;
import org.p2psip.sip.testing.PolicyMemoryDht;

/**
 * A second peer of a user never adopts a second key that only some storing nodes accept (they would then disagree
 * on who owns the user, in {@code tofu} mode): two storing nodes, each with its own verifying policy and ownership
 * registry; the first peer's certificate reached only one of them.
 */
class NoSecondKeyTest {
    static final String USER = "erin@p2p.test";
    final AtomicLong now = new AtomicLong(System.currentTimeMillis());
    final PolicyMemoryDht a = replica();
    final PolicyMemoryDht b = replica();
    /** Which replicas puts reach and gets ask (a node that missed a put, a get that missed a node). */
    volatile boolean putToA = true, putToB = true, getFromA = true;
    final List<UserIdentities> peers = new ArrayList<>();

    PolicyMemoryDht replica() {
        return new PolicyMemoryDht(DraftPolicy.of(SignedRecordPolicy.tofu(NameOwners.inMemory())), now::get);
    }

    /** Puts to both replicas (stored where accepted, the others' reasons reported), gets the union. */
    final class TwoReplicas implements Dht {
        @Override
        public CompletableFuture<PutResult> put(NodeId key, DhtValue value) {
            List<String> refusals = new ArrayList<>();
            int stored = 0;
            int asked = 0;
            for (PolicyMemoryDht r : List.of(a, b)) {
                asked++;
                if (r == a ? !putToA : !putToB) {
                    refusals.add("AGAIN: the node did not answer (test)");
                    continue;
                }
                try {
                    r.put(key, value).join();
                    stored++;
                } catch (RuntimeException e) {
                    refusals.add(e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
                }
            }
            return stored == 0
                    ? CompletableFuture.failedFuture(new DhtException(
                            org.p2psip.overlay.wire.Message.Status.REFUSED, String.join("; ", refusals)))
                    : CompletableFuture.completedFuture(new PutResult(stored, asked, refusals));
        }

        @Override
        public CompletableFuture<List<DhtValue>> get(NodeId key) {
            Map<DhtValue.ValueId, DhtValue> all = new LinkedHashMap<>();
            if (getFromA) {
                a.get(key).join().forEach(v -> all.put(v.id(), v));
            }
            b.get(key).join().forEach(v -> all.putIfAbsent(v.id(), v));
            return CompletableFuture.completedFuture(new ArrayList<>(all.values()));
        }

        @Override
        public CompletableFuture<PutResult> remove(NodeId key, Bytes owner, Bytes nonce, Bytes proof) {
            return b.remove(key, owner, nonce, proof);
        }

        @Override
        public Subscription listen(NodeId key, Consumer<ValueEvent> listener) {
            throw new UnsupportedOperationException("no listen here");
        }
    }

    UserIdentities peer() {
        // no password: the key is not shared through a private: record, so the second peer cannot adopt it
        UserIdentities p = new UserIdentities(new DraftDht(new TwoReplicas()), null, u -> Optional.empty(),
                new PrivateKeyRecord.KdfParams(1024, 1, 1), now::get);
        peers.add(p);
        return p;
    }

    @AfterEach
    void stop() {
        peers.forEach(UserIdentities::close);
    }

    /** The first peer's certificate reaches A only (B does not answer): its key is not confirmed yet. */
    UserIdentities firstPeerClaimsAtAOnly() {
        putToB = false;
        UserIdentities first = peer();
        ExecutionException e = assertThrows(ExecutionException.class, () -> first.identity(USER).get(20, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("1 of 2 storing nodes"), e.toString());
        putToB = true;
        return first;
    }

    @Test
    void aSecondPeerThatFindsTheCertificateCreatesNoKey() throws Exception {
        UserIdentities first = firstPeerClaimsAtAOnly();
        ExecutionException e = assertThrows(ExecutionException.class, () -> peer().identity(USER).get(20, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("owned by another key"), e.toString());
        assertTrue(b.get(org.p2psip.storage.ResourceName.certificate(USER).key()).join().isEmpty(),
                "no second key may claim the user at the node that missed the first claim");
        SigningIdentity key = first.identity(USER).get(20, TimeUnit.SECONDS); // retried with its one key, now on both
        assertEquals(key.owner(), b.get(org.p2psip.storage.ResourceName.certificate(USER).key()).join().get(0).owner());
    }

    @Test
    void aSecondKeyStoredWhereTheOwnerDidNotAnswerIsNotUsed() throws Exception {
        firstPeerClaimsAtAOnly();
        getFromA = false; // A does not answer: the second peer's get misses the certificate...
        putToA = false; // ...and its put does not reach A
        UserIdentities second = peer();
        ExecutionException e = assertThrows(ExecutionException.class, () -> second.identity(USER).get(20, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("1 of 2 storing nodes"), e.toString());
        getFromA = true; // A answers again: the retry (same key) is refused there, and the second key is never used
        putToA = true;
        e = assertThrows(ExecutionException.class, () -> second.identity(USER).get(20, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("owned by another key"), e.toString());
    }

    @Test
    void aSecondKeyRefusedBySomeNodesIsNotUsed() throws Exception {
        firstPeerClaimsAtAOnly();
        getFromA = false; // the second peer's get misses the certificate
        ExecutionException e = assertThrows(ExecutionException.class, () -> peer().identity(USER).get(20, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("owned by another key"), e.toString());
    }
}
