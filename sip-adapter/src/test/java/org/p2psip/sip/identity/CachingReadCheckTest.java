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
import org.p2psip.storage.ResourceName;
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
}
