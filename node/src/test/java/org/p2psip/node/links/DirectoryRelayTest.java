package org.p2psip.node.links;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.HostPort;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;
import org.p2psip.node.site.TurnMode;
import org.p2psip.testing.Waits;

/**
 * Peers on loopback: one runs a TURN relay with no SIP account and advertises it; another, with no
 * {@code --link-turn-*}, finds it in the service directory, gets a grant through the overlay and gives both to its ICE
 * links; the relay itself looks for none.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DirectoryRelayTest {
    @TempDir
    Path tmp;

    private final List<Peer> peers = new ArrayList<>();

    @AfterEach
    void stop() {
        peers.forEach(Peer::close);
    }

    @Test
    void aPeerWithNoConfiguredRelayTakesOneFromTheServiceDirectory() throws Exception {
        Peer relay = TestSupport.peer(tmp.resolve("relay")).turn(TurnMode.ON).build();
        peers.add(relay);
        relay.start().get(30, TimeUnit.SECONDS);
        Peer other = TestSupport.peer(tmp.resolve("other"), relay.overlayAddress()).build();
        peers.add(other);
        other.start().get(30, TimeUnit.SECONDS);
        String expected = HostPort.format(relay.turnAddress());
        Waits.until(60_000, () -> {
            DirectoryRelay r = other.links().directoryRelay();
            return r != null && r.relay() != null && r.relay().startsWith(expected);
        }, "the peer to take " + expected + " from the service directory");
        assertEquals(relay.turnAddress(), other.links().secure().ice().config().turnServer(),
                "its ICE links use the relay");
        String user = other.links().secure().ice().config().turnUser();
        assertEquals(other.id().toHex(), user.substring(user.indexOf(':') + 1), "a grant in its own node id");
        assertNull(relay.links().directoryRelay().relay(), "the relay itself uses none");
    }
}
