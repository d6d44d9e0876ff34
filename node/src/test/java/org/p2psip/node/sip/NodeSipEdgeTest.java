package org.p2psip.node.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.p2psip.sip.registrar.ContactBinding;
import org.p2psip.storage.PrivateKeyRecord;

/**
 * {@code --sip-registrar} ({@link SipOptions#withRegistrar}) on two node {@link Peer}s: peer A is the edge of bob's
 * phone and peer B, named as its registrar, registers it (digest with B's accounts, signed record with A's Path);
 * alice's calls from A's side reach bob's phone through B and back through A down the phone's flow (its Contact
 * names a port where nothing listens, as behind a NAT).
 */
@Timeout(180)
class NodeSipEdgeTest {
    static final String DOMAIN = "p2p.test";
    static final PrivateKeyRecord.KdfParams TEST_KDF = new PrivateKeyRecord.KdfParams(1024, 1, 1);

    @TempDir
    Path tmp;

    private Peer sipPeer(Path dataDir, Peer bootstrap, String registrar) throws Exception {
        java.nio.file.Files.createDirectories(dataDir);
        DigestAccounts.put(dataDir.resolve(DigestAccounts.FILE_NAME),
                DigestAccounts.account("bob", DOMAIN, "bob-secret".toCharArray()));
        SipOptions sip = new SipOptions(0, List.of(DOMAIN), null, null).withAlgorithms(List.of("MD5"))
                .withKeyKdf(TEST_KDF).withRegistrar(registrar);
        Peer.Builder b = bootstrap == null ? TestSupport.peer(dataDir)
                : TestSupport.peer(dataDir, bootstrap.overlayAddress());
        Peer p = b.sip(sip).build();
        p.start().get(60, TimeUnit.SECONDS);
        return p;
    }

    @Test
    void aPeerWithARegistrarIsTheEdgeOfItsPhones() throws Exception {
        Sipp sipp = Sipp.require(tmp, DOMAIN);
        try (Peer registrar = sipPeer(tmp.resolve("b"), null, null);
                Peer edge = sipPeer(tmp.resolve("a"), registrar,
                        "127.0.0.1:" + registrar.sip().localAddress().getPort())) {
            SipPeer a = edge.sip();
            SipPeer b = registrar.sip();
            int bobPort = TestSupport.freeUdpPort();
            Sipp.assertAllSucceeded(sipp.await(sipp.start("register_edge.xml", a.localAddress(), bobPort, 1,
                    "-s", "bob", "-au", "bob", "-ap", "bob-secret", "-key", "contact_port", "9"),
                    "register_edge.xml", bobPort), 1, "REGISTER of bob through the edge");
            assertEquals(0, a.registrar().localBindings(), "the edge registers nothing itself");
            List<ContactBinding> bound = a.contacts().lookup("sip:bob@" + DOMAIN).get(20, TimeUnit.SECONDS);
            assertEquals(1, bound.size(), bound.toString());
            assertEquals(b.proxy().selfUri(), bound.get(0).path());
            assertTrue(bound.get(0).pathHeaders().get(0).contains(":" + a.localAddress().getPort() + ";lr"),
                    bound.toString());

            int calls = 2;
            Process callee = sipp.startUas("uas_call.xml", bobPort, calls);
            int alicePort = TestSupport.freeUdpPort();
            Sipp.Result caller = sipp.await(sipp.start("uac_call.xml", a.localAddress(), alicePort, calls,
                    "-s", "bob", "-key", "caller", "alice"), "uac_call.xml", alicePort);
            Sipp.assertAllSucceeded(caller, calls, "alice's calls to bob through B and the edge");
            Sipp.assertAllSucceeded(sipp.await(callee, "uas_call.xml", bobPort), calls, "bob's phone behind the edge");
            assertTrue(a.proxy().edgeStats().flowRouted() >= 2 * calls, a.proxy().edgeStats().toString());
        }
    }
}
