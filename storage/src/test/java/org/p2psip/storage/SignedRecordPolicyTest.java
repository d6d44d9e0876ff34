package org.p2psip.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.StoragePolicy;
import org.p2psip.overlay.store.StoragePolicy.Decision;
import org.p2psip.overlay.store.ValueStore;
import org.p2psip.overlay.wire.Message.Status;

class SignedRecordPolicyTest {
    private static final String SOURCE = "test";
    private static final TestPki.Ca CA = TestPki.ca("Overlay CA", TestPki.ec());
    private static final ResourceName BOB = ResourceName.sip("bob@example.net");
    private static final long WEEK = Duration.ofDays(7).toMillis();

    private static Instant in(Duration d) {
        return Instant.now().plus(d).truncatedTo(ChronoUnit.SECONDS);
    }

    private static SigningIdentity certified(TestPki.Ca ca, String user, KeyPair kp) {
        return SigningIdentity.of(kp, List.of(ca.issue(user, kp, TestPki.email(user)).cert()), user);
    }

    private static SigningIdentity bob() {
        return certified(CA, "bob@example.net", TestPki.ec());
    }

    private static DhtRecord contact(ResourceName name, Instant exp, String nonce, String uri) {
        return DhtRecord.of(name, exp, nonce, new ValueContent.Contacts(List.of(Contact.of(uri))));
    }

    private static ValueStore store(StoragePolicy p) {
        return new ValueStore(p, 1 << 24, 1 << 22, 64, WEEK);
    }

    private static ValueStore.Outcome put(ValueStore s, NodeId key, DhtValue v) {
        return s.put(key, v, "peer", System.currentTimeMillis());
    }

    private static void assertRefused(Refusal code, ValueStore.Outcome o) {
        assertEquals(Status.REFUSED, o.status(), o.reason());
        assertTrue(o.reason().startsWith(code.name() + ":") || o.reason().equals(code.name()), o.reason());
    }

    private static void assertRefused(Refusal code, Decision d) {
        assertFalse(d.accepted());
        assertTrue(d.reason().startsWith(code.name() + ":"), d.reason());
    }

    private static SignedRecordPolicy caPolicy() {
        return SignedRecordPolicy.ca(List.of(CA.cert()), false);
    }

    // ---------------------------------------------------------------- ca mode

    @Test
    void caAcceptsTheUsersSignedContactsAndTheStoreReturnsThem() throws Exception {
        ValueStore s = store(caPolicy());
        DhtValue v = SignedValues.put(contact(BOB, in(Duration.ofHours(1)), "n1", "sip:bob@192.1.2.3:5060"), bob());
        ValueStore.Outcome o = put(s, BOB.key(), v);
        assertEquals(Status.OK, o.status(), o.reason());
        assertEquals(List.of(v), s.get(BOB.key(), System.currentTimeMillis()));
        // what a reader gets back verifies on its own
        VerifiedRecord r = new RecordVerifier().verify(s.get(BOB.key(), System.currentTimeMillis()).get(0).data().unsafeArray());
        assertEquals(v.owner(), r.owner());
    }

    @Test
    void caAcceptsDomainCertificatesAndIntermediates() throws Exception {
        KeyPair proxyKeys = TestPki.ec();
        SigningIdentity domain = SigningIdentity.of(proxyKeys,
                List.of(CA.issue("example.net", proxyKeys, TestPki.dns("example.net")).cert()), "example.net");
        assertEquals(Status.OK, put(store(caPolicy()), BOB.key(),
                SignedValues.put(contact(BOB, in(Duration.ofHours(1)), "d", "sip:bob@10.0.0.1"), domain)).status());
        TestPki.Ca sub = CA.subCa("Site CA", TestPki.ec());
        KeyPair kp = TestPki.ed25519();
        SigningIdentity viaSub = SigningIdentity.of(kp, List.of(sub.issue("bob", kp, TestPki.uri("sip:bob@example.net")).cert(), sub.cert()), null);
        ValueStore.Outcome o = put(store(caPolicy()), BOB.key(), SignedValues.put(contact(BOB, in(Duration.ofHours(1)), "e", "sip:bob@10.0.0.2"), viaSub));
        assertEquals(Status.OK, o.status(), o.reason());
    }

