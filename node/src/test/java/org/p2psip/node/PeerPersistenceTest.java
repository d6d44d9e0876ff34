package org.p2psip.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.SecretHashPolicy;

/** A peer keeps its share of the DHT on disk: after a restart it still holds and serves every record. */
class PeerPersistenceTest {
    @Test
    void restartedPeerStillHoldsItsRecords(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("peer");
        NodeId key = NodeId.ofName("sip:bob@example.net");
        DhtValue v = SecretHashPolicy.value(Bytes.utf8("sip:bob@192.0.2.7:5060"), Bytes.utf8("s3cret"),
                System.currentTimeMillis() + 3_600_000);
        try (Peer p = TestSupport.peer(dir).build()) {
            p.start().get(20, TimeUnit.SECONDS);
            p.dht().put(key, v).get(20, TimeUnit.SECONDS);
            assertEquals(List.of(v), p.overlay().localValues(key).get(5, TimeUnit.SECONDS));
        }
        assertTrue(Files.size(dir.resolve(Peer.RECORDS_FILE)) > 0, "the record store file exists");
        try (Peer p = TestSupport.peer(dir).build()) {
            p.start().get(20, TimeUnit.SECONDS);
            assertEquals(List.of(v), p.overlay().localValues(key).get(5, TimeUnit.SECONDS),
                    "the record survived the restart");
            assertEquals(List.of(v), p.dht().get(key).get(20, TimeUnit.SECONDS));
            // The secret still removes it, and the removal is kept too.
            p.dht().remove(key, v.owner(), v.nonce(), Bytes.utf8("s3cret")).get(20, TimeUnit.SECONDS);
            assertEquals(List.of(), p.overlay().localValues(key).get(5, TimeUnit.SECONDS));
        }
        try (Peer p = TestSupport.peer(dir).build()) {
            p.start().get(20, TimeUnit.SECONDS);
            assertEquals(List.of(), p.overlay().localValues(key).get(5, TimeUnit.SECONDS), "the removal survived");
        }
    }
}
