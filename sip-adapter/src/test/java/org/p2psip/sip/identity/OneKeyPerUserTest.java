package org.p2psip.sip.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.ValueEvent;
import org.p2psip.sip.registrar.ContactBinding;
import org.p2psip.sip.registrar.SignedContactStore;
import org.p2psip.sip.testing.PolicyMemoryDht;
import org.p2psip.storage.NameOwners;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.api.DraftDht;
import org.p2psip.storage.api.DraftPolicy;

/**
 * A user gets exactly one key: concurrent first requests share one creation, and a first publication that timed out
 * (though a storing node kept the certificate, so it owns the user by that key in {@code tofu} mode) is retried with
 * the same key, after which the user's REGISTER works. The DHT applies the storage module's verifying policy.
 */
class OneKeyPerUserTest {
    static final String USER = "dave@p2p.test";
    final AtomicLong now = new AtomicLong(System.currentTimeMillis());
    /** Puts still to be answered with a timeout, though the value is stored: a reply lost in the overlay. */
    final AtomicInteger lostReplies = new AtomicInteger();
    DraftDht draft;
    UserIdentities users;

    /** Stores every put, but answers the next {@link #lostReplies} of them with a timeout. */
    final class LostReplyDht implements Dht {
        final PolicyMemoryDht inner = new PolicyMemoryDht(
                DraftPolicy.of(SignedRecordPolicy.tofu(NameOwners.inMemory())), now::get);

        @Override
        public CompletableFuture<PutResult> put(NodeId key, DhtValue value) {
            CompletableFuture<PutResult> r = inner.put(key, value);
            if (lostReplies.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                return r.thenCompose(x -> CompletableFuture.failedFuture(
                        new TimeoutException("no answer from the storing nodes (test)")));
            }
            return r;
        }

        @Override
        public CompletableFuture<List<DhtValue>> get(NodeId key) {
            return inner.get(key);
        }

        @Override
        public CompletableFuture<PutResult> remove(NodeId key, Bytes owner, Bytes nonce, Bytes proof) {
            return inner.remove(key, owner, nonce, proof);
        }

        @Override
        public Subscription listen(NodeId key, Consumer<ValueEvent> listener) {
            return inner.listen(key, listener);
        }
    }

    @BeforeEach
    void start() {
        draft = new DraftDht(new LostReplyDht());
        users = new UserIdentities(draft, null, u -> Optional.empty(), new PrivateKeyRecord.KdfParams(1024, 1, 1),
                now::get);
    }

    @AfterEach
    void stop() {
        users.close();
    }

    @Test
    void concurrentFirstRequestsShareOneKey() throws Exception {
        List<CompletableFuture<SigningIdentity>> all = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            all.add(users.identity(USER));
        }
        Set<Object> keys = new HashSet<>();
        for (CompletableFuture<SigningIdentity> f : all) {
            keys.add(f.get(20, TimeUnit.SECONDS).publicKey());
        }
        assertEquals(1, keys.size(), "concurrent first requests of one user must share one key");
    }

    @Test
    void aTimedOutFirstPublicationIsRetriedWithTheSameKey() throws Exception {
        lostReplies.set(1); // the certificate is stored, but its put times out
        ExecutionException first = assertThrows(ExecutionException.class,
                () -> users.identity(USER).get(20, TimeUnit.SECONDS));
        SigningIdentity retried = users.identity(USER).get(20, TimeUnit.SECONDS);
        assertEquals(retried.publicKey(), users.identity(USER).get(20, TimeUnit.SECONDS).publicKey());

        // the user works afterwards: a REGISTER's contact record is stored and found under the one key
        SignedContactStore store = new SignedContactStore(draft, users, now::get);
        store.put(new ContactBinding("sip:" + USER, "<sip:dave@192.0.2.9:5062>", null, "sip:127.0.0.1:5070;lr",
                List.of(), now.get() + 3_600_000)).get(20, TimeUnit.SECONDS);
        assertEquals(1, store.lookup("sip:" + USER).get(20, TimeUnit.SECONDS).size(), first::toString);
    }

    @Test
    void theRetryAlsoStoresThePrivateRecordSoASecondPeerGetsTheSameKey() throws Exception {
        UserIdentities withPassword = new UserIdentities(draft, null, u -> Optional.of("secret"),
                new PrivateKeyRecord.KdfParams(1024, 1, 1), now::get);
        UserIdentities secondPeer = new UserIdentities(draft, null, u -> Optional.of("secret"),
                new PrivateKeyRecord.KdfParams(1024, 1, 1), now::get);
        try {
            lostReplies.set(1); // the certificate is stored, its reply lost: the private: record was not put
            assertThrows(ExecutionException.class, () -> withPassword.identity(USER).get(20, TimeUnit.SECONDS));
            SigningIdentity key = withPassword.identity(USER).get(20, TimeUnit.SECONDS); // the retry: a replay
            assertEquals(key.publicKey(), secondPeer.identity(USER).get(20, TimeUnit.SECONDS).publicKey());
        } finally {
            withPassword.close();
            secondPeer.close();
        }
    }
}
