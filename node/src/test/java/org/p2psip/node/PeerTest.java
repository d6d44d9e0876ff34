package org.p2psip.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.identity.NodeKeys;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.SecretHashPolicy;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PeerTest {
    @TempDir
    Path tmp;

    @Test
    void idComesFromTheKeyInTheDataDirAndSurvivesARestart() throws Exception {
        Path dir = tmp.resolve("p");
        NodeId id;
        try (Peer p = TestSupport.peer(dir).build()) {
            p.start().get(20, TimeUnit.SECONDS);
            id = p.id();
            assertEquals(NodeKeys.load(dir).id(), id);
            assertEquals(id, p.status().get().id());
        }
        try (Peer p = TestSupport.peer(dir).build()) {
            p.start().get(20, TimeUnit.SECONDS);
            assertEquals(id, p.id());
        }
    }

    @Test
    void aDataDirServesOnePeerAtATime() throws Exception {
        Path dir = tmp.resolve("p");
        try (Peer a = TestSupport.peer(dir).build(); Peer b = TestSupport.peer(dir).build()) {
            a.start().get(20, TimeUnit.SECONDS);
            ExecutionException e = assertThrows(ExecutionException.class, () -> b.start().get(20, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("another p2psip peer is using the data directory"),
                    e.getCause().getMessage());
            assertNull(b.controlAddress());
        }
    }

    @Test
    void corruptKeyFailsStart() throws Exception {
        Path dir = tmp.resolve("p");
        NodeKeys.loadOrCreate(dir);
        java.nio.file.Files.writeString(dir.resolve(NodeKeys.PRIVATE_FILE), "garbage");
        try (Peer p = TestSupport.peer(dir).build()) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> p.start().get(20, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("corrupt key file"), e.getCause().getMessage());
        }
    }

    @Test
    void retriesTheJoinUntilABootstrapNodeAnswers() throws Exception {
        int bootPort = TestSupport.freeUdpPort();
        InetSocketAddress boot = new InetSocketAddress(TestSupport.localhost(), bootPort);
        try (Peer late = TestSupport.peer(tmp.resolve("late"), boot).joinRetryMillis(300).build()) {
            CompletableFuture<Peer> joined = late.start();
            assertThrows(TimeoutException.class, () -> joined.get(2, TimeUnit.SECONDS));
            assertFalse(late.isJoined());
            assertFalse(late.status().get().joined());
            // The peer serves its control port and its DHT while it waits.
            assertNotNull(late.controlAddress());
            try (Peer first = TestSupport.peer(tmp.resolve("first")).port(bootPort).build()) {
                first.start().get(20, TimeUnit.SECONDS);
                assertEquals(late, joined.get(20, TimeUnit.SECONDS));
                assertTrue(late.isJoined());
                assertEquals(1, late.status().get().neighbours());
                NodeId key = NodeId.ofName("sip:carol@example.net");
                late.dht().put(key, SecretHashPolicy.value(Bytes.utf8("here"), Bytes.EMPTY,
                        System.currentTimeMillis() + 60_000)).get(20, TimeUnit.SECONDS);
                assertEquals(1, first.dht().get(key).get(20, TimeUnit.SECONDS).size());
            }
        }
    }

    @Test
    void aBootstrapListNamingItselfStartsANewOverlay() throws Exception {
        int port = TestSupport.freeUdpPort();
        try (Peer p = TestSupport.peer(tmp.resolve("p"), HostPort.parse("localhost:" + port, Peer.DEFAULT_PORT))
                .port(port).build()) {
            p.start().get(20, TimeUnit.SECONDS);
            assertTrue(p.status().get().joined());
        }
    }

    @Test
    void closeBeforeJoiningFailsTheStartFuture() throws Exception {
        InetSocketAddress nobody = new InetSocketAddress(TestSupport.localhost(), TestSupport.freeUdpPort());
        Peer p = TestSupport.peer(tmp.resolve("p"), nobody).build();
        CompletableFuture<Peer> f = p.start();
        Thread.sleep(200);
        p.close();
        assertThrows(Exception.class, () -> f.get(5, TimeUnit.SECONDS));
        ExecutionException again = assertThrows(ExecutionException.class, () -> p.start().get());
        assertTrue(again.getCause() instanceof IllegalStateException);
        p.close();
    }

    @Test
    void defaultControlPortFollowsTheOverlayPort() {
        assertEquals(4223, Peer.defaultControlPort(4222));
        assertEquals(5001, Peer.defaultControlPort(5000));
        assertEquals(4223, Peer.defaultControlPort(0));
    }

    @Test
    void hostPortParsing() {
        assertEquals(InetSocketAddress.createUnresolved("boot.example.net", 4222),
                HostPort.parse("boot.example.net", 4222));
        assertEquals(InetSocketAddress.createUnresolved("10.1.2.3", 5000), HostPort.parse("10.1.2.3:5000", 4222));
        assertEquals(InetSocketAddress.createUnresolved("::1", 4222), HostPort.parse("[::1]:4222", 1));
        assertThrows(IllegalArgumentException.class, () -> HostPort.parse("::1", 1));
        assertThrows(IllegalArgumentException.class, () -> HostPort.parse("host:0", 1));
        assertThrows(IllegalArgumentException.class, () -> HostPort.parse(":4222", 1));
        assertThrows(IllegalArgumentException.class, () -> HostPort.parse("host:x", 1));
    }

    @Test
    void hostPortFormatting() throws Exception {
        assertEquals("[::]:4222", HostPort.format(new InetSocketAddress(java.net.InetAddress.getByName("::"), 4222)));
        assertEquals("[fd00::2]:1", HostPort.format(new InetSocketAddress(java.net.InetAddress.getByName("fd00:0:0:0:0:0:0:2"), 1)));
        assertEquals("[1:0:0:1::1]:1", HostPort.format(new InetSocketAddress(java.net.InetAddress.getByName("1:0:0:1:0:0:0:1"), 1)));
        assertEquals("[::1]:1", HostPort.format(new InetSocketAddress(java.net.InetAddress.getByName("::1"), 1)));
        assertEquals("[1::]:1", HostPort.format(new InetSocketAddress(java.net.InetAddress.getByName("1::"), 1)));
        assertEquals("[1:2:3:4:5:6:0:8]:1", HostPort.format(new InetSocketAddress(java.net.InetAddress.getByName("1:2:3:4:5:6:0:8"), 1)));
        assertEquals("127.0.0.1:5", HostPort.format(new InetSocketAddress(TestSupport.localhost(), 5)));
        assertEquals("boot.example.net:7", HostPort.format(InetSocketAddress.createUnresolved("boot.example.net", 7)));
    }
}
