package org.p2psip.sip.registrar;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The refresh policy of {@link SignedContactStore}: an early refresh of an unchanged binding leaves the signed record
 * as stored (the reader sees the stored expiry); a later one, a changed binding, or fraction 0 signs and stores again.
 * The DHT applies the storage module's verifying {@code DraftPolicy}.
 */
class RefreshCoalescingTest extends SignedStoreFixture {
    static final String AOR = "sip:carol@p2p.test";
    static final String CONTACT = "<sip:carol@192.0.2.7:5062>";

    @Override
    String aor() {
        return AOR;
    }

    @Override
    String contact() {
        return CONTACT;
    }

    @Test
    void anEarlyRefreshKeepsTheStoredRecordAndALaterOneStoresAgain() throws Exception {
        SignedContactStore store = new SignedContactStore(draft, users, now::get, 0.1);
        store.put(binding(null, 3600)).get(10, TimeUnit.SECONDS);
        long first = readExpiry(store);

        now.addAndGet(5_000); // 5 s later: extends by 5 s, under 10 % of 3600 s
        store.put(binding(null, 3600)).get(10, TimeUnit.SECONDS);
        assertEquals(first, readExpiry(store), "the early refresh must leave the stored record");
        assertEquals(1, store.coalescedRefreshes());

        now.addAndGet(400_000); // 405 s after the store: more than 10 % of the interval, stored again
        store.put(binding(null, 3600)).get(10, TimeUnit.SECONDS);
        assertEquals(first + 405_000, readExpiry(store));
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
        long first = readExpiry(store);
        now.addAndGet(2_000);
        store.put(binding(null, 3600)).get(10, TimeUnit.SECONDS);
        assertEquals(first + 2_000, readExpiry(store));
        assertEquals(0, store.coalescedRefreshes());
    }
}