    @Test
    void caRefusesWritersNotEntitledUntrustedOrExpired() throws Exception {
        ValueStore s = store(caPolicy());
        Instant exp = in(Duration.ofHours(1));
        // alice's valid certificate does not bind bob
        assertRefused(Refusal.NOT_ENTITLED, put(s, BOB.key(), SignedValues.put(contact(BOB, exp, "a", "sip:alice@6.6.6.6"),
                certified(CA, "alice@example.net", TestPki.ec()))));
        // another CA
        TestPki.Ca rogue = TestPki.ca("Rogue CA", TestPki.ec());
        assertRefused(Refusal.CERT_UNTRUSTED, put(s, BOB.key(), SignedValues.put(contact(BOB, exp, "r", "sip:bob@6.6.6.6"),
                certified(rogue, "bob@example.net", TestPki.ec()))));
        // a self-signed certificate
        KeyPair kp = TestPki.ec();
        assertRefused(Refusal.CERT_UNTRUSTED, put(s, BOB.key(), SignedValues.put(contact(BOB, exp, "s", "sip:bob@6.6.6.6"),
                SigningIdentity.of(kp, List.of(TestPki.selfSigned("bob@example.net", kp).cert()), null))));
        // a bare key
        assertRefused(Refusal.CERT_UNTRUSTED, put(s, BOB.key(), SignedValues.put(contact(BOB, exp, "b", "sip:bob@6.6.6.6"),
                SigningIdentity.of(TestPki.ec(), List.of(), null))));
        // an expired certificate
        KeyPair old = TestPki.ec();
        SigningIdentity expired = SigningIdentity.of(old, List.of(CA.issue("bob@example.net", old, Instant.now().minus(Duration.ofDays(10)),
                Instant.now().minus(Duration.ofDays(1)), TestPki.email("bob@example.net")).cert()), null);
        assertRefused(Refusal.CERT_EXPIRED, put(s, BOB.key(), SignedValues.put(contact(BOB, exp, "x", "sip:bob@6.6.6.6"), expired)));
        assertEquals(0, s.valueCount());
    }

    @Test
    void aCachedTrustedPathStillHasItsValidityChecked() throws Exception {
        SignedRecordPolicy p = caPolicy();
        KeyPair kp = TestPki.ec();
        Instant notAfter = Instant.now().plus(Duration.ofHours(2));
        SigningIdentity bob = SigningIdentity.of(kp, List.of(CA.issue("bob@example.net", kp, Instant.now().minus(Duration.ofDays(1)),
                notAfter, TestPki.email("bob@example.net")).cert()), null);
        DhtValue first = SignedValues.put(contact(BOB, in(Duration.ofDays(1)), "a", "sip:bob@10.0.0.1"), bob);
        assertTrue(p.checkPut(BOB.key(), first, null, System.currentTimeMillis()).accepted());
        // the same certificate path again: PKIX is skipped (cached), the validity period is not
        DhtValue later = SignedValues.put(contact(BOB, in(Duration.ofDays(1)), "b", "sip:bob@10.0.0.1"), bob);
        assertTrue(p.checkPut(BOB.key(), later, null, System.currentTimeMillis()).accepted());
        assertRefused(Refusal.CERT_EXPIRED, p.checkPut(BOB.key(), later, null, notAfter.plusSeconds(60).toEpochMilli()));
        // and another CA's certificate for the same key is not trusted because a path of this key was
        TestPki.Ca rogue = TestPki.ca("Rogue CA", TestPki.ec());
        SigningIdentity forged = SigningIdentity.of(kp, List.of(rogue.issue("bob@example.net", kp, TestPki.email("bob@example.net")).cert()), null);
        assertRefused(Refusal.CERT_UNTRUSTED, p.checkPut(BOB.key(), SignedValues.put(contact(BOB, in(Duration.ofDays(1)), "c",
                "sip:bob@10.0.0.1"), forged), null, System.currentTimeMillis()));
    }

