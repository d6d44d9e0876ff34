package org.p2psip.node;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.store.StoragePolicy;

/** The peer's policy checked ahead (off the node's thread) decides no removal that {@code checkRemove} would not. */
class PeerPolicyTest {
    @Test
    void anOpenDhtSecretOfAnyLengthIsNotRefusedAheadAndRemovesItsValue() {
        PeerPolicy p = new PeerPolicy();
        long now = System.currentTimeMillis();
        NodeId key = NodeId.ofName("opendht-key");
        Bytes secret = Bytes.wrap("a secret longer than forty bytes, as any client may choose"
                .getBytes(StandardCharsets.UTF_8));
        Bytes data = Bytes.wrap("value".getBytes(StandardCharsets.UTF_8));
        DhtValue v = new DhtValue(SecretHashPolicy.sha1(secret), SecretHashPolicy.sha1(data), data, now + 60_000);
        assertTrue(p.checkPut(key, v, null, now).accepted());
        StoragePolicy.RemoveRequest rm = new StoragePolicy.RemoveRequest(key, v.owner(), v.nonce(), secret);
        assertNull(p.precheckRemove(key, rm, now));
        assertTrue(p.checkRemove(key, rm, v, now).accepted());
        // a proof that is neither the secret nor a signed record is still refused, by checkRemove
        StoragePolicy.RemoveRequest wrong = new StoragePolicy.RemoveRequest(key, v.owner(), v.nonce(),
                Bytes.wrap(new byte[64]));
        assertNull(p.precheckRemove(key, wrong, now));
        assertTrue(!p.checkRemove(key, wrong, v, now).accepted());
    }
}
