package org.p2psip.sip.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.registrar.DigestAccounts;
import org.p2psip.sip.testing.RawPhone;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.api.DraftDht;

/**
 * REGISTER into signed contact records on a real 3-node loopback overlay whose nodes run the verifying policy:
 * one signed value per device, a refresh keeps the nonce and extends the expiry, a shorter one replaces the value,
 * {@code Expires: 0} and {@code Contact: *} are remove-auth, the user's certificate is published, a REGISTER that
 * fails digest authentication writes nothing, and the user's key survives a restart in the data directory.
 */
class SignedRegistrationTest {
    static final String DOMAIN = "p2p.test";
    static final String BOB = "bob@" + DOMAIN;

    @TempDir
    Path data;
    LoopbackOverlay overlay;
    SipPeer peer;
    RawPhone phone;
    int port;
    DraftDht reader;

    @BeforeEach
    void start() throws Exception {
        overlay = new LoopbackOverlay(3, 11);
        peer = startPeer();
        reader = new DraftDht(overlay.node(2));
        phone = new RawPhone(10_000);
        port = phone.port();
    }

    SipPeer startPeer() throws Exception {
        return SipPeer.start(SipPeer.Config.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), DOMAIN,
                DigestAccounts.of(Map.of("bob", "secret"))).withDataDir(data)
                .withKeyKdf(new PrivateKeyRecord.KdfParams(1024, 1, 1)), overlay.node(0));
    }

    @AfterEach
    void stop() {
        phone.close();
        peer.close();
        overlay.close();
    }

    SipResponse send(String text) throws Exception {
        return phone.send(peer.localAddress(), text);
    }

    String register(int cseq, String contacts, String expires, String authorization) {
        return phone.register("bob", DOMAIN, "reg-" + port, cseq, contacts, expires, authorization);
    }

    String credentials(String password, SipResponse challenge) {
        return RawPhone.digest("SHA-256", "bob", DOMAIN, password, RawPhone.nonce(challenge));
    }

    int cseq = 1;

    SipResponse register(String contacts, String expires, String password) throws Exception {
        SipResponse challenge = send(register(cseq++, contacts, expires, null));
        assertEquals(401, challenge.status());
        return send(register(cseq++, contacts, expires, credentials(password, challenge)));
    }

    List<DraftDht.SignedValue> contacts() throws Exception {
        return reader.get(ResourceName.sip(BOB)).get(10, TimeUnit.SECONDS);
    }

    @Test
    void registrationsAreSignedRecords() throws Exception {
        String device1 = "Contact: <sip:bob@127.0.0.1:" + port + ">\n";
        assertEquals(401, register(device1, "600", "wrong").status());
        assertEquals(0, contacts().size(), "a REGISTER that fails authentication never reaches the DHT");
        assertEquals(0, reader.get(ResourceName.certificate(BOB)).get(10, TimeUnit.SECONDS).size());

        SipResponse ok = register(device1, "600", "secret");
        assertEquals(200, ok.status(), ok.toString());
        assertEquals(1, ok.contacts().size());
        List<DraftDht.SignedValue> first = contacts();
        assertEquals(1, first.size());
        var cert = reader.get(ResourceName.certificate(BOB)).get(10, TimeUnit.SECONDS);
        assertEquals(1, cert.size(), "the certificate is published on the first REGISTER");
        assertEquals(first.get(0).writer(), cert.get(0).writer(), "contacts and certificate: one key, bob's");

        Thread.sleep(1100); // the signed expiry has a one-second resolution
        assertEquals(200, register(device1, "900", "secret").status());
        List<DraftDht.SignedValue> refreshed = contacts();
        assertEquals(1, refreshed.size(), "a refresh replaces the value");
        assertEquals(first.get(0).nonce(), refreshed.get(0).nonce(), "a refresh keeps the nonce");
        assertTrue(refreshed.get(0).expires().isAfter(first.get(0).expires()), "and extends the expiry");

        assertEquals(200, register(device1, "120", "secret").status());
        List<DraftDht.SignedValue> shorter = contacts();
        assertEquals(1, shorter.size(), "a shorter expiry replaces the value too");
        assertNotEquals(first.get(0).nonce(), shorter.get(0).nonce(), "under a new nonce");
        assertTrue(shorter.get(0).expires().isBefore(refreshed.get(0).expires()));

        ok = register(device1 + "Contact: <sip:bob@127.0.0.1:9;transport=tcp>;q=0.5\n", "600", "secret");
        assertEquals(200, ok.status());
        assertEquals(2, ok.contacts().size(), ok.toString());
        assertEquals(2, contacts().size(), "a second device is a second signed value");

        ok = register("Contact: <sip:bob@127.0.0.1:9;transport=tcp>\n", "0", "secret");
        assertEquals(200, ok.status());
        assertEquals(1, ok.contacts().size(), ok.toString());
        assertEquals(1, contacts().size(), "Expires: 0 is remove-auth");

        // the key is kept in the data directory: after a restart the peer signs with the same key
        Path keyFile = data.resolve("sip-keys").resolve(BOB + ".key");
        assertTrue(Files.exists(keyFile), keyFile.toString());
        peer.close();
        peer = startPeer();
        assertEquals(200, register(device1, "600", "secret").status());
        List<DraftDht.SignedValue> afterRestart = contacts();
        assertEquals(1, afterRestart.size(), afterRestart.toString());
        assertEquals(first.get(0).writer(), afterRestart.get(0).writer(), "the same key after the restart");

        ok = register("Contact: *\n", "0", "secret");
        assertEquals(200, ok.status());
        assertEquals(0, ok.contacts().size(), ok.toString());
        assertEquals(0, contacts().size(), "Contact: * removed every binding of this peer");
    }
}
