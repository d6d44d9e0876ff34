package org.p2psip.storage.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPairGenerator;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.p2psip.storage.Contact;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.NameOwners;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.PrivateKeyRecord.KdfParams;
import org.p2psip.storage.RecordException;
import org.p2psip.storage.Refusal;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.ValueContent;

/** The password-encrypted private: record, from one device to another. */
class PrivateKeyRecordTest {
    /** Cheap cost for tests; the default is exercised once below. */
    private static final KdfParams FAST = new KdfParams(1024, 1, 1);
    private static final String BOB = "bob@example.net";

    private final MemoryDht mem = new MemoryDht(DraftPolicy.of(SignedRecordPolicy.tofu(NameOwners.inMemory())));
    private final DraftDht dht = new DraftDht(mem, () -> mem.now, DraftDht.Options.defaults(), DraftDht.ReadCheck.signatureOnly());

    @Test
    void anotherDeviceRestoresTheIdentityFromThePasswordAlone() throws Exception {
        SigningIdentity bob = SimOverlay.identity(BOB);
        PrivateKeyRecord.Unlocked desk = PrivateKeyRecord.unlock(BOB, "correct horse battery staple".toCharArray(), FAST);
        assertTrue(desk.name().format().startsWith("private:bob@example.net:"));
        assertTrue(desk.key().isDigest(), "storing nodes see only the hash of the name");
        dht.putAuth(desk.record(bob.privateKey(), Instant.ofEpochMilli(mem.now).plusSeconds(3600), "key"), bob).join();
        desk.destroy();

        // the phone knows only the user and the password
        PrivateKeyRecord.Unlocked phone = PrivateKeyRecord.unlock(BOB, "correct horse battery staple".toCharArray(), FAST);
        List<DraftDht.SignedValue> found = dht.get(phone.key()).join();
        assertEquals(1, found.size());
        SigningIdentity restored = phone.restore(found.get(0).record());
        assertArrayEquals(bob.privateKey().getEncoded(), restored.privateKey().getEncoded());
        assertEquals(bob.publicKey(), restored.publicKey());
        assertEquals(BOB, restored.keyName());
        // and writes as Bob: the tofu owner of bob's names accepts it
        assertTrue(dht.putAuth(DhtRecord.of(ResourceName.sip(BOB), Instant.ofEpochMilli(mem.now).plusSeconds(600), "phone",
                new ValueContent.Contacts(List.of(Contact.of("sip:bob@192.0.2.9")))), restored).join().stored() > 0);
    }

    @Test
    void aWrongPasswordIsRefusedClearly() throws Exception {
        SigningIdentity bob = SimOverlay.identity(BOB);
        PrivateKeyRecord.Unlocked right = PrivateKeyRecord.unlock(BOB, "right password".toCharArray(), FAST);
        ValueContent.Encrypted sealed = right.seal(bob.privateKey());
        PrivateKeyRecord.Unlocked wrong = PrivateKeyRecord.unlock(BOB, "wrong password".toCharArray(), FAST);
        // with the wrong password the record is not even found: the name's secret differs
        assertNotEquals(right.name(), wrong.name());
        // and given the record anyway, decryption is refused with its own code and a clear reason
        RecordException e = assertThrows(RecordException.class, () -> wrong.open(sealed));
        assertEquals(Refusal.CANNOT_DECRYPT, e.code());
        assertTrue(e.getMessage().contains("wrong password"), e.getMessage());
        // another user with the same password derives another name and key
        PrivateKeyRecord.Unlocked alice = PrivateKeyRecord.unlock("alice@example.net", "right password".toCharArray(), FAST);
        assertNotEquals(right.name().format().substring(right.name().format().lastIndexOf(':')),
                alice.name().format().substring(alice.name().format().lastIndexOf(':')));
        assertEquals(Refusal.CANNOT_DECRYPT, assertThrows(RecordException.class, () -> alice.open(sealed)).code());
        // tampering is refused the same way
        String xml = sealed.xml();
        int cv = xml.indexOf("<CipherValue>") + "<CipherValue>".length();
        String flipped = xml.substring(0, cv + 20) + (xml.charAt(cv + 20) == 'A' ? 'B' : 'A') + xml.substring(cv + 21);
        assertEquals(Refusal.CANNOT_DECRYPT,
                assertThrows(RecordException.class, () -> right.open(new ValueContent.Encrypted(sealed.type(), flipped))).code());
        // other cost parameters than the record's are named in the refusal
        PrivateKeyRecord.Unlocked slower = PrivateKeyRecord.unlock(BOB, "right password".toCharArray(), new KdfParams(2048, 1, 1));
        assertTrue(assertThrows(RecordException.class, () -> slower.open(sealed)).getMessage().contains("other Argon2id parameters"));
    }

    @Test
    void ed25519KeysAndTheDefaultCost() throws Exception {
        var kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        long t0 = System.nanoTime();
        PrivateKeyRecord.Unlocked u = PrivateKeyRecord.unlock(BOB, "a long passphrase for the default cost".toCharArray(), KdfParams.DEFAULT);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("Argon2id m=64 MiB t=3 p=4 took " + ms + " ms");
        ValueContent.Encrypted sealed = u.seal(kp.getPrivate());
        assertTrue(sealed.xml().contains("memoryKiB=\"65536\""));
        assertArrayEquals(kp.getPrivate().getEncoded(), u.open(sealed).getEncoded());
        u.destroy();
        assertTrue(u.isDestroyed());
        assertThrows(IllegalStateException.class, () -> u.open(sealed));
        assertFalse(u.toString().contains(u.name().format().substring(30)), "the secret is not logged");
    }
}
