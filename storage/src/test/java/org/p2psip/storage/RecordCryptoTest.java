package org.p2psip.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.store.ValueStore;
import org.p2psip.overlay.wire.Message.Status;

class RecordCryptoTest {
    private static final Instant EXP = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);
    private static final List<Watcher> WATCHERS = List.of(new Watcher("sip:bob@example.net", null, "presence", "alice@home.com", EXP),
            new Watcher("sip:bob@example.net", null, "presence", "carol@example.org", EXP));

    private static KeyPair x25519() throws Exception {
        return KeyPairGenerator.getInstance("X25519").generateKeyPair();
    }

    @Test
    void watcherListsRoundTripWithX25519AndP256() throws Exception {
        for (KeyPair bob : List.of(x25519(), TestPki.ec())) {
            ValueContent.Encrypted e = RecordCrypto.encryptWatchers(WATCHERS, bob.getPublic(), "bob@example.net");
            assertEquals(Namespaces.TYPE_WATCHERS, e.type());
            assertFalse(e.xml().contains("alice@home.com"));
            assertTrue(e.xml().contains(RecordCrypto.AES256_GCM));
            assertEquals(WATCHERS, RecordCrypto.decryptWatchers(e, bob.getPrivate()));
        }
    }

    @Test
    void onlyTheRecipientCanDecryptAndTamperingIsDetected() throws Exception {
        KeyPair bob = x25519();
        byte[] msg = "call me back".getBytes(StandardCharsets.UTF_8);
        ValueContent.Encrypted e = RecordCrypto.encrypt(msg, RecordCrypto.TYPE_OFFLINE_TEXT, bob.getPublic(), null);
        assertArrayEquals(msg, RecordCrypto.decrypt(e, bob.getPrivate()));
        assertEquals(Refusal.CANNOT_DECRYPT, assertThrows(RecordException.class, () -> RecordCrypto.decrypt(e, x25519().getPrivate())).code());
        assertEquals(Refusal.CANNOT_DECRYPT, assertThrows(RecordException.class, () -> RecordCrypto.decrypt(e, TestPki.ec().getPrivate())).code());
        String cv = e.xml().replaceAll("(?s).*<CipherValue>(.*)</CipherValue>.*", "$1");
        byte[] raw = Base64.getDecoder().decode(cv);
        raw[raw.length - 20] ^= 1;
        ValueContent.Encrypted t = new ValueContent.Encrypted(e.type(), e.xml().replace(cv, Base64.getEncoder().encodeToString(raw)));
        assertEquals(Refusal.CANNOT_DECRYPT, assertThrows(RecordException.class, () -> RecordCrypto.decrypt(t, bob.getPrivate())).code());
        ValueContent.Encrypted weak = new ValueContent.Encrypted(e.type(), e.xml().replace(RecordCrypto.AES256_GCM,
                "http://www.w3.org/2001/04/xmlenc#tripledes-cbc"));
        assertEquals(Refusal.CANNOT_DECRYPT, assertThrows(RecordException.class, () -> RecordCrypto.decrypt(weak, bob.getPrivate())).code());
    }

    @Test
    void anEncryptedWatcherListIsSignedStoredAndOnlyBobReadsIt() throws Exception {
        TestPki.Ca ca = TestPki.ca("CA", TestPki.ec());
        KeyPair aliceKeys = TestPki.ec();
        SigningIdentity alice = SigningIdentity.of(aliceKeys, List.of(ca.issue("alice@home.com", aliceKeys, TestPki.email("alice@home.com")).cert()), "alice@home.com");
        KeyPair bobEnc = x25519();
        ResourceName list = ResourceName.subscribe("presence", "bob@example.net");
        DhtValue v = SignedValues.put(DhtRecord.of(list, EXP, "w1",
                RecordCrypto.encryptWatchers(WATCHERS.subList(0, 1), bobEnc.getPublic(), "bob@example.net")), alice);
        // the sender's KeyName is public (storing nodes check it); the watcher list itself is not
        assertFalse(v.data().utf8String().contains("<watchers"), "storing nodes see no plaintext");
        ValueStore s = new ValueStore(SignedRecordPolicy.ca(List.of(ca.cert()), false), 1 << 20, 1 << 20, 16, Duration.ofDays(7).toMillis());
        ValueStore.Outcome o = s.put(list.key(), v, "peer", System.currentTimeMillis());
        assertEquals(Status.OK, o.status(), o.reason());
        DhtValue got = s.get(list.key(), System.currentTimeMillis()).get(0);
        VerifiedRecord r = new RecordVerifier().verify(got.data().unsafeArray());
        assertEquals(alice.owner(), r.owner());
        ValueContent.Encrypted enc = (ValueContent.Encrypted) r.record().value().content();
        assertEquals(WATCHERS.subList(0, 1), RecordCrypto.decryptWatchers(enc, bobEnc.getPrivate()));
    }
}
