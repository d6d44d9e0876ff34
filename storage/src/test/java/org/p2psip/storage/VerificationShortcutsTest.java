package org.p2psip.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.storage.api.DraftDht;

/**
 * The verification shortcuts refuse what a full verification refuses: a record this process signed is trusted without
 * verification only while its bytes are equal to the private copy taken when signing (an equal copy from a remote
 * replica is, one changed byte is not); the cache of verified documents answers only byte-identical copies and never
 * remembers a refusal; the reader's clock and binding checks apply to remembered records too.
 */
class VerificationShortcutsTest {
    private static final ResourceName BOB = ResourceName.sip("bob@example.net");

    /** Shared by the signer and the verifiers below, as a peer shares it between its signer and its local replica. */
    private final LocallySigned signedHere = new LocallySigned();

    private DhtValue signedContact(String uri) throws Exception {
        SigningIdentity bob = SigningIdentity.of(TestPki.ec(), List.of(), "bob@example.net");
        Instant exp = Instant.now().plusSeconds(3600).truncatedTo(ChronoUnit.SECONDS);
        return SignedValues.put(DhtRecord.of(BOB, exp, "n1", new ValueContent.Contacts(List.of(Contact.of(uri)))), bob,
                signedHere);
    }

    /** The array with the first occurrence of {@code from} replaced by {@code to} (same length). */
    private static void replaceInPlace(byte[] data, String from, String to) {
        String s = new String(data, StandardCharsets.ISO_8859_1);
        int at = s.indexOf(from);
        byte[] b = to.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(b, 0, data, at, b.length);
    }

    @Test
    void aLocallySignedArrayChangedInPlaceIsVerifiedAndRefused() throws Exception {
        DhtValue v = signedContact("sip:bob@192.0.2.10");
        byte[] data = v.data().unsafeArray();
        assertNotNull(signedHere.of(data), "the signer remembered its array");
        assertNull(new LocallySigned().of(data), "another signer's set does not know it");
        RecordVerifier verifier = new RecordVerifier(signedHere);
        assertEquals("sip:bob@192.0.2.10", contactOf(verifier.verify(data)));

        replaceInPlace(data, "192.0.2.10", "192.0.2.66");
        assertNull(signedHere.of(data), "changed bytes: no longer trusted as signed here");
        RecordException e = assertThrows(RecordException.class, () -> verifier.verify(data));
        assertEquals(Refusal.BAD_SIGNATURE, e.code(), e.getMessage());
    }

    @Test
    void anEqualCopyIsAnsweredWithoutVerificationAndAForgedCopyIsRefused() throws Exception {
        DhtValue v = signedContact("sip:bob@192.0.2.20");
        VerifiedRecord remembered = signedHere.of(v.data().unsafeArray());
        assertNotNull(remembered);
        long before = signedHere.answered();
        byte[] copy = v.data().unsafeArray().clone(); // as a remote replica returns it: a new array, equal bytes
        RecordVerifier verifier = new RecordVerifier(signedHere);
        assertSame(remembered, verifier.verify(copy), "equal bytes: the remembered result, no verification");
        assertEquals(before + 1, signedHere.answered());

        byte[] forged = copy.clone();
        replaceInPlace(forged, "192.0.2.20", "192.0.2.99");
        for (int i = 0; i < 2; i++) {
            RecordException e = assertThrows(RecordException.class, () -> verifier.verify(forged));
            assertEquals(Refusal.BAD_SIGNATURE, e.code(), e.getMessage());
        }
        byte[] oneByte = copy.clone();
        oneByte[oneByte.length - 3] ^= 1; // inside the closing tags: no longer well-formed or no longer signed
        assertThrows(RecordException.class, () -> verifier.verify(oneByte));
        assertEquals(before + 1, signedHere.answered(), "altered copies are never answered from the set");
        assertSame(remembered, verifier.verify(Bytes.wrap(copy).unsafeArray()));
    }

