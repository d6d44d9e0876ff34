package org.p2psip.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;

/**
 * The verification shortcuts refuse what a full verification refuses: a record this process signed is trusted only
 * as the very array it signed and only while its bytes are unchanged; the cache of verified documents answers only
 * byte-identical copies and never remembers a refusal.
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
    void aCopyIsVerifiedAndAForgedCopyIsRefusedAfterTheOriginalWasAccepted() throws Exception {
        DhtValue v = signedContact("sip:bob@192.0.2.20");
        byte[] copy = v.data().unsafeArray().clone();
        assertNull(signedHere.of(copy), "an equal array is not the signed one");
        RecordVerifier verifier = new RecordVerifier(signedHere);
        assertEquals("sip:bob@192.0.2.20", contactOf(verifier.verify(copy)));
        assertEquals("sip:bob@192.0.2.20", contactOf(verifier.verify(copy.clone())), "the same bytes again");

        byte[] forged = copy.clone();
        replaceInPlace(forged, "192.0.2.20", "192.0.2.99");
        for (int i = 0; i < 2; i++) {
            RecordException e = assertThrows(RecordException.class, () -> verifier.verify(forged));
            assertEquals(Refusal.BAD_SIGNATURE, e.code(), e.getMessage());
        }
        assertEquals("sip:bob@192.0.2.20", contactOf(verifier.verify(Bytes.wrap(copy).unsafeArray())));
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
