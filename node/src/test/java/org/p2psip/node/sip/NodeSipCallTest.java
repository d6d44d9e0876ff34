package org.p2psip.node.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.testing.Sipp;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;
import org.p2psip.node.accounts.DigestAccounts;
import org.p2psip.sip.SipPeer;
import org.p2psip.storage.PrivateKeyRecord;

/**
 * Two node {@link Peer}s on loopback with SIP enabled, each with its own data directory and {@code sip-users} file
 * written by the node's account code (HA1 only): real sipp registers alice at peer 1 and bob at peer 2 with digest,
 * and alice calls bob through the overlay (INVITE, 180, 200, ACK, BYE along the Record-Route), so the peers' storage
 * policy accepted the signed contact records and the proxy found bob's through the overlay.
 */
@Timeout(180)
class NodeSipCallTest {
    static final String DOMAIN = "p2p.test";
    /** sipp 3.6 answers only the first challenge and only MD5; SHA-256 from HA1 is in DigestAuthenticatorTest. */
    static final List<String> MD5 = List.of("MD5");
    static final PrivateKeyRecord.KdfParams TEST_KDF = new PrivateKeyRecord.KdfParams(1024, 1, 1);

    @TempDir
    Path tmp;

    /** Peer 1 keeps records in memory, peer 2 in its record store: both run the node's {@code PeerPolicy}. */
    private Peer sipPeer(Path dataDir, Peer bootstrap) throws Exception {
        SipOptions sip = new SipOptions(0, List.of(DOMAIN), null, null).withAlgorithms(MD5).withKeyKdf(TEST_KDF);
        Peer.Builder b = bootstrap == null ? TestSupport.peer(dataDir) : TestSupport.peer(dataDir, bootstrap.overlayAddress());
        Peer p = b.persistent(bootstrap != null).sip(sip).build();
        p.start().get(60, TimeUnit.SECONDS);
        return p;
    }

    private static void addUser(Path dataDir, String user, String password) throws Exception {
        java.nio.file.Files.createDirectories(dataDir);
        DigestAccounts.put(dataDir.resolve(DigestAccounts.FILE_NAME),
                DigestAccounts.account(user, DOMAIN, password.toCharArray()));
    }

    @Test
    void aliceAtPeer1CallsBobAtPeer2ThroughTheOverlay() throws Exception {
        Sipp sipp = Sipp.require(tmp, DOMAIN);
        Path d1 = tmp.resolve("peer1");
        Path d2 = tmp.resolve("peer2");
        addUser(d1, "alice", "alice-secret");
        addUser(d2, "bob", "bob-secret");
        try (Peer p1 = sipPeer(d1, null); Peer p2 = sipPeer(d2, p1)) {
            SipPeer sip1 = p1.sip();
            SipPeer sip2 = p2.sip();
            assertNotNull(sip1, "peer 1 started SIP after its join");
            assertNotNull(sip2, "peer 2 started SIP after its join");
            awaitNeighbours(p1);

            int bobPort = TestSupport.freeUdpPort();
            int alicePort = TestSupport.freeUdpPort();
            register(sipp, "bob", "bob-secret", sip2, bobPort);
            register(sipp, "alice", "alice-secret", sip1, alicePort);
            assertEquals(1, sip2.registrar().localBindings(), "bob's binding is peer 2's");
            assertEquals(1, sip1.registrar().localBindings(), "alice's binding is peer 1's");

            int calls = 2;
            Process callee = sipp.startUas("uas_call.xml", bobPort, calls);
            Sipp.Result caller = sipp.await(sipp.start("uac_call.xml", sip1.localAddress(), alicePort, calls,
                    "-s", "bob", "-key", "caller", "alice"), "uac_call.xml", alicePort);
            Sipp.Result answered = sipp.await(callee, "uas_call.xml", bobPort);
            Sipp.assertAllSucceeded(caller, calls, "alice's calls to bob (INVITE/180/200/ACK/BYE)");
            Sipp.assertAllSucceeded(answered, calls, "bob answered and got the BYE");
        }
    }

    private static void register(Sipp sipp, String user, String password, SipPeer at, int port) throws Exception {
        Process p = sipp.start("register_auth.xml", at.localAddress(), port, 1, "-s", user, "-au", user, "-ap",
                password);
        Sipp.assertAllSucceeded(sipp.await(p, "register_auth.xml", port), 1, "REGISTER " + user + " with digest");
    }

    private static void awaitNeighbours(Peer p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (p.status().get(10, TimeUnit.SECONDS).neighbours() < 1) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("peer 1 has no neighbour within 20 s");
            }
            Thread.sleep(100);
        }
    }
}
