package org.p2psip.sip.registrar;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.p2psip.sip.identity.UserIdentities;
import org.p2psip.sip.testing.PolicyMemoryDht;
import org.p2psip.storage.NameOwners;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.api.DraftDht;
import org.p2psip.storage.api.DraftPolicy;

/**
 * The refresh policy of {@link SignedContactStore}: an early refresh of an unchanged binding leaves the signed record
 * as stored (the reader sees the stored expiry); a later one, a changed binding, or fraction 0 signs and stores again.
 * The DHT applies the storage module's verifying {@code DraftPolicy}.
 */
class RefreshCoalescingTest {
    static final String AOR = "sip:carol@p2p.test";
    static final String CONTACT = "<sip:carol@192.0.2.7:5062>";
    final AtomicLong now = new AtomicLong(System.currentTimeMillis());
    UserIdentities users;
    DraftDht draft;

    @BeforeEach
    void start() {
        PolicyMemoryDht dht = new PolicyMemoryDht(DraftPolicy.of(SignedRecordPolicy.tofu(NameOwners.inMemory())), now::get);
        draft = new DraftDht(dht);
        users = new UserIdentities(draft, null, u -> Optional.empty(), new PrivateKeyRecord.KdfParams(1024, 1, 1),
                now::get);
    }

    @AfterEach
    void stop() {
        users.close();
    }

    ContactBinding binding(String q, long seconds) {
        return new ContactBinding(AOR, CONTACT, q, "sip:127.0.0.1:5070;lr", List.of(), now.get() + seconds * 1000);
    }

    long storedExpiry(SignedContactStore store) throws Exception {
        List<ContactBinding> all = store.lookup(AOR).get(10, TimeUnit.SECONDS);
        assertEquals(1, all.size(), all::toString);
        return all.get(0).expiresAtMillis();
    }

    @Test
    void anEarlyRefreshKeepsTheStoredRecordAndALaterOneStoresAgain() throws Exception {
        SignedContactStore store = new SignedContactStore(draft, users, now::get, 0.1);
        store.put(binding(null, 3600)).get(10, TimeUnit.SECONDS);
        long first = storedExpiry(store);

        now.addAndGet(5_000); // 5 s later: extends by 5 s, under 10 % of 3600 s
        store.put(binding(null, 3600)).get(10, TimeUnit.SECONDS);
        assertEquals(first, storedExpiry(store), "the early refresh must leave the stored record");
        assertEquals(1, store.coalescedRefreshes());

        now.addAndGet(400_000); // 405 s after the store: more than 10 % of the interval, stored again
        store.put(binding(null, 3600)).get(10, TimeUnit.SECONDS);
        assertEquals(first + 405_000, storedExpiry(store));
        assertEquals(1, store.coalescedRefreshes());
    }

    @Test
    void aChangedBindingIsStoredAtOnce() throws Exception {
        SignedContactStore store = new SignedContactStore(draft, users, now::get, 0.1);
        store.put(binding(null, 3600)).get(10, TimeUnit.SECONDS);
        now.addAndGet(2_000);
        store.put(binding("0.5", 3600)).get(10, TimeUnit.SECONDS);
        assertEquals("0.5", store.lookup(AOR).get(10, TimeUnit.SECONDS).get(0).q());
        assertEquals(0, store.coalescedRefreshes());
    }

    @Test
    void fractionZeroStoresEveryRefresh() throws Exception {
        SignedContactStore store = new SignedContactStore(draft, users, now::get, 0);
        store.put(binding(null, 3600)).get(10, TimeUnit.SECONDS);
        long first = storedExpiry(store);
        now.addAndGet(2_000);
        store.put(binding(null, 3600)).get(10, TimeUnit.SECONDS);
        assertEquals(first + 2_000, storedExpiry(store));
        assertEquals(0, store.coalescedRefreshes());
    }
}
