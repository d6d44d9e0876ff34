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
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.StoragePolicy;
import org.p2psip.overlay.store.StoragePolicy.Decision;
import org.p2psip.overlay.store.ValueStore;
import org.p2psip.overlay.wire.Message.Status;

/** Refresh chains at the storage level: the chain, the trailer, the schema, the storing node's checks and removal. */
class RefreshChainTest {
    private static final ResourceName BOB = ResourceName.sip("bob@example.net");
    private static final NodeId KEY = BOB.key();
    private static final long WEEK = Duration.ofDays(7).toMillis();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int N = 100;
    private static final int D = 60;

    private final SigningIdentity bob = SigningIdentity.of(TestPki.ec(), List.of(), "bob@example.net");
    private final RefreshChain chain = RefreshChain.create(N, D, RANDOM);
    private final Instant e0 = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);

    private DhtRecord record(RefreshChain.Params params) {
        DhtRecord r = DhtRecord.of(BOB, e0, "n1", new ValueContent.Contacts(List.of(Contact.of("sip:bob@192.0.2.7:5060"))));
        return new DhtRecord(r.id(), r.key(), r.value().withChain(params));
    }

    private static ValueStore store(StoragePolicy p) {
        return new ValueStore(p, 1 << 24, 1 << 22, 64, WEEK);
    }

    private static ValueStore.Outcome put(ValueStore s, DhtValue v) {
        return s.put(KEY, v, "peer", System.currentTimeMillis());
    }

    private static void assertRefused(Refusal code, ValueStore.Outcome o) {
        assertEquals(Status.REFUSED, o.status(), o.reason());
        assertTrue(o.reason().startsWith(code.name() + ":"), o.reason());
    }

    private static void assertRefused(Refusal code, Decision d) {
        assertFalse(d.accepted());
        assertTrue(d.reason().startsWith(code.name() + ":"), d.reason());
    }

    private long expiryAt(int j) {
        return e0.toEpochMilli() + (long) j * D * 1000;
    }

    @Test
    void tokensHashToTheAnchorAndCheckpointsGiveEveryToken() {
        byte[] seed = new byte[32];
        RANDOM.nextBytes(seed);
        RefreshChain c = RefreshChain.fromSeed(seed, 300, 1);
        assertArrayEquals(RefreshChain.hash(seed, 300), c.params().anchor().unsafeArray());
        for (int j : new int[] {1, 2, 63, 64, 65, 128, 236, 237, 299, 300}) {
            assertArrayEquals(RefreshChain.hash(seed, 300 - j), c.token(j), "token " + j);
            assertTrue(RefreshChain.verify(c.params().anchor().unsafeArray(), 0, c.token(j), j));
        }
        assertTrue(RefreshChain.verify(c.token(10), 10, c.token(75), 75), "from a known token, the gap only");
        assertFalse(RefreshChain.verify(c.token(10), 10, c.token(10), 10), "not newer");
        assertFalse(RefreshChain.verify(c.params().anchor().unsafeArray(), 0, c.token(10), 11), "wrong index");
        assertThrows(IllegalArgumentException.class, () -> c.token(301));
        assertThrows(IllegalArgumentException.class, () -> c.token(0));
        // domain separation: a plain SHA-256 chain is another chain
        assertFalse(Arrays.equals(RefreshChain.hash(seed, 1), LocallySigned.sha256(seed)));
    }

    @Test
    void theTrailerIsAnXmlCommentAfterTheSignedPartAndParsesExactly() throws Exception {
        DhtValue signed = SignedValues.put(record(chain.params()), bob);
        DhtValue refreshed = SignedValues.refresh(signed, 7, chain.token(7));
        byte[] data = refreshed.data().unsafeArray();
        RefreshTrailer.Trailer t = RefreshTrailer.parse(data);
        assertEquals(7, t.j());
        assertArrayEquals(chain.token(7), t.token().unsafeArray());
        assertArrayEquals(signed.data().unsafeArray(), RefreshTrailer.signedPart(data));
        assertEquals(expiryAt(7), refreshed.expiresAtMillis());
        assertEquals(signed.owner(), refreshed.owner());
        assertEquals(signed.nonce(), refreshed.nonce());
        assertNull(RefreshTrailer.parse(signed.data().unsafeArray()));
        // still a well-formed, valid document for the hardened parser, comment and all
        assertEquals("dhtRecord", SecureXml.defaults().parse(data).getDocumentElement().getLocalName());
        // a refresh of a refresh keeps the signed part
        assertArrayEquals(signed.data().unsafeArray(), RefreshTrailer.signedPart(
                SignedValues.refresh(refreshed, 9, chain.token(9)).data().unsafeArray()));
        byte[] part = signed.data().unsafeArray();
        String tok = java.util.Base64.getEncoder().encodeToString(chain.token(7));
        for (String bad : new String[] {"<!--p2psip-chain j=07 t=" + tok + "-->", "<!--p2psip-chain j=0 t=" + tok + "-->",
                "<!--p2psip-chain j=100001 t=" + tok + "-->", "<!--p2psip-chain j=5 t=" + tok.substring(4) + "-->",
                "<!--p2psip-chain j=5 t=" + tok + " -->", "<!--p2psip-chain j=5 t=" + tok.replace('A', '*').replace('a', '*') + "x-->",
                "<!--p2psip-chain j= t=" + tok + "-->"}) {
            byte[] d = (new String(part, StandardCharsets.UTF_8) + bad).getBytes(StandardCharsets.UTF_8);
            RecordException e = assertThrows(RecordException.class, () -> RefreshTrailer.parse(d), bad);
            assertEquals(Refusal.BAD_RECORD, e.code());
        }
        assertThrows(IllegalArgumentException.class, () -> SignedValues.refresh(signed, N + 1, new byte[32]));
        DhtValue plain = SignedValues.put(record(null), bob);
        assertThrows(IllegalArgumentException.class, () -> SignedValues.refresh(plain, 1, new byte[32]));
    }

    @Test
    void theChainIsSignedInTheValueAndTheSchemaStaysStrict() throws Exception {
        DhtValue signed = SignedValues.put(record(chain.params()), bob);
        VerifiedRecord vr = new RecordVerifier().verify(signed.data().unsafeArray());
        assertEquals(chain.params(), vr.record().value().chain());
        assertNull(new RecordVerifier().verify(SignedValues.put(record(null), bob).data().unsafeArray()).record().value().chain());
        String xml = new String(signed.data().unsafeArray(), StandardCharsets.UTF_8);
        // the signature covers the chain: a changed step fails
        RecordException tampered = assertThrows(RecordException.class, () -> new RecordVerifier().verify(
                xml.replace("chainStep=\"" + D + "\"", "chainStep=\"" + (D * 10) + "\"").getBytes(StandardCharsets.UTF_8)));
        assertEquals(Refusal.BAD_SIGNATURE, tampered.code());
        // all three or none; each checked by the schema
        assertEquals(Refusal.BAD_RECORD, assertThrows(RecordException.class, () -> RecordXml.chain("AAAA", null, "5")).code());
        String unsigned = RecordXml.toXml(record(chain.params()));
        for (String bad : new String[] {unsigned.replace("chainLength=\"" + N + "\"", "chainLength=\"4097\""),
                unsigned.replace("chainStep=\"" + D + "\"", "chainStep=\"0\""),
                unsigned.replaceFirst("chainAnchor=\"[^\"]*\"", "chainAnchor=\"AAAA\"")}) {
            RecordException e = assertThrows(RecordException.class, () -> SecureXml.defaults().parse(bad.getBytes(StandardCharsets.UTF_8)), bad);
            assertEquals(Refusal.INVALID, e.code());
        }
    }

    @Test
    void aHeldRecordIsRefreshedByHashingOnlyAndForgedOldEqualOrTooLongTokensAreRefused() throws Exception {
        SignedRecordPolicy policy = SignedRecordPolicy.tofu(NameOwners.inMemory());
        ValueStore s = store(policy);
        DhtValue signed = SignedValues.put(record(chain.params()), bob);
        assertEquals(Status.OK, put(s, signed).status());
        long verified = policy.fullVerifications();
        assertEquals(1, verified);
        long now = System.currentTimeMillis();

        DhtValue r5 = SignedValues.refresh(signed, 5, chain.token(5));
        assertNull(policy.precheckPut(KEY, r5, now), "the check ahead leaves a refresh to checkPut");
        byte[] malformed = (new String(signed.data().unsafeArray(), StandardCharsets.UTF_8) + "<!--p2psip-chain j=5 t=x-->")
                .getBytes(StandardCharsets.UTF_8);
        assertRefused(Refusal.BAD_RECORD, policy.precheckPut(KEY, new DhtValue(signed.owner(), signed.nonce(), Bytes.wrap(malformed),
                expiryAt(5)), now));
        ValueStore.Outcome o = put(s, r5);
        assertEquals(Status.OK, o.status(), o.reason());
        assertEquals(expiryAt(5), s.get(KEY, now).get(0).expiresAtMillis());
        // a forged token, an older one, the same one, a too long chain, a later expiry than granted
        byte[] forged = new byte[32];
        RANDOM.nextBytes(forged);
        assertRefused(Refusal.BAD_SIGNATURE, put(s, SignedValues.refresh(signed, 6, forged)));
        assertRefused(Refusal.REPLAY, put(s, SignedValues.refresh(signed, 3, chain.token(3))));
        assertRefused(Refusal.REPLAY, policy.checkPut(KEY, r5, s.get(KEY, now).get(0), now));
        DhtValue beyond = new DhtValue(signed.owner(), signed.nonce(),
                Bytes.wrap(RefreshTrailer.append(signed.data().unsafeArray(), N + 1, forged)), expiryAt(N + 1));
        assertRefused(Refusal.BAD_RECORD, put(s, beyond));
        DhtValue r21 = SignedValues.refresh(signed, 21, chain.token(21));
        assertRefused(Refusal.EXPIRED, put(s, new DhtValue(r21.owner(), r21.nonce(), r21.data(), expiryAt(22))));
        // a skipped-ahead token is accepted (the gap is hashed), and the chain's last token too
        assertEquals(Status.OK, put(s, r21).status());
        assertEquals(expiryAt(21), s.get(KEY, now).get(0).expiresAtMillis());
        assertEquals(Status.OK, put(s, SignedValues.refresh(signed, N, chain.token(N))).status());
        assertEquals(expiryAt(N), s.get(KEY, now).get(0).expiresAtMillis());
        assertEquals(verified, policy.fullVerifications(), "refreshes of a held record cost no signature verification");
        // the un-refreshed original is now a replay, as is an older re-signed record
        assertRefused(Refusal.REPLAY, put(s, signed));
        // a token on a changed signed part is checked in full, and fails
        byte[] changed = SignedValues.refresh(signed, N, chain.token(N)).data().toArray();
        int at = new String(changed, StandardCharsets.UTF_8).indexOf("192.0.2.7");
        changed[at] = '9';
        assertRefused(Refusal.BAD_SIGNATURE, put(s, new DhtValue(signed.owner(), signed.nonce(), Bytes.wrap(changed), expiryAt(N))));
        // a token on a record that signs no chain
        DhtValue plain = SignedValues.put(record(null), bob);
        DhtValue plainWithToken = new DhtValue(plain.owner(), Bytes.utf8("n1"),
                Bytes.wrap(RefreshTrailer.append(plain.data().unsafeArray(), 1, chain.token(1))), e0.toEpochMilli());
        assertRefused(Refusal.BAD_RECORD, store(SignedRecordPolicy.tofu(NameOwners.inMemory())).put(KEY, plainWithToken, "p", now));
    }

    @Test
    void aReplicaThatMissedThePutVerifiesOnceAndHashesFromTheAnchor() throws Exception {
        DhtValue signed = SignedValues.put(record(chain.params()), bob);
        SignedRecordPolicy policy = SignedRecordPolicy.tofu(NameOwners.inMemory());
        ValueStore s = store(policy);
        ValueStore.Outcome o = put(s, SignedValues.refresh(signed, 40, chain.token(40)));
        assertEquals(Status.OK, o.status(), o.reason());
        assertEquals(expiryAt(40), s.get(KEY, System.currentTimeMillis()).get(0).expiresAtMillis());
        assertEquals(1, policy.fullVerifications());
        assertEquals(Status.OK, put(s, SignedValues.refresh(signed, 41, chain.token(41))).status());
        assertEquals(1, policy.fullVerifications(), "then held: hashing only");
        // a forged token at a replica that does not hold the record: verified, and refused by the chain
        SignedRecordPolicy other = SignedRecordPolicy.tofu(NameOwners.inMemory());
        assertRefused(Refusal.BAD_SIGNATURE, store(other).put(KEY, SignedValues.refresh(signed, 40, chain.token(39)), "p",
                System.currentTimeMillis()));
    }

    @Test
    void aRestartedPersistentReplicaRefreshesWithoutVerifying(@TempDir Path dir) throws Exception {
        DhtValue signed = SignedValues.put(record(chain.params()), bob);
        Path file = dir.resolve("r.mv");
        try (RecordStore s = RecordStore.open(file, RecordStore.Options.defaults(), st -> SignedRecordPolicy.tofu(st.nameOwners()))) {
            assertEquals(Status.OK, s.put(KEY, signed, System.currentTimeMillis()).status());
            assertEquals(Status.OK, s.put(KEY, SignedValues.refresh(signed, 2, chain.token(2)), System.currentTimeMillis()).status());
        }
        SignedRecordPolicy[] fresh = new SignedRecordPolicy[1];
        try (RecordStore s = RecordStore.open(file, RecordStore.Options.defaults(),
                st -> fresh[0] = SignedRecordPolicy.tofu(st.nameOwners()))) {
            long now = System.currentTimeMillis();
            DhtValue r9 = SignedValues.refresh(signed, 9, chain.token(9));
            assertNull(s.precheckPut(KEY, r9, now));
            ValueStore.Outcome o = s.put(KEY, r9, now);
            assertEquals(Status.OK, o.status(), o.reason());
            assertEquals(expiryAt(9), s.get(KEY, now).get(0).expiresAtMillis());
            assertRefused(Refusal.REPLAY, s.put(KEY, SignedValues.refresh(signed, 2, chain.token(2)), now));
            assertEquals(0, fresh[0].fullVerifications(), "the new process's verifier never saw the record, and needed not");
        }
    }

    @Test
    void oneRemovalRemovesTheValueWhicheverTokenEachReplicaHolds() throws Exception {
        DhtValue signed = SignedValues.put(record(chain.params()), bob);
        ValueStore a = store(SignedRecordPolicy.tofu(NameOwners.inMemory()));
        ValueStore b = store(SignedRecordPolicy.tofu(NameOwners.inMemory()));
        ValueStore c = store(SignedRecordPolicy.tofu(NameOwners.inMemory()));
        DhtValue r5 = SignedValues.refresh(signed, 5, chain.token(5));
        assertEquals(Status.OK, put(a, signed).status());
        assertEquals(Status.OK, put(b, r5).status());
        assertEquals(Status.OK, put(c, SignedValues.refresh(signed, 30, chain.token(30))).status());
        // the writer removes with what it read from one replica; the expiry covers the chain's end (E0 + N·d)
        Instant until = Instant.ofEpochMilli(SignedExpiry.latest(r5.data().unsafeArray()));
        assertEquals(Instant.ofEpochMilli(expiryAt(N)), until);
        StoragePolicy.RemoveRequest removal = SignedValues.remove(RecordKey.of("k", BOB), r5, until, bob);
        long now = System.currentTimeMillis();
        for (ValueStore s : List.of(a, b, c)) {
            ValueStore.Outcome o = s.remove(removal, until.toEpochMilli(), "peer", now);
            assertEquals(Status.OK, o.status(), o.reason());
            assertEquals(0, s.valueCount());
            // and no token brings it back
            assertEquals(Status.REFUSED, put(s, SignedValues.refresh(signed, 60, chain.token(60))).status());
        }
    }

    @Test
    void aReaderChecksTheChainAndHashesOnlyTheGap() throws Exception {
        DhtValue signed = SignedValues.put(record(chain.params()), bob);
        ChainCache cache = new ChainCache(2);
        var read = org.p2psip.storage.api.DraftDht.ReadCheck.signatureOnly(null, cache);
        long now = System.currentTimeMillis();
        read.check(KEY, SignedValues.refresh(signed, 10, chain.token(10)), now);
        assertEquals(10, cache.hashes(), "a cold reader hashes from the anchor");
        read.check(KEY, SignedValues.refresh(signed, 10, chain.token(10)), now);
        assertEquals(10, cache.hashes(), "a warm reader of the same token hashes nothing");
        read.check(KEY, SignedValues.refresh(signed, 14, chain.token(14)), now);
        assertEquals(14, cache.hashes(), "a newer token: only the gap");
        read.check(KEY, SignedValues.refresh(signed, 12, chain.token(12)), now);
        assertEquals(16, cache.hashes(), "an older token: from the newer one");
        byte[] forged = new byte[32];
        RecordException e = assertThrows(RecordException.class, () -> read.check(KEY, SignedValues.refresh(signed, 15, forged), now));
        assertEquals(Refusal.BAD_SIGNATURE, e.code());
        DhtValue r20 = SignedValues.refresh(signed, 20, chain.token(20));
        e = assertThrows(RecordException.class, () -> read.check(KEY,
                new DhtValue(r20.owner(), r20.nonce(), r20.data(), expiryAt(21)), now));
        assertEquals(Refusal.EXPIRED, e.code());
        // bounded: more anchors than entries
        for (int i = 0; i < 5; i++) {
            RefreshChain c = RefreshChain.create(N, D, RANDOM);
            DhtValue v = SignedValues.put(record(c.params()), bob);
            read.check(KEY, SignedValues.refresh(v, 1, c.token(1)), now);
        }
        assertEquals(2, cache.size());
        // a value without a trailer reads as before
        assertEquals(e0, read.check(KEY, signed, now).record().value().expires());
    }

    @Test
    void theWritersReadBackOfARefreshIsAnsweredFromWhatItSigned() throws Exception {
        LocallySigned signedHere = new LocallySigned();
        DhtValue signed = SignedValues.put(record(chain.params()), bob, signedHere);
        var read = org.p2psip.storage.api.DraftDht.ReadCheck.signatureOnly(signedHere, new ChainCache());
        DhtValue r3 = SignedValues.refresh(signed, 3, chain.token(3));
        // as a remote replica returns it: a new array
        DhtValue copy = new DhtValue(r3.owner(), r3.nonce(), Bytes.of(r3.data().toArray()), r3.expiresAtMillis());
        assertEquals(chain.params(), read.check(KEY, copy, System.currentTimeMillis()).record().value().chain());
        assertEquals(1, signedHere.answered(), "the signed part is the document signed here");
        // and the writer's own replica, which never saw the put, takes the refresh without verifying
        SignedRecordPolicy local = SignedRecordPolicy.tofu(NameOwners.inMemory(), signedHere);
        assertEquals(Status.OK, put(store(local), copy).status());
        assertEquals(0, local.fullVerifications());
    }
}