    @Test
    void refusesBadSignaturesAndMismatchedValues() throws Exception {
        SignedRecordPolicy p = caPolicy();
        long now = System.currentTimeMillis();
        SigningIdentity bob = bob();
        Instant exp = in(Duration.ofHours(1));
        DhtValue v = SignedValues.put(contact(BOB, exp, "n1", "sip:bob@192.1.2.3:5060"), bob);
        assertTrue(p.checkPut(BOB.key(), v, null, now).accepted());
        Bytes tampered = Bytes.utf8(v.data().utf8String().replace("192.1.2.3", "6.6.6.6"));
        assertRefused(Refusal.BAD_SIGNATURE, p.checkPut(BOB.key(), new DhtValue(v.owner(), v.nonce(), tampered, v.expiresAtMillis()), null, now));
        assertRefused(Refusal.MALFORMED, p.checkPut(BOB.key(), new DhtValue(v.owner(), v.nonce(), Bytes.utf8("<x"), v.expiresAtMillis()), null, now));
        assertRefused(Refusal.KEY_MISMATCH, p.checkPut(ResourceName.sip("eve@example.net").key(), v, null, now));
        assertRefused(Refusal.OWNER_MISMATCH, p.checkPut(BOB.key(), new DhtValue(Bytes.wrap(new byte[20]), v.nonce(), v.data(), v.expiresAtMillis()), null, now));
        assertRefused(Refusal.NONCE_MISMATCH, p.checkPut(BOB.key(), new DhtValue(v.owner(), Bytes.utf8("n2"), v.data(), v.expiresAtMillis()), null, now));
        assertRefused(Refusal.EXPIRED, p.checkPut(BOB.key(), new DhtValue(v.owner(), v.nonce(), v.data(), v.expiresAtMillis() + 1000), null, now));
        // a value the store clamped to an earlier expiry is fine
        assertTrue(p.checkPut(BOB.key(), new DhtValue(v.owner(), v.nonce(), v.data(), v.expiresAtMillis() - 1000), null, now).accepted());
        // an expired record
        DhtValue late = SignedValues.put(contact(BOB, Instant.now().minusSeconds(5), "n3", "sip:bob@1.2.3.4"), bob);
        assertRefused(Refusal.EXPIRED, p.checkPut(BOB.key(), new DhtValue(late.owner(), late.nonce(), late.data(), now + 1000), null, now));
        // a digest value is no put
        DhtValue digestPut = SignedValues.put(DhtRecord.of(BOB, exp, "n4", new ValueContent.Digest(Namespaces.DIGEST_SHA256, Bytes.wrap(new byte[32]))), bob);
        assertRefused(Refusal.BAD_RECORD, p.checkPut(BOB.key(), digestPut, null, now));
        // a bad name
        DhtValue badName = SignedValues.put(new DhtRecord(null, new RecordKey("k", "mailto:bob@example.net", null),
                new RecordValue("v", exp, "n5", null, new ValueContent.Text("x"))), bob);
        assertRefused(Refusal.BAD_NAME, p.checkPut(NodeId.ofName("mailto:bob@example.net"), badName, null, now));
    }

