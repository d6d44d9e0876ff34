package org.p2psip.nat.ice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.p2psip.nat.ice.NatMatrix.Behaviour;
import org.p2psip.nat.ice.NatMatrix.PairResult;
import org.p2psip.nat.lab.NatLab;
import org.p2psip.testing.Prerequisites;

/**
 * An idle ICE link between two port-restricted NATs whose conntrack UDP timeout is 3 s (NatLabTest shows such a
 * binding is gone after 4 s of silence) survives 10 s without traffic: the DTLS keepalives, every half of the
 * 3 s binding lifetime the nodes are told, keep both mappings and the session; after the idle time an overlay put
 * is acknowledged by the peer over the same session (no new handshake). ICE consent freshness is off, so only the
 * DTLS keepalives hold the bindings (with it on, its STUN checks every ~15 s would re-open them sooner or later).
 * Control run by hand: with the default 15 s keepalive interval the same put after 10 s reaches only the local replica
 * (stored=1). Needs root, iproute2 and iptables; under CI=true their absence fails the test.
 */
@Timeout(300)
class IceKeepaliveLabTest {
    @Test
    void idleLinkThroughShortLivedNatBindingsStaysUp() throws Exception {
        Prerequisites.require(NatLab.prerequisiteProblems());
        try (NatLab lab = NatLab.create()) {
            NatMatrix matrix = NatMatrix.start(lab, List.of(Behaviour.PORT_RESTRICTED), 3);
            PairResult r = matrix.run(Behaviour.PORT_RESTRICTED, Behaviour.PORT_RESTRICTED, 1,
                    List.of("--binding-lifetime-ms", "3000", "--idle-seconds", "10", "--no-consent-freshness"));
            System.out.println("[ice keepalive] " + r.selected() + "\n" + r.output());
            assertTrue(r.connected() && r.authenticated() && r.rpcOk(), r.output());
            assertEquals(false, r.relayed(), "two port-restricted NATs: a direct pair: " + r.selected());
            Map<String, String> kv = NatMatrix.requesterValues(r);
            assertEquals("1500", kv.get("keepalive_interval_ms"), r.output());
            assertEquals("2", kv.get("after_idle_stored"), "the put after 10 s idle reached the peer:\n" + r.output());
            assertEquals("0", kv.get("new_handshakes_after_idle"), "the session survived the idle time:\n" + r.output());
            assertTrue(Long.parseLong(kv.get("keepalives_sent")) >= 3, "keepalives kept the bindings:\n" + r.output());
        }
    }
}
