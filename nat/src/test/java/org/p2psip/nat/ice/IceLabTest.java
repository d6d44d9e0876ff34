package org.p2psip.nat.ice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.p2psip.nat.ice.NatMatrix.Behaviour;
import org.p2psip.nat.ice.NatMatrix.PairResult;
import org.p2psip.nat.lab.NatLab;
import org.p2psip.nat.testing.Prerequisites;

/**
 * ICE links through real kernel NATs: two overlay nodes in different NAT lab sites set up a link with an Attach
 * through the signaling relay and ice4j's checks (STUN and TURN from our TURN server on the public segment), then
 * join a two-node overlay over it, store and read a value (overlay RPCs over DTLS authenticated with the node keys).
 * Direct or relayed is read from the selected pair's candidate types. Needs root, iproute2 and iptables; under
 * CI=true their absence fails the test.
 */
@Timeout(600)
class IceLabTest {
    static NatLab lab;
    static NatMatrix matrix;

    @BeforeAll
    static void buildLab() throws Exception {
        Prerequisites.require(NatLab.prerequisiteProblems());
        lab = NatLab.create();
        matrix = NatMatrix.start(lab, List.of(Behaviour.FULL_CONE, Behaviour.PORT_RESTRICTED, Behaviour.SYMMETRIC), 30);
    }

    @AfterAll
    static void teardown() {
        if (lab != null) {
            lab.close();
        }
    }

    static PairResult link(Behaviour target, Behaviour requester) throws Exception {
        PairResult r = matrix.run(target, requester);
        System.out.printf("[ice lab] %s <- %s: %s%n%s%n", target, requester, r, r.output());
        assertTrue(r.connected(), "no ICE link " + target + " <- " + requester + ": " + r.error() + "\n" + r.output());
        assertTrue(r.authenticated(), "the link did not authenticate the target's node key:\n" + r.output());
        assertTrue(r.rpcOk(), "overlay RPCs over the link failed:\n" + r.output());
        return r;
    }

    @Test
    void fullConeWithPortRestrictedIsDirect() throws Exception {
        PairResult r = link(Behaviour.FULL_CONE, Behaviour.PORT_RESTRICTED);
        assertEquals(false, r.relayed(), "expected a direct pair: " + r.selected());
    }

    @Test
    void portRestrictedWithPortRestrictedIsDirectByHolePunching() throws Exception {
        PairResult r = link(Behaviour.PORT_RESTRICTED, Behaviour.PORT_RESTRICTED);
        assertEquals(false, r.relayed(), "expected a direct pair: " + r.selected());
        assertTrue(r.selected().startsWith("srflx->srflx") || r.selected().contains("prflx"),
                "both ends behind NATs: a reflexive pair is expected: " + r.selected());
    }

    @Test
    void symmetricWithSymmetricIsRelayedThroughTurn() throws Exception {
        PairResult r = link(Behaviour.SYMMETRIC, Behaviour.SYMMETRIC);
        assertEquals(true, r.relayed(), "expected a relayed pair: " + r.selected());
    }
}