    @Test
    void theCheckAheadRefusesWhatNoStoredStateCouldMakeAcceptableAndLeavesTheRestToCheckPut() throws Exception {
        SignedRecordPolicy p = caPolicy();
        long now = System.currentTimeMillis();
        SigningIdentity bob = bob();
        DhtValue v = SignedValues.put(contact(BOB, in(Duration.ofHours(1)), "n1", "sip:bob@192.1.2.3:5060"), bob);
        assertNull(p.precheckPut(BOB.key(), v, now), "a genuine record passes ahead");
        assertTrue(p.checkPut(BOB.key(), v, null, now).accepted());
        Bytes tampered = Bytes.utf8(v.data().utf8String().replace("192.1.2.3", "6.6.6.6"));
        assertRefused(Refusal.BAD_SIGNATURE, p.precheckPut(BOB.key(), new DhtValue(v.owner(), v.nonce(), tampered, v.expiresAtMillis()), now));
        assertRefused(Refusal.MALFORMED, p.precheckPut(BOB.key(), new DhtValue(v.owner(), v.nonce(), Bytes.utf8("<x"), v.expiresAtMillis()), now));
        // what depends on the key, the owner or the store is checkPut's: it passes ahead, and checkPut refuses it
        DhtValue foreignKey = v;
        assertNull(p.precheckPut(ResourceName.sip("eve@example.net").key(), foreignKey, now));
        assertRefused(Refusal.KEY_MISMATCH, p.checkPut(ResourceName.sip("eve@example.net").key(), foreignKey, null, now));
        // an expired value is not verified ahead at all; checkPut refuses it before verifying
        DhtValue expired = new DhtValue(v.owner(), v.nonce(), tampered, now - 1);
        assertNull(p.precheckPut(BOB.key(), expired, now));
        assertRefused(Refusal.EXPIRED, p.checkPut(BOB.key(), expired, null, now));
        // a removal's proof
        assertRefused(Refusal.MALFORMED, p.precheckRemove(BOB.key(),
                new StoragePolicy.RemoveRequest(BOB.key(), v.owner(), v.nonce(), Bytes.utf8("<x")), now));
    }

    @Test
    void replaysAreRefusedAndRefreshesAccepted() throws Exception {
        ValueStore s = store(caPolicy());
        SigningIdentity bob = bob();
        DhtValue older = SignedValues.put(contact(BOB, in(Duration.ofHours(1)), "n1", "sip:bob@192.1.2.3:5060"), bob);
        DhtValue newer = SignedValues.put(contact(BOB, in(Duration.ofHours(2)), "n1", "sip:bob@192.1.2.3:5060"), bob);
        assertEquals(Status.OK, put(s, BOB.key(), older).status());
        ValueStore.Outcome refresh = put(s, BOB.key(), newer);
        assertEquals(Status.OK, refresh.status(), refresh.reason());
        assertTrue(refresh.changed());
        assertRefused(Refusal.REPLAY, put(s, BOB.key(), older));
        // same expiry, other content: also a replay (the expiry must grow)
        DhtValue sameExp = SignedValues.put(contact(BOB, Instant.ofEpochMilli(newer.expiresAtMillis()), "n1", "sip:bob@10.9.9.9"), bob);
        assertRefused(Refusal.REPLAY, put(s, BOB.key(), sameExp));
        // another nonce is another value
        assertEquals(Status.OK, put(s, BOB.key(), SignedValues.put(contact(BOB, in(Duration.ofHours(1)), "n2", "sip:bob@10.0.0.2"), bob)).status());
        assertEquals(2, s.get(BOB.key(), System.currentTimeMillis()).size());
    }

    /** The overlay's store clamps expiries before asking the policy; the replay check uses the signed ones. */
    @Test
    void aReplayIsRefusedEvenWhenTheStoreClampsExpiries() throws Exception {
        ValueStore s = new ValueStore(caPolicy(), 1 << 24, 1 << 22, 64, Duration.ofHours(1).toMillis());
        SigningIdentity bob = bob();
        long t1 = System.currentTimeMillis();
        DhtValue older = SignedValues.put(contact(BOB, in(Duration.ofDays(2)), "n1", "sip:bob@192.0.2.1:5060"), bob);
        DhtValue newer = SignedValues.put(contact(BOB, in(Duration.ofDays(3)), "n1", "sip:bob@192.0.2.2:5060"), bob);
        ValueStore.Outcome ok = s.put(BOB.key(), newer, SOURCE, t1);
        assertEquals(Status.OK, ok.status(), ok.reason());
        // later, the older record clamps to a later expiry than the stored (clamped) newer one
        assertRefused(Refusal.REPLAY, s.put(BOB.key(), older, SOURCE, t1 + Duration.ofMinutes(30).toMillis()));
        // a genuine refresh still passes
        DhtValue newest = SignedValues.put(contact(BOB, in(Duration.ofDays(4)), "n1", "sip:bob@192.0.2.3:5060"), bob);
        ValueStore.Outcome refresh = s.put(BOB.key(), newest, SOURCE, t1 + Duration.ofMinutes(30).toMillis());
        assertEquals(Status.OK, refresh.status(), refresh.reason());
    }

