package org.p2psip.node.links;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.SecretHashPolicy;

/**
 * Not a test (surefire does not pick it up by name): prints how long 10 loopback peers take to start and to do 50
 * put+get pairs with DTLS links and with plain UDP, twice (the first round includes class loading). Run with
 * {@code mvn -B -o -pl node -am verify -Dtest=LinkSecurityTiming -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class LinkSecurityTiming {
    @TempDir
    Path tmp;

    @Test
    void timing() throws Exception {
        for (int round = 0; round < 2; round++) {
            for (LinkSecurity s : LinkSecurity.values()) {
                List<Peer> peers = new ArrayList<>();
                long t0 = System.nanoTime();
                try {
                    TestSupport.startCluster(peers, tmp.resolve(s + "-" + round), 10, b -> b.linkSecurity(s).persistent(false));
                    long started = System.nanoTime();
                    for (int i = 0; i < 50; i++) {
                        peers.get(i % 10).dht().put(NodeId.ofName("k" + i), SecretHashPolicy.value(Bytes.utf8("v"), Bytes.EMPTY,
                                System.currentTimeMillis() + 60_000)).get(20, TimeUnit.SECONDS);
                        peers.get((i + 5) % 10).dht().get(NodeId.ofName("k" + i)).get(20, TimeUnit.SECONDS);
                    }
                    long done = System.nanoTime();
                    System.out.printf("TIMING %s round %d: 10 peers started in %d ms; 50 put+get in %d ms%n", s, round,
                            (started - t0) / 1_000_000, (done - started) / 1_000_000);
                } finally {
                    peers.forEach(Peer::close);
                }
            }
        }
    }
}
