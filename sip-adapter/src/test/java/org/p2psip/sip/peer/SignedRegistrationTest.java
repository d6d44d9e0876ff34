package org.p2psip.sip.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipParser;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.registrar.DigestAccounts;
import org.p2psip.sip.registrar.DigestAuthenticator;
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
    DatagramSocket phone;
    int port;
    DraftDht reader;

    @BeforeEach
    void start() throws Exception {
        overlay = new LoopbackOverlay(3, 11);
        peer = startPeer();
        reader = new DraftDht(overlay.node(2));
        phone = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        phone.setSoTimeout(10_000);
        port = phone.getLocalPort();
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
        byte[] b = text.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
        phone.send(new DatagramPacket(b, b.length, peer.localAddress()));
        while (true) {
            DatagramPacket p = new DatagramPacket(new byte[65535], 65535);
            phone.receive(p);
            SipResponse r = (SipResponse) new SipParser().parseDatagram(p.getData(), 0, p.getLength());
            if (r.status() != 100) {
                return r;
            }
        }
    }

    String register(int cseq, String contacts, String expires, String authorization) {
        return "REGISTER sip:" + DOMAIN + " SIP/2.0\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:" + port + ";branch=z9hG4bK" + ThreadLocalRandom.current().nextLong()
                + ";rport\n"
                + "From: <sip:bob@" + DOMAIN + ">;tag=1\n"
                + "To: <sip:bob@" + DOMAIN + ">\n"
                + "Call-ID: reg-" + port + "\n"
                + "CSeq: " + cseq + " REGISTER\n"
                + contacts
                + "Expires: " + expires + "\n"
                + (authorization == null ? "" : "Authorization: " + authorization + "\n")
                + "Max-Forwards: 70\nContent-Length: 0\n\n";
    }

    String credentials(String password, SipResponse challenge) {
        String v = challenge.headers().first(HeaderNames.WWW_AUTHENTICATE).orElseThrow();
        int i = v.indexOf("nonce=\"") + 7;
        String nonce = v.substring(i, v.indexOf('"', i));
        String ha1 = DigestAuthenticator.h("SHA-256", "bob:" + DOMAIN + ":" + password);
        String ha2 = DigestAuthenticator.h("SHA-256", "REGISTER:sip:" + DOMAIN);
        String resp = DigestAuthenticator.h("SHA-256", ha1 + ":" + nonce + ":00000001:c0ffee:auth:" + ha2);
        return "Digest username=\"bob\", realm=\"" + DOMAIN + "\", nonce=\"" + nonce + "\", uri=\"sip:" + DOMAIN
                + "\", response=\"" + resp + "\", algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"c0ffee\"";
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