    @Test
    void certificateNamesHoldOnlyCertificatesThatBindThem() throws Exception {
        ResourceName certName = ResourceName.certificate("bob@example.net");
        KeyPair kp = TestPki.ec();
        TestPki.Credential cred = CA.issue("bob@example.net", kp, TestPki.email("bob@example.net"));
        SigningIdentity bob = SigningIdentity.of(kp, List.of(cred.cert()), "bob@example.net");
        Instant exp = in(Duration.ofDays(1));
        ValueStore s = store(caPolicy());
        ValueStore.Outcome ok = put(s, certName.key(), SignedValues.put(DhtRecord.of(certName, exp, "c",
                new ValueContent.Certificates("CN=bob@example.net", List.of(cred.cert(), CA.cert()))), bob));
        assertEquals(Status.OK, ok.status(), ok.reason());
        TestPki.Credential alice = CA.issue("alice@example.net", TestPki.ec(), TestPki.email("alice@example.net"));
        assertRefused(Refusal.NOT_ENTITLED, put(s, certName.key(), SignedValues.put(DhtRecord.of(certName, exp, "c2",
                new ValueContent.Certificates(null, List.of(alice.cert()))), bob)));
        TestPki.Ca rogue = TestPki.ca("Rogue", TestPki.ec());
        assertRefused(Refusal.CERT_UNTRUSTED, put(s, certName.key(), SignedValues.put(DhtRecord.of(certName, exp, "c3",
                new ValueContent.Certificates(null, List.of(rogue.issue("bob@example.net", TestPki.ec(), TestPki.email("bob@example.net")).cert()))), bob)));
        assertRefused(Refusal.BAD_RECORD, put(s, certName.key(), SignedValues.put(DhtRecord.of(certName, exp, "c4", new ValueContent.Text("x")), bob)));
    }

    @Test
    void removeAuthByTheWriter() throws Exception {
        ValueStore s = store(caPolicy());
        SigningIdentity bob = bob();
        Instant exp = in(Duration.ofHours(1));
        DhtValue v = SignedValues.put(contact(BOB, exp, "n1", "sip:bob@192.1.2.3:5060"), bob);
        assertEquals(Status.OK, put(s, BOB.key(), v).status());
        RecordKey key = RecordKey.of("k", BOB);
        long now = System.currentTimeMillis();
        // a removal that expires before the value: a stale proof
        assertRefused(Refusal.REPLAY, s.remove(SignedValues.remove(key, v, exp.minusSeconds(60), bob), now + WEEK, SOURCE, now));
        // a removal by someone else
        assertRefused(Refusal.NOT_ENTITLED, s.remove(withOwner(SignedValues.remove(key, v, exp, certified(CA, "alice@example.net", TestPki.ec())), v),
                now + WEEK, SOURCE, now));
        // a digest of something else
        DhtValue other = SignedValues.put(contact(BOB, exp, "n1", "sip:bob@10.10.10.10"), bob);
        assertRefused(Refusal.DIGEST_MISMATCH, s.remove(SignedValues.remove(key, other, exp, bob), now + WEEK, SOURCE, now));
        // a proof with a tampered nonce
        StoragePolicy.RemoveRequest good = SignedValues.remove(key, v, exp, bob);
        assertRefused(Refusal.NONCE_MISMATCH, s.remove(new StoragePolicy.RemoveRequest(good.key(), good.owner(), Bytes.utf8("n9"), good.proof()), now + WEEK, SOURCE, now));
        ValueStore.Outcome removed = s.remove(good, now + WEEK, SOURCE, now);
        assertEquals(Status.OK, removed.status(), removed.reason());
        assertTrue(removed.changed());
        assertEquals(0, s.valueCount());
        // the old put cannot come back
        assertEquals(Status.REFUSED, put(s, BOB.key(), v).status());
    }

    private static StoragePolicy.RemoveRequest withOwner(StoragePolicy.RemoveRequest r, DhtValue v) {
        return new StoragePolicy.RemoveRequest(r.key(), v.owner(), v.nonce(), r.proof());
    }

