package org.p2psip.storage.api;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.sim.SimNetwork;
import org.p2psip.overlay.wire.WireCodec;
import org.p2psip.storage.NameOwners;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.SigningIdentity;

/** Real OverlayNodes in a SimNetwork (virtual time), each storing under its own DraftPolicy (tofu mode). */
final class SimOverlay {
    final SimNetwork net;
    final List<OverlayNode> nodes = new ArrayList<>();
    /** Each node's signed-record policy, in node order (to count its verifications). */
    final List<SignedRecordPolicy> policies = new ArrayList<>();
    final Random rnd;

    SimOverlay(int size, long seed) {
        net = new SimNetwork(seed, 5, 20, 0);
        rnd = new Random(seed + 1);
        WireCodec codec = new WireCodec();
        OverlayConfig cfg = OverlayConfig.defaults();
        for (int i = 0; i < size; i++) {
            SignedRecordPolicy signed = SignedRecordPolicy.tofu(NameOwners.inMemory());
            policies.add(signed);
            DraftPolicy policy = DraftPolicy.of(signed);
            OverlayNode n = new OverlayNode(NodeId.random(rnd), net.newLink(), cfg, policy, codec, rnd).start();
            nodes.add(n);
            net.await(n.join(i == 0 ? List.of() : List.of(nodes.get(0).contact().address())), 60_000);
        }
    }

    /** A DraftDht client on node {@code i}, in virtual time. */
    DraftDht dht(int i, DraftDht.Options options) {
        return new DraftDht(nodes.get(i), net::now, options, DraftDht.ReadCheck.signatureOnly());
    }

    DraftDht dht(int i) {
        return dht(i, DraftDht.Options.defaults());
    }

    <T> T await(CompletableFuture<T> f) {
        return net.await(f, 600_000);
    }

    static KeyPair ec() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A bare P-256 key (tofu mode: the first key to write a user's names owns them). */
    static SigningIdentity identity(String user) {
        return SigningIdentity.of(ec(), List.of(), user);
    }

    /** With a self-signed certificate naming {@code user}: a sender under others' offline: and subscribe: names. */
    static SigningIdentity certifiedIdentity(String user, long nowMillis) {
        KeyPair kp = ec();
        java.time.Instant now = java.time.Instant.ofEpochMilli(nowMillis); // virtual time: valid around it
        return SigningIdentity.of(kp, List.of(org.p2psip.storage.TestPki.selfSigned(user, kp,
                now.minus(java.time.Duration.ofDays(1)), now.plus(java.time.Duration.ofDays(30))).cert()), user);
    }
}
