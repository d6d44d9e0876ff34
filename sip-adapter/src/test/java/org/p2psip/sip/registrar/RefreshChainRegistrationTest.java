package org.p2psip.sip.registrar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.storage.RefreshTrailer;
import org.p2psip.storage.ResourceName;

/**
 * {@link SignedContactStore} with refresh chains, on a DHT that applies the storage module's verifying
 * {@code DraftPolicy}: a binding's record is signed once with a chain, each later refresh of the unchanged binding is
 * stored as the chain's next token (no signature; the policy checks it by hashing), readers see the extended expiry,
 * the chain's end signs again, and with chains off every refresh is signed.
 */
class RefreshChainRegistrationTest extends SignedStoreFixture {
    static final String AOR = "sip:dora@p2p.test";
    static final String CONTACT = "<sip:dora@192.0.2.8:5062>";

    @Override
    String aor() {
        return AOR;
    }

    @Override
    String contact() {
        return CONTACT;
    }

    /** The one value stored under dora's name, as the DHT holds it. */
    DhtValue stored() throws Exception {
        NodeId key = ResourceName.sip("dora@p2p.test").key();
        List<DhtValue> values = dht.get(key).get(10, TimeUnit.SECONDS);
        assertEquals(1, values.size(), values::toString);
        return values.get(0);
    }

    @Test
    void refreshesAreTokensOfTheSignedChainUntilItEnds() throws Exception {
        SignedContactStore store = new SignedContactStore(draft, users, now::get, 0);
        store.put(binding(null, 7200)).get(10, TimeUnit.SECONDS);
        long first = readExpiry(store);
        assertEquals(1, store.signedPuts());
        assertNull(RefreshTrailer.parse(stored().data().unsafeArray()), "the first store is the signed record alone");

        now.addAndGet(5_000);
        store.put(binding(null, 7200)).get(10, TimeUnit.SECONDS);
        assertEquals(1, store.signedPuts(), "no new signature");
        assertEquals(1, store.chainRefreshes());
        RefreshTrailer.Trailer t = RefreshTrailer.parse(stored().data().unsafeArray());
        assertNotNull(t, "the stored value carries the token");
        assertEquals(5, t.j(), "5 s later: token 5 of the 1-second chain");
        assertEquals(first + 5_000, stored().expiresAtMillis());
        assertEquals(first + 5_000, readExpiry(store), "a reader checks the token and sees the extension");

        now.addAndGet(1_000);
        store.put(binding(null, 7200)).get(10, TimeUnit.SECONDS);
        assertEquals(6, RefreshTrailer.parse(stored().data().unsafeArray()).j());
        assertEquals(2, store.chainRefreshes());
        assertEquals(first + 6_000, readExpiry(store));

        // past the chain's last token (3,600 s of extension): a new signature, with a new chain
        now.addAndGet(SignedContactStore.CHAIN_LENGTH * 1000L);
        store.put(binding(null, 7200)).get(10, TimeUnit.SECONDS);
        assertEquals(2, store.signedPuts());
        assertNull(RefreshTrailer.parse(stored().data().unsafeArray()));
        assertEquals(first + 6_000 + SignedContactStore.CHAIN_LENGTH * 1000L, readExpiry(store));
        now.addAndGet(2_000);
        store.put(binding(null, 7200)).get(10, TimeUnit.SECONDS);
        assertEquals(2, store.signedPuts());
        assertEquals(3, store.chainRefreshes());
        assertEquals(2, RefreshTrailer.parse(stored().data().unsafeArray()).j(), "the new chain's token 2");
    }

    @Test
    void aShorterExpiryOrAChangedBindingIsSignedAgain() throws Exception {
        SignedContactStore store = new SignedContactStore(draft, users, now::get, 0);
        store.put(binding(null, 3600)).get(10, TimeUnit.SECONDS);
        now.addAndGet(3_000);
        store.put(binding(null, 600)).get(10, TimeUnit.SECONDS); // shorter: a new value under a new nonce
        assertEquals(2, store.signedPuts());
        assertEquals(0, store.chainRefreshes());
        assertEquals(now.get() + 600_000, readExpiry(store));
        now.addAndGet(1_000);
        store.put(new ContactBinding(AOR, CONTACT, "0.5", "sip:127.0.0.1:5070;lr", List.of(), now.get() + 600_000))
                .get(10, TimeUnit.SECONDS);
        assertEquals(3, store.signedPuts(), "a changed q is a new signed record");
        assertEquals("0.5", store.lookup(AOR).get(10, TimeUnit.SECONDS).get(0).q());
    }

    @Test
    void withoutChainsEveryStoredRefreshIsSigned() throws Exception {
        SignedContactStore store = new SignedContactStore(draft, users, now::get, 0, false);
        store.put(binding(null, 3600)).get(10, TimeUnit.SECONDS);
        now.addAndGet(2_000);
        store.put(binding(null, 3600)).get(10, TimeUnit.SECONDS);
        assertEquals(2, store.signedPuts());
        assertEquals(0, store.chainRefreshes());
        assertNull(RefreshTrailer.parse(stored().data().unsafeArray()));
    }
}