    @Test
    void othersWriteToOfflineAndTheRecipientRemoves() throws Exception {
        ResourceName off = ResourceName.offline("bob@example.net");
        ValueStore s = store(caPolicy());
        SigningIdentity alice = certified(CA, "alice@example.net", TestPki.ec());
        Instant exp = in(Duration.ofDays(1));
        DhtValue msg = SignedValues.put(DhtRecord.of(off, exp, "m1", new ValueContent.Text("call me")), alice);
        assertEquals(Status.OK, put(s, off.key(), msg).status());
        RecordKey key = RecordKey.of("k", off);
        long now = System.currentTimeMillis();
        SigningIdentity carol = certified(CA, "carol@example.net", TestPki.ec());
        assertRefused(Refusal.NOT_ENTITLED, s.remove(withOwner(SignedValues.remove(key, msg, exp, carol), msg), now + WEEK, SOURCE, now));
        ValueStore.Outcome byBob = s.remove(withOwner(SignedValues.remove(key, msg, exp, bob()), msg), now + WEEK, SOURCE, now);
        assertEquals(Status.OK, byBob.status(), byBob.reason());
        assertEquals(0, s.valueCount());
    }

    @Test
    void digestKeysAreRefusedInCaModeUnlessAllowed() throws Exception {
        ResourceName priv = ResourceName.privateData("bob@example.net", "s3cret");
        DhtRecord r = new DhtRecord(null, RecordKey.digestOf("k", priv),
                new RecordValue("v", in(Duration.ofDays(1)), "p", null, new ValueContent.Binary(Bytes.utf8("encrypted"))));
        SigningIdentity bob = bob();
        DhtValue v = SignedValues.put(r, bob);
        long now = System.currentTimeMillis();
        assertRefused(Refusal.NOT_ENTITLED, caPolicy().checkPut(priv.key(), v, null, now));
        SignedRecordPolicy lenient = SignedRecordPolicy.ca(List.of(CA.cert()), true);
        assertTrue(lenient.checkPut(priv.key(), v, null, now).accepted());
        DhtValue byAlice = SignedValues.put(r, certified(CA, "alice@example.net", TestPki.ec()));
        assertRefused(Refusal.NOT_ENTITLED, lenient.checkPut(priv.key(), byAlice, null, now));
    }

    // ---------------------------------------------------------------- tofu mode

    @Test
    void tofuFirstKeyOwnsTheUserAndTakeoversAreRefused() throws Exception {
        SignedRecordPolicy p = SignedRecordPolicy.tofu(NameOwners.inMemory());
        ValueStore s = store(p);
        KeyPair first = TestPki.ed25519();
        SigningIdentity bob = SigningIdentity.of(first, List.of(TestPki.selfSigned("bob@example.net", first).cert()), "bob@example.net");
        Instant exp = in(Duration.ofHours(1));
        assertEquals(Status.OK, put(s, BOB.key(), SignedValues.put(contact(BOB, exp, "n1", "sip:bob@192.168.1.5"), bob)).status());
        KeyPair second = TestPki.ed25519();
        SigningIdentity mallory = SigningIdentity.of(second, List.of(TestPki.selfSigned("bob@example.net", second).cert()), "bob@example.net");
        ValueStore.Outcome o = put(s, BOB.key(), SignedValues.put(contact(BOB, exp, "n2", "sip:mallory@6.6.6.6"), mallory));
        assertRefused(Refusal.NOT_ENTITLED, o);
        assertTrue(o.reason().contains("takeover refused"), o.reason());
        // the claim covers the user's other names too
        ResourceName cert = ResourceName.certificate("bob@example.net");
        assertRefused(Refusal.NOT_ENTITLED, put(s, cert.key(), SignedValues.put(DhtRecord.of(cert, exp, "c",
                new ValueContent.Certificates(null, mallory.chain())), mallory)));
        ValueStore.Outcome own = put(s, cert.key(), SignedValues.put(DhtRecord.of(cert, exp, "c", new ValueContent.Certificates(null, bob.chain())), bob));
        assertEquals(Status.OK, own.status(), own.reason());
        // a bare key works in tofu mode
        SigningIdentity bare = SigningIdentity.of(TestPki.ec(), List.of(), null);
        ResourceName carol = ResourceName.sip("carol@example.net");
        assertEquals(Status.OK, put(s, carol.key(), SignedValues.put(contact(carol, exp, "n", "sip:carol@10.0.0.3"), bare)).status());
    }

