package org.p2psip.sip.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.security.KeyPair;
import java.time.Instant;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.sip.identity.UserCertificates;
import org.p2psip.storage.CertificateNames;
import org.p2psip.storage.Contact;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.ValueContent;
import org.p2psip.storage.api.DraftDht;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.registrar.DigestAccounts;
import org.p2psip.testing.Ports;
import org.p2psip.testing.Prerequisites;
import org.p2psip.testing.Sipp;
import org.p2psip.testing.Sipp.Result;

/**
 * Real sipp against two adapter peers on a 3-node loopback overlay: bob registers with digest at peer 2, alice at
 * peer 1; alice calls bob through peer 1 (INVITE, 180, 200, ACK and BYE along the Record-Route), sends him a
 * MESSAGE, calls with a re-INVITE after which bob hangs up (BYE back through both peers), calls and cancels before
 * the answer (CANCEL hop by hop, 487 back), a MESSAGE to an unknown AOR gets 404, and with a second device of bob registered at peer 1 the INVITE forks
 * in parallel: one device answers, the other is cancelled. Each sipp run must exit 0 with every call successful.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SippAcrossPeersTest {
    static final String DOMAIN = "p2p.test";
    static final DigestAccounts ACCOUNTS = DigestAccounts.of(Map.of("alice", "alice-secret", "bob", "bob-secret",
            "carol", "carol-secret", "dave", "dave-secret", "erin", "erin-secret"));

    @TempDir
    static Path dir;
    LoopbackOverlay overlay;
    SipPeer peer1;
    SipPeer peer2;

    @BeforeAll
    void start() throws Exception {
        Prerequisites.requireTools("sipp");
        overlay = new LoopbackOverlay(3, 6);
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        // sipp 3.6 answers only MD5 challenges; SHA-256 is covered by DigestAuthenticatorTest.
        peer1 = SipPeer.start(config(any, "peer1"), overlay.node(0));
        peer2 = SipPeer.start(config(any, "peer2"), overlay.node(1));
    }

    /** Each peer its own data directory; a cheap Argon2id for the users' private: records (the test's speed). */
    SipPeer.Config config(InetSocketAddress bind, String name) {
        return SipPeer.Config.of(bind, DOMAIN, ACCOUNTS).withAlgorithms(List.of("MD5")).withDataDir(dir.resolve(name))
                .withKeyKdf(TEST_KDF);
    }

    static final PrivateKeyRecord.KdfParams TEST_KDF = new PrivateKeyRecord.KdfParams(1024, 1, 1);

    @AfterAll
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {peer1, peer2, overlay}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // best effort
            }
        }
    }

    /** The shared sipp runner, in this class's directory. */
    Sipp runner() {
        return Sipp.require(dir, DOMAIN);
    }

    /** Starts sipp: {@code remote} null for a UAS. */
    Process sipp(String scenario, SipPeer remote, int localPort, int calls, String... extra) throws Exception {
        return sipp("u1", scenario, remote, localPort, calls, extra);
    }

    Process sipp(String transport, String scenario, SipPeer remote, int localPort, int calls, String... extra)
            throws Exception {
        return runner().startOver(transport, scenario, remote == null ? null : remote.localAddress(), localPort, calls,
                extra);
    }

    /** Starts a sipp UAS on {@code localPort} and returns once it holds the port. */
    Process uas(String scenario, int localPort, int calls, String... extra) throws Exception {
        return runner().startUas(scenario, localPort, calls, extra);
    }

    Result await(Process p, String scenario, int port) throws Exception {
        return runner().await(p, scenario, port);
    }

    static void assertAllSucceeded(Result r, int calls, String what) {
        Sipp.assertAllSucceeded(r, calls, what);
    }

    void register(String user, String password, SipPeer at, int port) throws Exception {
        Process p = sipp("register_auth.xml", at, port, 1, "-s", user, "-au", user, "-ap", password);
        assertAllSucceeded(await(p, "register_auth.xml", port), 1, "REGISTER " + user);
    }

    /** A socket standing for mallory's phone: counts what reaches it. */
    static final class Listener implements AutoCloseable {
        final DatagramSocket socket;
        volatile int receivedPackets;
        final Thread thread;

        Listener() throws Exception {
            socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
            thread = new Thread(() -> {
                byte[] buf = new byte[65535];
                while (!socket.isClosed()) {
                    try {
                        socket.receive(new java.net.DatagramPacket(buf, buf.length));
                        receivedPackets++;
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    Listener mallory;

    /**
     * Mallory tries to add her phone to bob's contacts: a record for sip:bob signed by another key (with a
     * certificate naming bob) is refused by every storing node (tofu: bob's key owns him), and so is bob's own
     * record altered to point at her. The lookup still finds only bob's genuine contact.
     */
    void refuseForgeries(int bobPort) throws Exception {
        // bob's phone released its port when its REGISTER finished: the kernel may hand that very port to mallory's
        // ephemeral socket, and the altered record would then equal the genuine one
        mallory = new Listener();
        while (mallory.port() == bobPort) {
            Listener again = new Listener();
            mallory.close();
            mallory = again;
        }
        String bob = "bob@" + DOMAIN;
        KeyPair kp = UserCertificates.newKeyPair();
        SigningIdentity forger = SigningIdentity.of(kp, List.of(UserCertificates.selfSigned(bob, kp)), bob);
        Contact fake = new Contact("sip:bob@127.0.0.1:" + mallory.port(), null, null, null, null, "1.0", null,
                List.of(peer1.proxy().selfUri()), null);
        DraftDht dht = new DraftDht(overlay.node(2));
        var refused = assertThrows(ExecutionException.class, () -> dht.putAuth(DhtRecord.of(ResourceName.sip(bob),
                Instant.now().plusSeconds(3600), "forged", new ValueContent.Contacts(List.of(fake))), forger)
                .get(10, TimeUnit.SECONDS));
        assertTrue(String.valueOf(refused.getCause().getMessage()).contains("NOT_ENTITLED"), refused.toString());

        var genuine = dht.get(ResourceName.sip(bob)).get(10, TimeUnit.SECONDS);
        assertEquals(1, genuine.size());
        DhtValue v = genuine.get(0).value();
        String altered = v.data().utf8String().replace("127.0.0.1:" + bobPort, "127.0.0.1:" + mallory.port());
        assertTrue(!altered.equals(v.data().utf8String()), "bob's contact port " + bobPort + " is in the record: "
                + v.data().utf8String());
        var tampered = assertThrows(ExecutionException.class, () -> overlay.node(2).put(ResourceName.sip(bob).key(),
                new DhtValue(v.owner(), v.nonce(), Bytes.utf8(altered), v.expiresAtMillis() + 1000))
                .get(10, TimeUnit.SECONDS));
        assertTrue(String.valueOf(tampered.getCause().getMessage()).contains("BAD_SIGNATURE"), tampered.toString());

        var after = dht.get(ResourceName.sip(bob)).get(10, TimeUnit.SECONDS);
        assertEquals(1, after.size(), "only bob's own record");
        assertEquals(genuine.get(0).value().data(), after.get(0).value().data());
    }

    /**
     * Mallory leaves a message for dave in alice's name: with her key and a certificate naming alice (tofu: alice's
     * key owns alice), and with her own certificate but alice's KeyName; every storing node refuses both. Nor may she
     * remove alice's message: only dave (the recipient) or alice (its writer) may.
     */
    void refuseForgedSenders(DraftDht.SignedValue alices) throws Exception {
        String alice = "alice@" + DOMAIN;
        DraftDht dht = new DraftDht(overlay.node(2));
        ResourceName name = ResourceName.offline("dave@" + DOMAIN);
        KeyPair kp = UserCertificates.newKeyPair();
        SigningIdentity saysAlice = SigningIdentity.of(kp, List.of(UserCertificates.selfSigned(alice, kp)), alice);
        var takeover = assertThrows(ExecutionException.class, () -> dht.putAuth(DhtRecord.of(name,
                Instant.now().plusSeconds(3600), "forged-1", new ValueContent.Text("from 'alice'")), saysAlice)
                .get(10, TimeUnit.SECONDS));
        assertTrue(String.valueOf(takeover.getCause().getMessage()).contains("NOT_ENTITLED"), takeover.toString());
        KeyPair mk = UserCertificates.newKeyPair();
        SigningIdentity mallory = SigningIdentity.of(mk, List.of(UserCertificates.selfSigned("mallory@" + DOMAIN, mk)),
                alice);
        var forged = assertThrows(ExecutionException.class, () -> dht.putAuth(DhtRecord.of(name,
                Instant.now().plusSeconds(3600), "forged-2", new ValueContent.Text("from 'alice'")), mallory)
                .get(10, TimeUnit.SECONDS));
        assertTrue(String.valueOf(forged.getCause().getMessage()).contains("forged sender"), forged.toString());
        SigningIdentity stranger = SigningIdentity.of(mk, List.of(UserCertificates.selfSigned("mallory@" + DOMAIN, mk)),
                "mallory@" + DOMAIN);
        var removal = assertThrows(ExecutionException.class, () -> dht.removeAuth(
                org.p2psip.storage.RecordKey.of("k", name), alices.value(), stranger).get(10, TimeUnit.SECONDS));
        assertTrue(String.valueOf(removal.getCause().getMessage()).contains("NOT_ENTITLED"), removal.toString());
        assertEquals(2, offlineRecords("dave").size(), "only alice's messages are stored");
    }

    /** Polls {@code check} until it holds or 20 s passed. */
    static void eventually(String what, java.util.function.BooleanSupplier check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!check.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.sleep(100);
        }
    }

    List<DraftDht.SignedValue> offlineRecords(String user) {
        return new DraftDht(overlay.node(2)).get(ResourceName.offline(user + "@" + DOMAIN)).join();
    }

    /**
     * dave registers once (his certificate is published) and leaves; alice's MESSAGEs to him get 202 and are stored
     * encrypted under offline:dave (the storing nodes hold no plaintext); dave registers at the other peer, whose
     * phone then receives each MESSAGE with its original text and answers 200, and the records are removed.
     */
    @Test
    void offlineMessageIsStoredThenDeliveredOnRegister() throws Exception {
        int davePort = Ports.freeUdpPort();
        int alicePort = Ports.freeUdpPort();
        long runs = peer1.offline().orElseThrow().stats().runs();
        register("dave", "dave-secret", peer1, davePort);
        // the delivery run this REGISTER starts finds nothing yet; let it finish before messages are left
        eventually("peer 1's delivery run for dave", () -> peer1.offline().orElseThrow().stats().runs() > runs);
        Process p = sipp("unregister_auth.xml", peer1, davePort, 1, "-s", "dave", "-au", "dave", "-ap", "dave-secret");
        assertAllSucceeded(await(p, "unregister_auth.xml", davePort), 1, "unREGISTER dave");

        int messages = 2;
        Result left = await(sipp("uac_message_offline.xml", peer1, alicePort, messages, "-s", "dave",
                "-key", "caller", "alice", "-au", "alice", "-ap", "alice-secret"), "uac_message_offline.xml", alicePort);
        assertAllSucceeded(left, messages, "MESSAGE to offline dave: 407, then 202");
        List<DraftDht.SignedValue> stored = offlineRecords("dave");
        assertEquals(messages, stored.size(), "one encrypted offline: record per message");
        for (DraftDht.SignedValue v : stored) {
            assertTrue(v.content() instanceof ValueContent.Encrypted, v.content().toString());
            assertTrue(!v.value().data().utf8String().contains("Offline hello"), "the storing nodes cannot read it");
            // signed by the sender: alice's KeyName, her certificate, her key (the one her certificate: record holds)
            assertEquals("alice@" + DOMAIN, v.record().keyName());
            assertTrue(CertificateNames.bindsUser(v.record().chain().get(0), "alice@" + DOMAIN));
            var aliceCert = new DraftDht(overlay.node(2)).get(ResourceName.certificate("alice@" + DOMAIN)).join();
            assertEquals(aliceCert.get(0).writer(), v.writer(), "alice's own key signed it");
        }
        refuseForgedSenders(stored.get(0));

        int davePhone = Ports.freeUdpPort();
        register("dave", "dave-secret", peer2, davePhone);
        Result delivered = await(sipp("uas_message_offline.xml", null, davePhone, messages),
                "uas_message_offline.xml", davePhone);
        assertAllSucceeded(delivered, messages, "dave's phone received the offline MESSAGEs");
        eventually("the offline records are removed after the 200s", () -> offlineRecords("dave").isEmpty());
        var stats = peer2.offline().orElseThrow().stats();
        assertEquals(messages, stats.delivered(), stats.toString());
        assertEquals(messages, stats.removed(), stats.toString());
        assertEquals(messages, peer1.offline().orElseThrow().stats().stored());
    }

    /**
     * alice (at peer 1) watches erin's presence: 202 and an immediate NOTIFY closed, an encrypted watcher record
     * under subscribe:presence:erin; erin registers at peer 2 → peer 1's listen on erin's contact key fires →
     * NOTIFY open; erin unregisters → NOTIFY closed; alice unsubscribes → 200, NOTIFY terminated, record removed.
     */
    @Test
    void presenceNotifiesRegistrationChanges() throws Exception {
        int erinPort = Ports.freeUdpPort();
        int alicePort = Ports.freeUdpPort();
        // erin has registered before, so her certificate is published (watcher records are encrypted to it)
        register("erin", "erin-secret", peer2, erinPort);
        Process p = sipp("unregister_auth.xml", peer2, erinPort, 1, "-s", "erin", "-au", "erin", "-ap", "erin-secret");
        assertAllSucceeded(await(p, "unregister_auth.xml", erinPort), 1, "unREGISTER erin");

        var presence = peer1.presence().orElseThrow();
        long open0 = presence.stats().notifiesOpen();
        long closed0 = presence.stats().notifiesClosed();
        Process watcher = sipp("uac_subscribe_presence.xml", peer1, alicePort, 1, "-s", "erin", "-key", "caller", "alice",
                "-au", "alice", "-ap", "alice-secret");
        eventually("the first NOTIFY (closed)", () -> presence.stats().notifiesClosed() >= closed0 + 1);
        eventually("the watcher record is stored", () -> presence.stats().watcherRecords() >= 1);
        var records = new DraftDht(overlay.node(2)).get(ResourceName.subscribe("presence", "erin@" + DOMAIN)).join();
        assertEquals(1, records.size(), "one watcher record");
        assertTrue(records.get(0).content() instanceof ValueContent.Encrypted, records.get(0).content().toString());
        // the watcher list is encrypted; who wrote the entry is public (the storing nodes check the sender)
        assertTrue(!records.get(0).value().data().utf8String().contains("<watchers"), "the watcher list is encrypted");
        assertEquals("alice@" + DOMAIN, records.get(0).record().keyName(), "signed by the watcher, alice");

        register("erin", "erin-secret", peer2, erinPort);
        eventually("NOTIFY open after erin registered", () -> presence.stats().notifiesOpen() >= open0 + 1);
        p = sipp("unregister_auth.xml", peer2, erinPort, 1, "-s", "erin", "-au", "erin", "-ap", "erin-secret");
        assertAllSucceeded(await(p, "unregister_auth.xml", erinPort), 1, "unREGISTER erin");
        Result watched = await(watcher, "uac_subscribe_presence.xml", alicePort);
        assertAllSucceeded(watched, 1, "watcher: 202, NOTIFY closed, open, closed, unsubscribe, NOTIFY terminated");
        assertEquals(open0 + 1, presence.stats().notifiesOpen(), presence.stats().toString());
        assertEquals(closed0 + 3, presence.stats().notifiesClosed(), presence.stats().toString());
        eventually("the watcher record is removed", () -> new DraftDht(overlay.node(2))
                .get(ResourceName.subscribe("presence", "erin@" + DOMAIN)).join().isEmpty());
        assertEquals(0, presence.stats().active());
    }

    @Test
    void registerWithDigestOverTcp() throws Exception {
        int port = Ports.freeUdpPort();
        Process p = sipp("t1", "register_auth.xml", peer2, port, 1, "-s", "carol", "-au", "carol", "-ap",
                "carol-secret");
        assertAllSucceeded(await(p, "register_auth.xml", port), 1, "REGISTER carol over TCP");
        var values = new DraftDht(overlay.node(0)).get(ResourceName.sip("carol@" + DOMAIN)).get(10, TimeUnit.SECONDS);
        assertEquals(1, values.size());
        var contacts = ((ValueContent.Contacts) values.get(0).content()).contacts();
        assertEquals(List.of(peer2.proxy().selfUri()), contacts.get(0).path(), "the contact is reached through peer 2");
        assertTrue(CertificateNames.bindsUser(values.get(0).record().chain().get(0), "carol@" + DOMAIN),
                "signed with carol's certificate");
        assertTrue(Files.exists(dir.resolve("peer2/sip-keys/carol@" + DOMAIN + ".key")), "carol's key is kept by peer 2");
        var cert = new DraftDht(overlay.node(2)).get(ResourceName.certificate("carol@" + DOMAIN)).get(10, TimeUnit.SECONDS);
        assertEquals(1, cert.size(), "carol's certificate is published");
        assertEquals(values.get(0).writer(), cert.get(0).writer(), "by the same key");
    }

    @Test
    void registerCallMessageAndNotFoundAcrossTwoPeers() throws Exception {
        int bobPort = Ports.freeUdpPort();
        int alicePort = Ports.freeUdpPort();
        register("bob", "bob-secret", peer2, bobPort);
        register("alice", "alice-secret", peer1, alicePort);
        assertEquals(1, overlay.node(2).get(NodeId.ofName("sip:bob@" + DOMAIN)).get(10, TimeUnit.SECONDS).size(),
                "bob's binding is one value in the DHT");
        refuseForgeries(bobPort);

        int calls = 3;
        Process callee = uas("uas_call.xml", bobPort, calls);
        Result caller = await(sipp("uac_call.xml", peer1, alicePort, calls, "-s", "bob", "-key", "caller", "alice"),
                "uac_call.xml", alicePort);
        Result answered = await(callee, "uas_call.xml", bobPort);
        assertAllSucceeded(caller, calls, "caller");
        assertAllSucceeded(answered, calls, "callee");
        assertEquals(0, mallory.receivedPackets, "nothing reached the forged contact");
        mallory.close();

        Process receiver = uas("uas_message.xml", bobPort, calls);
        Result sent = await(sipp("uac_message.xml", peer1, alicePort, calls, "-s", "bob", "-key", "caller", "alice"),
                "uac_message.xml", alicePort);
        Result received = await(receiver, "uas_message.xml", bobPort);
        assertAllSucceeded(sent, calls, "MESSAGE sender");
        assertAllSucceeded(received, calls, "MESSAGE receiver");

        Process callee2 = uas("uas_reinvite.xml", bobPort, calls, "-s", "bob");
        Result reinvited = await(sipp("uac_reinvite.xml", peer1, alicePort, calls, "-s", "bob"),
                "uac_reinvite.xml", alicePort);
        Result hungUp = await(callee2, "uas_reinvite.xml", bobPort);
        assertAllSucceeded(reinvited, calls, "re-INVITE caller");
        assertAllSucceeded(hungUp, calls, "re-INVITE callee hanging up");

        Process ringing = uas("uas_cancel.xml", bobPort, calls);
        Result cancelled = await(sipp("uac_cancel.xml", peer1, alicePort, calls, "-s", "bob", "-key", "caller", "alice"),
                "uac_cancel.xml", alicePort);
        Result rang = await(ringing, "uas_cancel.xml", bobPort);
        assertAllSucceeded(cancelled, calls, "CANCEL caller");
        assertAllSucceeded(rang, calls, "CANCEL callee");

        Result notFound = await(sipp("uac_notfound.xml", peer1, alicePort, 2, "-s", "nobody",
                "-key", "caller", "alice"), "uac_notfound.xml", alicePort);
        assertAllSucceeded(notFound, 2, "404");
        assertTrue(peer1.proxy().stats().notFound() >= 2, peer1.proxy().stats().toString());
        // Every INVITE, ACK-less BYE and MESSAGE crossed both peers: peer 1 looked bob up and forwarded to peer 2,
        // which delivered to bob's flow (BYE through the Record-Route).
        assertTrue(peer1.proxy().stats().forwarded() >= 3L * calls, peer1.proxy().stats().toString());
        assertTrue(peer2.proxy().stats().forwarded() >= 3L * calls, peer2.proxy().stats().toString());
        assertEquals(4L * calls + 2, peer1.proxy().stats().lookups(), peer1.proxy().stats().toString());
        assertEquals(0, peer2.proxy().stats().lookups(), "peer 2 delivers by the pushed Route, no second lookup");

        // Parallel forking: bob's second device registers at peer 1. The INVITE forks to both; device 1 (at peer 2)
        // answers after ringing, device 2 (at peer 1) rings and is cancelled by the proxy (487 absorbed).
        int bob2Port = Ports.freeUdpPort();
        register("bob", "bob-secret", peer1, bob2Port);
        Process device1 = uas("uas_call.xml", bobPort, calls);
        Process device2 = uas("uas_cancel.xml", bob2Port, calls);
        Result forked = await(sipp("uac_call.xml", peer1, alicePort, calls, "-s", "bob", "-key", "caller", "alice"),
                "uac_call.xml", alicePort);
        Result answeredFork = await(device1, "uas_call.xml", bobPort);
        Result cancelledFork = await(device2, "uas_cancel.xml", bob2Port);
        assertAllSucceeded(forked, calls, "forked caller");
        assertAllSucceeded(answeredFork, calls, "forked callee answering");
        assertAllSucceeded(cancelledFork, calls, "forked callee cancelled");
    }
}