    @Test
    void aForeignValueIsVerifiedInFull() throws Exception {
        SigningIdentity bob = SigningIdentity.of(TestPki.ec(), List.of(), "bob@example.net");
        Instant exp = Instant.now().plusSeconds(3600).truncatedTo(ChronoUnit.SECONDS);
        DhtValue foreign = SignedValues.put(DhtRecord.of(BOB, exp, "n9",
                new ValueContent.Contacts(List.of(Contact.of("sip:bob@192.0.2.30")))), bob, new LocallySigned());
        long before = signedHere.answered();
        VerifiedRecord vr = new RecordVerifier(signedHere).verify(foreign.data().unsafeArray().clone());
        assertEquals("sip:bob@192.0.2.30", contactOf(vr));
        assertEquals(before, signedHere.answered(), "signed by another process: verified, not answered from the set");
    }

    @Test
    void theReadBackOfAnEqualCopyStillPassesTheClockAndBindingChecks() throws Exception {
        DhtValue v = signedContact("sip:bob@192.0.2.40");
        VerifiedRecord remembered = signedHere.of(v.data().unsafeArray());
        DraftDht.ReadCheck check = DraftDht.ReadCheck.signatureOnly(signedHere);
        DhtValue fromReplica = new DhtValue(v.owner(), v.nonce(), Bytes.wrap(v.data().unsafeArray().clone()),
                v.expiresAtMillis());
        long now = System.currentTimeMillis();
        long before = signedHere.answered();
        assertSame(remembered, check.check(BOB.key(), fromReplica, now), "not verified again");
        assertEquals(before + 1, signedHere.answered());

        RecordException expired = assertThrows(RecordException.class,
                () -> check.check(BOB.key(), fromReplica, v.expiresAtMillis() + 1));
        assertEquals(Refusal.EXPIRED, expired.code());
        DhtValue longer = new DhtValue(v.owner(), v.nonce(), fromReplica.data(), v.expiresAtMillis() + 60_000);
        assertEquals(Refusal.EXPIRED, assertThrows(RecordException.class, () -> check.check(BOB.key(), longer, now)).code(),
                "the stored copy may not claim a later expiry than the signed one");
        assertEquals(Refusal.KEY_MISMATCH, assertThrows(RecordException.class,
                () -> check.check(ResourceName.sip("carol@example.net").key(), fromReplica, now)).code());
        DhtValue otherNonce = new DhtValue(v.owner(), Bytes.utf8("n2"), fromReplica.data(), v.expiresAtMillis());
        assertEquals(Refusal.NONCE_MISMATCH, assertThrows(RecordException.class,
                () -> check.check(BOB.key(), otherNonce, now)).code());
    }

    @Test
    void theFastDateTimeFormAgreesWithTheGeneralParser() throws Exception {
        for (String s : List.of("2026-11-26T21:25:54Z", "2024-02-29T00:00:00Z", "1999-12-31T23:59:59Z", "0001-01-01T00:00:00Z")) {
            assertEquals(OffsetDateTime.parse(s).toInstant(), Times.parseUtcSeconds(s), s);
            assertEquals(OffsetDateTime.parse(s).toInstant(), Times.parse(s, "t"), s);
        }
        for (String s : List.of("2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-26T24:00:00Z", "2026-11-26T21:25:54+01:00",
                "2026-11-26 21:25:54Z", "2026-1x-26T21:25:54Z")) {
            assertNull(Times.parseUtcSeconds(s), s);
        }
        assertEquals(OffsetDateTime.parse("2026-11-26T21:25:54+01:00").toInstant(), Times.parse("2026-11-26T21:25:54+01:00", "t"));
        assertThrows(RecordException.class, () -> Times.parse("2026-02-30T00:00:00Z", "t"));
    }

    private static String contactOf(VerifiedRecord vr) {
        return ((ValueContent.Contacts) vr.record().value().content()).contacts().get(0).uri();
    }
}
