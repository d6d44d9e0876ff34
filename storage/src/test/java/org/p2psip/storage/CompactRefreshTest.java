package org.p2psip.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.ValueStore;
import org.p2psip.overlay.wire.Message.Status;

/** Compact refreshes: the token without the signed document, expanded by a storing node that holds the record. */
class CompactRefreshTest {
    private static final ResourceName BOB = ResourceName.sip("bob@example.net");
    private static final NodeId KEY = BOB.key();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int N = 100;
    private static final int D = 60;

    private final SigningIdentity bob = SigningIdentity.of(TestPki.ec(), List.of(), "bob@example.net");
    private final RefreshChain chain = RefreshChain.create(N, D, RANDOM);
    private final Instant e0 = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);

    private DhtValue signed(String contact) throws Exception {
        DhtRecord r = DhtRecord.of(BOB, e0, "n1", new ValueContent.Contacts(List.of(Contact.of(contact))));
        return SignedValues.put(new DhtRecord(r.id(), r.key(), r.value().withChain(chain.params())), bob);
    }

    private DhtValue compact(DhtValue signed, int j, byte[] token) {
        return CompactRefresh.of(SignedValues.refresh(signed, j, token), CompactRefresh.digest(signed.data().unsafeArray()));
    }

    private static ValueStore store(SignedRecordPolicy p) {
        return new ValueStore(p, 1 << 24, 1 << 22, 64, Duration.ofDays(7).toMillis());
    }

    private static ValueStore.Outcome put(ValueStore s, DhtValue v) {
        return s.put(KEY, v, "peer", System.currentTimeMillis());
    }

    private static void assertRefused(Refusal code, ValueStore.Outcome o) {
        assertEquals(Status.REFUSED, o.status(), o.reason());
        assertTrue(o.reason().startsWith(code.name() + ":"), o.reason());
    }

    @Test
    void aCompactRefreshIsTheTokenAloneAndParsesExactly() throws Exception {
        DhtValue signed = signed("sip:bob@192.0.2.7:5060");
        DhtValue full = SignedValues.refresh(signed, 7, chain.token(7));
        DhtValue c = compact(signed, 7, chain.token(7));
        assertEquals(full.id(), c.id());
        assertEquals(full.expiresAtMillis(), c.expiresAtMillis());
        assertTrue(c.data().length() < 200, "a compact refresh fits any datagram: " + c.data().length() + " bytes");
        CompactRefresh.Ref ref = CompactRefresh.parse(c.data().unsafeArray());
        assertEquals(7, ref.trailer().j());
        assertArrayEquals(chain.token(7), ref.trailer().token().toArray());
        assertEquals(CompactRefresh.digest(signed.data().unsafeArray()), ref.signedDigest());
        assertNull(CompactRefresh.parse(signed.data().unsafeArray()), "a signed record is not a compact refresh");
        assertNull(CompactRefresh.parse(full.data().unsafeArray()), "nor is a full refresh");
        String text = new String(c.data().unsafeArray(), StandardCharsets.US_ASCII);
        for (String bad : List.of(text.replace("-->", "->"), text.replace("s=", "s= "), text.substring(0, 60),
                "<!--p2psip-chain-ref s=" + "A".repeat(43) + "-->" + text.substring(text.indexOf("<!--p2psip-chain j=")),
                text + " ", text.replace("j=7", "j=07"))) {
            RecordException e = assertThrows(RecordException.class, () -> CompactRefresh.parse(bad.getBytes(StandardCharsets.US_ASCII)),
                    bad);
            assertEquals(Refusal.BAD_RECORD, e.code());
        }
        assertThrows(IllegalArgumentException.class, () -> CompactRefresh.of(signed, CompactRefresh.digest(new byte[1])));
    }

    @Test
    void aReplicaHoldingTheRecordStoresTheFullRefreshByHashingOnly() throws Exception {
        SignedRecordPolicy policy = SignedRecordPolicy.tofu(NameOwners.inMemory());
        ValueStore s = store(policy);
        DhtValue signed = signed("sip:bob@192.0.2.7:5060");
        assertEquals(Status.OK, put(s, signed).status());
        long now = System.currentTimeMillis();
        DhtValue c5 = compact(signed, 5, chain.token(5));
        assertNull(policy.precheckPut(KEY, c5, now), "decided against the stored value, not ahead");
        ValueStore.Outcome o = put(s, c5);
        assertEquals(Status.OK, o.status(), o.reason());
        assertEquals(SignedValues.refresh(signed, 5, chain.token(5)), s.get(KEY, now).get(0),
                "the store holds the full refresh, as if it had been sent");
        // twice in a row: the next compact one hashes from the held token
        assertEquals(Status.OK, put(s, compact(signed, 9, chain.token(9))).status());
        assertEquals(SignedValues.refresh(signed, 9, chain.token(9)), s.get(KEY, now).get(0));
        assertEquals(1, policy.fullVerifications(), "no signature verified for a compact refresh");
        // the same refuses as a full refresh would: forged, older or equal, beyond the chain, longer than granted
        byte[] forged = new byte[32];
        RANDOM.nextBytes(forged);
        assertRefused(Refusal.BAD_SIGNATURE, put(s, compact(signed, 10, forged)));
        assertRefused(Refusal.REPLAY, put(s, compact(signed, 9, chain.token(9))));
        assertRefused(Refusal.REPLAY, put(s, compact(signed, 3, chain.token(3))));
        DhtValue c12 = compact(signed, 12, chain.token(12));
        assertRefused(Refusal.EXPIRED, put(s, new DhtValue(c12.owner(), c12.nonce(), c12.data(),
                c12.expiresAtMillis() + D * 1000L)));
        assertEquals(SignedValues.refresh(signed, 9, chain.token(9)), s.get(KEY, now).get(0), "refusals leave the value as it was");
    }

    @Test
    void aReplicaWithoutThatSignedVersionRefusesSoTheWriterSendsTheFullValue() throws Exception {
        DhtValue signed = signed("sip:bob@192.0.2.7:5060");
        ValueStore empty = store(SignedRecordPolicy.tofu(NameOwners.inMemory()));
        assertRefused(Refusal.NOT_HELD, put(empty, compact(signed, 2, chain.token(2))));
        assertTrue(empty.get(KEY, System.currentTimeMillis()).isEmpty());
        assertEquals(Status.OK, put(empty, SignedValues.refresh(signed, 2, chain.token(2))).status(), "the full value is taken");

        // a replica holding another signed version under the same nonce (the writer signed again since)
        ValueStore older = store(SignedRecordPolicy.tofu(NameOwners.inMemory()));
        DhtValue before = signed("sip:bob@192.0.2.8:5060");
        assertEquals(Status.OK, put(older, before).status());
        assertRefused(Refusal.NOT_HELD, put(older, compact(signed, 2, chain.token(2))));
        // a compact refresh naming the held version but with a token of another chain is a forgery
        assertRefused(Refusal.BAD_SIGNATURE, put(older, CompactRefresh.of(SignedValues.refresh(before, 2,
                RefreshChain.create(N, D, RANDOM).token(2)), CompactRefresh.digest(before.data().unsafeArray()))));
    }

    @Test
    void aPersistentReplicaStoresTheExpandedValue(@TempDir Path dir) throws Exception {
        DhtValue signed = signed("sip:bob@192.0.2.7:5060");
        Path file = dir.resolve("r.mv");
        try (RecordStore s = RecordStore.open(file, RecordStore.Options.defaults(), st -> SignedRecordPolicy.tofu(st.nameOwners()))) {
            long now = System.currentTimeMillis();
            assertEquals(Status.OK, s.put(KEY, signed, now).status());
            ValueStore.Outcome o = s.put(KEY, compact(signed, 4, chain.token(4)), now);
            assertEquals(Status.OK, o.status(), o.reason());
            assertEquals(SignedValues.refresh(signed, 4, chain.token(4)), o.value());
        }
        try (RecordStore s = RecordStore.open(file, RecordStore.Options.defaults(), st -> SignedRecordPolicy.tofu(st.nameOwners()))) {
            assertEquals(SignedValues.refresh(signed, 4, chain.token(4)), s.get(KEY, System.currentTimeMillis()).get(0),
                    "the full refresh survives a restart");
            assertFalse(s.get(KEY, System.currentTimeMillis()).get(0).data().utf8String().startsWith("<!--p2psip-chain-ref"));
        }
    }
}
