package org.p2psip.sip.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.p2psip.sip.identity.CachingReadCheck;
import org.p2psip.sip.identity.UserIdentities;
import org.p2psip.sip.registrar.ContactBinding;
import org.p2psip.sip.registrar.SignedContactStore;
import org.p2psip.storage.Contact;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.LocallySigned;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.ValueContent;
import org.p2psip.storage.api.DraftDht;
import org.p2psip.sip.identity.UserCertificates;

/**
 * The registrar's read-back of a contact record this process signed costs no signature verification even when the
 * copy comes from a remote replica (a new array over UDP), while a record another process signed is verified. Real
 * overlay nodes on loopback, each verifying what it stores.
 */
class SelfSignedReadBackTest {
    @Test
    void aSelfSignedRecordReadFromRemoteReplicasIsNotVerifiedAgainAForeignOneIs() throws Exception {
        try (LoopbackOverlay overlay = new LoopbackOverlay(3, 11)) {
            LocallySigned signedHere = new LocallySigned();
            // the writer signs through node 0; the reader reads through node 1, whose copies (its own replica and
            // the others') all arrived over UDP: none is the array that was signed
            DraftDht writer = new DraftDht(overlay.node(0), System::currentTimeMillis, DraftDht.Options.defaults(),
                    DraftDht.ReadCheck.signatureOnly(), signedHere);
            DraftDht reader = new DraftDht(overlay.node(1), System::currentTimeMillis, DraftDht.Options.defaults(),
                    new CachingReadCheck(16, signedHere), signedHere);
            try (UserIdentities ids = new UserIdentities(writer, null, u -> Optional.empty(),
                    new PrivateKeyRecord.KdfParams(1024, 1, 1), System::currentTimeMillis)) {
                SignedContactStore store = new SignedContactStore(writer, ids, System::currentTimeMillis, 0);
                long exp = System.currentTimeMillis() + 3_600_000;
                store.put(new ContactBinding("sip:dave@p2p.test", "<sip:dave@192.0.2.5:5062>", null,
                        "sip:127.0.0.1:5070;lr", List.of(), exp)).get(20, TimeUnit.SECONDS);

                long before = signedHere.answered();
                SignedContactStore readBack = new SignedContactStore(reader, ids, System::currentTimeMillis, 0);
                List<ContactBinding> got = readBack.lookup("sip:dave@p2p.test").get(20, TimeUnit.SECONDS);
                assertEquals(1, got.size(), got::toString);
                assertEquals("<sip:dave@192.0.2.5:5062>", got.get(0).contact());
                assertTrue(signedHere.answered() > before, "the self-signed record was answered without verification");

                // a record signed elsewhere (its signer remembers nothing here) is verified, and read
                String erin = "erin@p2p.test";
                var kp = UserCertificates.newKeyPair();
                SigningIdentity foreign = SigningIdentity.of(kp, List.of(UserCertificates.selfSigned(erin, kp)), erin);
                DraftDht elsewhere = new DraftDht(overlay.node(2));
                Instant e = Instant.now().plusSeconds(600).truncatedTo(ChronoUnit.SECONDS);
                elsewhere.putAuth(DhtRecord.of(ResourceName.sip(erin), e, "n1", new ValueContent.Contacts(List.of(
                        new Contact("sip:erin@192.0.2.6:5062", null, null, null, null, null, null,
                                List.of("sip:127.0.0.1:5071;lr"), null)))), foreign).get(20, TimeUnit.SECONDS);
                long mid = signedHere.answered();
                List<DraftDht.SignedValue> read = reader.get(ResourceName.sip(erin)).get(20, TimeUnit.SECONDS);
                assertEquals(1, read.size(), read::toString);
                assertEquals("sip:erin@192.0.2.6:5062", ((ValueContent.Contacts) read.get(0).content()).contacts().get(0).uri());
                assertEquals(mid, signedHere.answered(), "a foreign record is verified, not answered from the set");
            }
        }
    }
}
