package org.p2psip.node.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;

/**
 * {@code STATUS} names where the peer is reachable: a wildcard bind lists the interfaces' addresses (never
 * {@code 0.0.0.0}) and the wildcard on a {@code bind} line; a concrete bind is one {@code address} line; a discovered
 * reflexive address gets its own line.
 */
class ReachableAddressesTest {
    @TempDir
    Path tmp;

    @Test
    void aConcreteBindIsItsAddress() {
        List<String> l = ReachableAddresses.lines(new InetSocketAddress("127.0.0.1", 4222), null);
        assertEquals(List.of("address 127.0.0.1:4222"), l);
    }

    @Test
    void aWildcardBindListsTheInterfacesAndTheReflexiveAddress() {
        List<String> l = ReachableAddresses.lines(new InetSocketAddress("0.0.0.0", 4222),
                new InetSocketAddress("203.0.113.7", 40001));
        assertTrue(l.contains("address 127.0.0.1:4222"), l.toString());
        assertTrue(l.contains("bind 0.0.0.0:4222"), l.toString());
        assertTrue(l.contains("reflexive 203.0.113.7"), l.toString());
        assertFalse(l.stream().anyMatch(x -> x.startsWith("address 0.0.0.0") || x.startsWith("address [")),
                "an IPv4 socket lists no wildcard and no IPv6 address: " + l);
        // routable addresses come before the loopback one
        int loopback = l.indexOf("address 127.0.0.1:4222");
        for (int i = loopback + 1; i < l.size(); i++) {
            assertFalse(l.get(i).startsWith("address "), l.toString());
        }
    }

    @Test
    void statusOfAPeerBoundToTheWildcardShowsWhereItIsReachable() throws Exception {
        Peer peer = TestSupport.peer(tmp.resolve("p")).bindAddress(InetAddress.getByName("0.0.0.0")).build();
        try {
            peer.start().get(20, TimeUnit.SECONDS);
            List<String> lines;
            try (ControlClient c = ControlClient.connect(peer.controlAddress().getPort(), 5000)) {
                lines = c.request("STATUS").lines();
            }
            int port = peer.overlayAddress().getPort();
            assertTrue(lines.contains("address 127.0.0.1:" + port), lines.toString());
            assertTrue(lines.stream().anyMatch(x -> x.equals("bind 0.0.0.0:" + port) || x.equals("bind [::]:" + port)),
                    lines.toString());
            assertFalse(lines.stream().anyMatch(x -> x.startsWith("address 0.0.0.0") || x.startsWith("address [::]")),
                    lines.toString());
        } finally {
            peer.close();
        }
    }
}
