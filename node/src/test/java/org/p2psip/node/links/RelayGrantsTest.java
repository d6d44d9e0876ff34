package org.p2psip.node.links;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.p2psip.nat.turn.CredentialStore;
import org.p2psip.nat.turn.TurnClient;
import org.p2psip.nat.turn.TurnServer;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.NodeId;
import org.p2psip.storage.DhtService;

/**
 * {@link RelayGrants} on a real TURN server on loopback: a grant allocates, a tampered or expired one and a stranger
 * do not, the SIP accounts still do; and {@link DirectoryRelay}'s reading of directory entries and answers.
 */
class RelayGrantsTest {
    static final InetAddress LO = InetAddress.getLoopbackAddress();

    @Test
    void aGrantAllocatesOnTheRelayAndATamperedOneDoesNot() throws Exception {
        RelayGrants grants = new RelayGrants();
        try (TurnServer s = TurnServer.start(TurnServer.Config.builder(new InetSocketAddress(LO, 0), LO, "p2psip.local",
                grants.credentials(CredentialStore.passwords(Map.of("alice", "wonderland")))).build())) {
            LinkTurn g = grants.grant(NodeId.ofName("asker"), System.currentTimeMillis());
            assertTrue(g.user().endsWith(":" + NodeId.ofName("asker").toHex()), g.user());
            try (TurnClient c = allocate(s, g.user(), g.password())) {
                assertNotNull(c.relayedAddress(), "the grant allocated a relayed address");
            }
            try (TurnClient c = allocate(s, "alice", "wonderland")) {
                assertNotNull(c.relayedAddress(), "the SIP accounts still log in");
            }
            assertThrows(ExecutionException.class, () -> allocate(s, g.user(), g.password() + "x"),
                    "a tampered password is refused");
            String other = g.user().replace(g.user().substring(0, g.user().indexOf(':')), "1999999999");
            assertThrows(ExecutionException.class, () -> allocate(s, other, g.password()),
                    "another expiry with the same password is refused");
            LinkTurn old = grants.grant(NodeId.ofName("asker"), System.currentTimeMillis() - RelayGrants.VALIDITY.toMillis() - 5_000);
            assertThrows(ExecutionException.class, () -> allocate(s, old.user(), old.password()), "an expired grant");
            LinkTurn foreign = new RelayGrants().grant(NodeId.ofName("asker"), System.currentTimeMillis());
            assertThrows(ExecutionException.class, () -> allocate(s, foreign.user(), foreign.password()),
                    "another relay's grant");
        }
    }

    @Test
    void directoryEntriesAndAnswersAreReadStrictly() {
        NodeId id = NodeId.ofName("relay");
        DirectoryRelay.Candidate c = DirectoryRelay.candidate(new DhtService.ServiceHost("turn",
                "turn:192.0.2.7:4227?transport=udp", DirectoryRelay.serviceHostId(id)));
        assertEquals(id, c.id());
        assertEquals(new InetSocketAddress("192.0.2.7", 4227), c.address());
        assertNull(DirectoryRelay.candidate(new DhtService.ServiceHost("turn", "turn:192.0.2.7:4227", null)),
                "no node id: nowhere to ask for a grant");
        assertNull(DirectoryRelay.candidate(new DhtService.ServiceHost("stun", "stun:192.0.2.7:4226",
                DirectoryRelay.serviceHostId(id))));
        assertNull(DirectoryRelay.candidate(new DhtService.ServiceHost("turn", "turn:192.0.2.7:4227", "node-nothex")));
        assertNull(DirectoryRelay.candidate(new DhtService.ServiceHost("turn", "turn:192.0.2.7:4227", id.toHex())),
                "an Id that is not this convention's");
        assertNull(DirectoryRelay.candidate(new DhtService.ServiceHost("turn", "turns:192.0.2.7:4227",
                DirectoryRelay.serviceHostId(id))));
        InetSocketAddress a = new InetSocketAddress(LO, 3478);
        LinkTurn t = RelayGrants.parse(Bytes.utf8("123:abc\nsecret"), a);
        assertEquals(List.of("123:abc", "secret"), List.of(t.user(), t.password()));
        for (String bad : List.of("", "no newline", "\nsecret", "user\n", "x".repeat(600) + "\ny")) {
            assertThrows(IllegalArgumentException.class, () -> RelayGrants.parse(Bytes.utf8(bad), a), bad);
        }
    }

    private static TurnClient allocate(TurnServer s, String user, String password) throws Exception {
        return TurnClient.allocate(TurnClient.Config.of(s.listenAddress(), user, password).quick(Duration.ofMillis(100)),
                new InetSocketAddress(LO, 0)).get(10, TimeUnit.SECONDS);
    }
}