    @Test
    void tofuRecipientRemovesButARemovalNeverClaimsAName() throws Exception {
        SignedRecordPolicy p = SignedRecordPolicy.tofu(NameOwners.inMemory());
        ValueStore s = store(p);
        ResourceName off = ResourceName.offline("erin@example.net");
        Instant exp = in(Duration.ofHours(1));
        SigningIdentity alice = selfSigned("alice@example.net");
        DhtValue msg = SignedValues.put(DhtRecord.of(off, exp, "m1", new ValueContent.Text("hi")), alice);
        assertEquals(Status.OK, put(s, off.key(), msg).status());
        long now = System.currentTimeMillis();
        RecordKey key = RecordKey.of("k", off);
        // nobody owns erin yet: a stranger's removal is refused, and claims nothing
        SigningIdentity stranger = SigningIdentity.of(TestPki.ec(), List.of(), null);
        assertRefused(Refusal.NOT_ENTITLED, s.remove(withOwner(SignedValues.remove(key, msg, exp, stranger), msg), now + WEEK, SOURCE, now));
        SigningIdentity erin = SigningIdentity.of(TestPki.ec(), List.of(), null);
        ResourceName erinSip = ResourceName.sip("erin@example.net");
        assertEquals(Status.OK, put(s, erinSip.key(), SignedValues.put(contact(erinSip, exp, "n", "sip:erin@10.0.0.9"), erin)).status());
        assertRefused(Refusal.NOT_ENTITLED, s.remove(withOwner(SignedValues.remove(key, msg, exp, stranger), msg), now + WEEK, SOURCE, now));
        ValueStore.Outcome byErin = s.remove(withOwner(SignedValues.remove(key, msg, exp, erin), msg), now + WEEK, SOURCE, now);
        assertEquals(Status.OK, byErin.status(), byErin.reason());
    }

    private static SigningIdentity selfSigned(String user) throws Exception {
        KeyPair kp = TestPki.ec();
        return SigningIdentity.of(kp, List.of(TestPki.selfSigned(user, kp).cert()), user);
    }

