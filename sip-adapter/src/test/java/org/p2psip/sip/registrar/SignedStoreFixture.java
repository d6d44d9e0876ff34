package org.p2psip.sip.registrar;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.p2psip.sip.identity.UserIdentities;
import org.p2psip.sip.testing.PolicyMemoryDht;
import org.p2psip.storage.NameOwners;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.api.DraftDht;
import org.p2psip.storage.api.DraftPolicy;

/**
 * What the tests of {@link SignedContactStore}'s refreshes share: a DHT applying the storage module's verifying
 * {@code DraftPolicy}, a clock they move (whole seconds, as signed expiries are), one user's identities, and the
 * binding of one AOR and Contact.
 */
abstract class SignedStoreFixture {
    final AtomicLong now = new AtomicLong(System.currentTimeMillis() / 1000 * 1000);
    PolicyMemoryDht dht;
    DraftDht draft;
    UserIdentities users;

    /** The AOR whose binding the test stores. */
    abstract String aor();

    /** Its Contact. */
    abstract String contact();

    @BeforeEach
    void startStore() {
        dht = new PolicyMemoryDht(DraftPolicy.of(SignedRecordPolicy.tofu(NameOwners.inMemory())), now::get);
        draft = new DraftDht(dht);
        users = new UserIdentities(draft, null, u -> Optional.empty(), new PrivateKeyRecord.KdfParams(1024, 1, 1),
                now::get);
    }

    @AfterEach
    void stopStore() {
        users.close();
    }

    /** The binding with priority {@code q} (null: none), expiring {@code seconds} from now. */
    ContactBinding binding(String q, long seconds) {
        return new ContactBinding(aor(), contact(), q, "sip:127.0.0.1:5070;lr", List.of(), now.get() + seconds * 1000);
    }

    /** The expiry of the one binding a reader finds. */
    long readExpiry(SignedContactStore store) throws Exception {
        List<ContactBinding> all = store.lookup(aor()).get(10, TimeUnit.SECONDS);
        assertEquals(1, all.size(), all::toString);
        return all.get(0).expiresAtMillis();
    }
}
