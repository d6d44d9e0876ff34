package org.p2psip.sip.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.storage.Contact;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.RecordException;
import org.p2psip.storage.RefreshChain;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SignedValues;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.ValueContent;
import org.p2psip.storage.VerifiedRecord;
import org.p2psip.storage.api.DraftDht;

/** The reader's cached signature check: hits only for identical values, and still expire. */
class CachingReadCheckTest {
    @Test
    void cachesOnlyIdenticalValuesAndStillChecksExpiry() throws Exception {
        String bob = "bob@p2p.test";
        KeyPair kp = UserCertificates.newKeyPair();
        SigningIdentity id = SigningIdentity.of(kp, List.of(UserCertificates.selfSigned(bob, kp)), bob);
        Instant expires = Instant.now().plusSeconds(60);
        ResourceName name = ResourceName.sip(bob);
        DhtValue v = DraftDht.signed(DhtRecord.of(name, expires, "n1", new ValueContent.Contacts(
                List.of(Contact.of("sip:bob@127.0.0.1:5062")))), id);
        CachingReadCheck check = new CachingReadCheck(4);
        long now = System.currentTimeMillis();

        VerifiedRecord first = check.check(name.key(), v, now);
        assertSame(first, check.check(name.key(), v, now), "the second read of the same value is a cache hit");
        RecordException expired = assertThrows(RecordException.class,
                () -> check.check(name.key(), v, expires.toEpochMilli() + 1));
        assertTrue(expired.getMessage().contains("EXPIRED"), expired.getMessage());

        String altered = v.data().utf8String().replace("5062", "6666");
        DhtValue tampered = new DhtValue(v.owner(), v.nonce(), Bytes.utf8(altered), v.expiresAtMillis());
        assertThrows(RecordException.class, () -> check.check(name.key(), tampered, now), "not a hit: verified, refused");
        DhtValue longer = new DhtValue(v.owner(), v.nonce(), v.data(), v.expiresAtMillis() + 60_000);
        assertThrows(RecordException.class, () -> check.check(name.key(), longer, now),
                "a stored copy claiming a later expiry than the signed one is refused, hit or not");
        assertThrows(RecordException.class, () -> check.check(ResourceName.sip("carol@p2p.test").key(), v, now),
                "under another key: not a hit, and refused");
        assertEquals("n1", first.record().value().nonce());
    }

    @Test
    void aRefreshedValueHitsItsSignedPartButItsTokenIsStillChecked() throws Exception {
        String bob = "bob@p2p.test";
        KeyPair kp = UserCertificates.newKeyPair();
        SigningIdentity id = SigningIdentity.of(kp, List.of(UserCertificates.selfSigned(bob, kp)), bob);
        Instant expires = Instant.now().plusSeconds(60).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        ResourceName name = ResourceName.sip(bob);
        RefreshChain chain = RefreshChain.create(100, 1, new java.security.SecureRandom());
        DhtRecord rec = DhtRecord.of(name, expires, "n1", new ValueContent.Contacts(
                List.of(Contact.of("sip:bob@127.0.0.1:5062"))));
        rec = new DhtRecord(rec.id(), rec.key(), rec.value().withChain(chain.params()));
        DhtValue signed = DraftDht.signed(rec, id);
        CachingReadCheck check = new CachingReadCheck(4);
        long now = System.currentTimeMillis();

        VerifiedRecord first = check.check(name.key(), signed, now);
        DhtValue refreshed = SignedValues.refresh(signed, chain.params(), expires.toEpochMilli(), 5, chain.token(5));
        assertSame(first, check.check(name.key(), refreshed, now), "token 5: the signed part's entry, no verification");
        assertSame(first, check.check(name.key(), SignedValues.refresh(signed, chain.params(), expires.toEpochMilli(), 9,
                chain.token(9)), expires.toEpochMilli() + 8_000), "token 9 still lives 8 s after the signed expiry");

        byte[] forgedToken = chain.token(12).clone();
        forgedToken[0] ^= 1;
        DhtValue forged = SignedValues.refresh(signed, chain.params(), expires.toEpochMilli(), 12, forgedToken);
        RecordException e = assertThrows(RecordException.class, () -> check.check(name.key(), forged, now));
        assertTrue(e.getMessage().contains("BAD_SIGNATURE"), e.getMessage());
        DhtValue tooLong = new DhtValue(refreshed.owner(), refreshed.nonce(), refreshed.data(),
                refreshed.expiresAtMillis() + 1_000);
        e = assertThrows(RecordException.class, () -> check.check(name.key(), tooLong, now),
                "an expiry beyond what token 5 grants");
        assertTrue(e.getMessage().contains("EXPIRED"), e.getMessage());
        e = assertThrows(RecordException.class, () -> check.check(name.key(), refreshed, expires.toEpochMilli() + 5_000));
        assertTrue(e.getMessage().contains("EXPIRED"), "token 5's grant is over: " + e.getMessage());
    }
}