    @Test
    void offlineAndWatcherValuesAreSignedByTheirSenderAndForgedSendersAreRefused() throws Exception {
        SignedRecordPolicy p = SignedRecordPolicy.tofu(NameOwners.inMemory());
        ValueStore s = store(p);
        Instant exp = in(Duration.ofHours(1));
        ResourceName off = ResourceName.offline("bob@example.net");
        SigningIdentity alice = selfSigned("alice@example.net");
        // alice's certificate: record claims her, then her signed message to bob is taken
        ResourceName aliceCert = ResourceName.certificate("alice@example.net");
        assertEquals(Status.OK, put(s, aliceCert.key(), SignedValues.put(DhtRecord.of(aliceCert, exp, "c",
                new ValueContent.Certificates(null, alice.chain())), alice)).status());
        DhtValue msg = SignedValues.put(DhtRecord.of(off, exp, "m1", new ValueContent.Text("hi bob")), alice);
        assertEquals(Status.OK, put(s, off.key(), msg).status());
        // mallory's own key with a certificate naming alice: the sender alice belongs to another key
        KeyPair mk = TestPki.ec();
        SigningIdentity mallorySaysAlice = SigningIdentity.of(mk, List.of(TestPki.selfSigned("alice@example.net", mk)
                .cert()), "alice@example.net");
        ValueStore.Outcome o = put(s, off.key(), SignedValues.put(DhtRecord.of(off, exp, "m2",
                new ValueContent.Text("from 'alice'")), mallorySaysAlice));
        assertRefused(Refusal.NOT_ENTITLED, o);
        assertTrue(o.reason().contains("takeover refused"), o.reason());
        // mallory's genuine certificate, but the KeyName claims alice
        SigningIdentity mallory = selfSigned("mallory@example.net");
        SigningIdentity namedAlice = new SigningIdentity(mallory.privateKey(), mallory.publicKey(), mallory.chain(),
                "alice@example.net");
        o = put(s, off.key(), SignedValues.put(DhtRecord.of(off, exp, "m3", new ValueContent.Text("x")), namedAlice));
        assertRefused(Refusal.NOT_ENTITLED, o);
        assertTrue(o.reason().contains("forged sender"), o.reason());
        // a bare key, and a certificate without a KeyName, name no sender
        assertRefused(Refusal.NOT_ENTITLED, put(s, off.key(), SignedValues.put(DhtRecord.of(off, exp, "m4",
                new ValueContent.Text("x")), SigningIdentity.of(TestPki.ec(), List.of(), "alice@example.net"))));
        assertRefused(Refusal.NOT_ENTITLED, put(s, off.key(), SignedValues.put(DhtRecord.of(off, exp, "m5",
                new ValueContent.Text("x")), new SigningIdentity(mallory.privateKey(), mallory.publicKey(),
                mallory.chain(), null))));
        // watcher lists follow the same rule
        ResourceName watchers = ResourceName.subscribe("presence", "bob@example.net");
        assertEquals(Status.OK, put(s, watchers.key(), SignedValues.put(DhtRecord.of(watchers, exp, "w1",
                new ValueContent.Text("watch")), alice)).status());
        assertRefused(Refusal.NOT_ENTITLED, put(s, watchers.key(), SignedValues.put(DhtRecord.of(watchers, exp, "w2",
                new ValueContent.Text("watch")), namedAlice)));
        assertEquals(2, s.valueCount() - 1, "alice's message and watcher entry (and her certificate) only");
        // removal: not a third party; bob, who owns his names, may
        long now = System.currentTimeMillis();
        RecordKey key = RecordKey.of("k", off);
        assertRefused(Refusal.NOT_ENTITLED, s.remove(withOwner(SignedValues.remove(key, msg, exp, mallory), msg),
                now + WEEK, SOURCE, now));
        SigningIdentity bob = selfSigned("bob@example.net");
        ResourceName bobSip = ResourceName.sip("bob@example.net");
        assertEquals(Status.OK, put(s, bobSip.key(), SignedValues.put(contact(bobSip, exp, "n", "sip:bob@10.0.0.2"),
                bob)).status());
        ValueStore.Outcome byBob = s.remove(withOwner(SignedValues.remove(key, msg, exp, bob), msg), now + WEEK,
                SOURCE, now);
        assertEquals(Status.OK, byBob.status(), byBob.reason());
    }

    @Test
    void tofuStillChecksCertificateValidityAndOwnCertificates() throws Exception {
        SignedRecordPolicy p = SignedRecordPolicy.tofu(NameOwners.inMemory());
        long now = System.currentTimeMillis();
        KeyPair kp = TestPki.ec();
        SigningIdentity expired = SigningIdentity.of(kp, List.of(TestPki.selfSigned("bob@example.net", kp,
                Instant.now().minus(Duration.ofDays(9)), Instant.now().minus(Duration.ofDays(2))).cert()), null);
        assertRefused(Refusal.CERT_EXPIRED, p.checkPut(BOB.key(), SignedValues.put(contact(BOB, in(Duration.ofHours(1)), "n", "sip:bob@1.1.1.1"), expired), null, now));
        // publishing someone else's certificate under one's own certificate: name
        KeyPair mine = TestPki.ec();
        SigningIdentity dave = SigningIdentity.of(mine, List.of(TestPki.selfSigned("dave@example.net", mine).cert()), null);
        ResourceName cert = ResourceName.certificate("dave@example.net");
        KeyPair other = TestPki.ec();
        assertRefused(Refusal.NOT_ENTITLED, p.checkPut(cert.key(), SignedValues.put(DhtRecord.of(cert, in(Duration.ofHours(1)), "c",
                new ValueContent.Certificates(null, List.of(TestPki.selfSigned("dave@example.net", other).cert()))), dave), null, now));
    }
}
