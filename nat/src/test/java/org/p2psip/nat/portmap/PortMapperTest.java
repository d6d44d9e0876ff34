package org.p2psip.nat.portmap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * The {@link PortMapper}'s logic over real UDP on 127.0.0.1 against scripted routers: PCP falls back to NAT-PMP,
 * mappings are renewed with their nonce and deleted on close, a router gone silent loses the mapping and one back
 * regains it, and failures name every method's reason.
 */
class PortMapperTest {
    static final InetAddress LO = InetAddress.getLoopbackAddress();
    static final PortMapConfig QUICK = PortMapConfig.defaults().withTimeouts(Duration.ofMillis(200), 4,
            Duration.ofSeconds(1), Duration.ofSeconds(2));

    static PortMapper mapper(ScriptedRouter router, Method... methods) {
        InetSocketAddress at = router.address();
        List<MappingClient> clients = Arrays.stream(methods).map(m -> (MappingClient) switch (m) {
            case PCP -> new PcpClient(at, LO, QUICK);
            case NAT_PMP -> new NatPmpClient(at, LO, QUICK);
            case UPNP_IGD -> throw new IllegalArgumentException("no scripted UPnP router");
        }).toList();
        return new PortMapper(LO, LO, clients);
    }

    @Test
    void pcpFallsBackToNatPmpOnANatPmpOnlyRouter() throws Exception {
        try (ScriptedRouter router = new ScriptedRouter(ScriptedRouter.natPmpOnly(3600));
                PortMapper m = mapper(router, Method.PCP, Method.NAT_PMP)) {
            Mapping mapping = m.map(Protocol.UDP, 40100, Duration.ofSeconds(600));
            assertEquals(Method.NAT_PMP, mapping.method());
            assertEquals(new InetSocketAddress(InetAddress.getByAddress(ScriptedRouter.EXTERNAL), 40100),
                    mapping.external());
            assertEquals(Duration.ofSeconds(600), mapping.lifetime());
            assertEquals(2, router.requests().get(0)[0], "PCP asked first");
            assertEquals(0, router.requests().get(1)[0], "then NAT-PMP");

            PcpClient pcp = new PcpClient(router.address(), LO, QUICK);
            PcpClient.VersionNotSupportedException e = assertThrows(PcpClient.VersionNotSupportedException.class,
                    () -> pcp.map(Protocol.UDP, new InetSocketAddress(LO, 1234), 0, Duration.ofSeconds(60)));
            assertEquals(0, e.routerVersion());
            assertTrue(e.getMessage().contains("NAT-PMP only"), e.getMessage());
        }
    }

    @Test
    void pcpMappingsAreRenewedWithTheirNonceAndDeletedOnClose() throws Exception {
        try (ScriptedRouter router = new ScriptedRouter(ScriptedRouter.pcp(2))) {
            PortMapper m = mapper(router, Method.PCP);
            Mapping first = m.map(Protocol.UDP, 40101, Duration.ofSeconds(3600));
            assertEquals(Method.PCP, first.method());
            assertEquals(Duration.ofSeconds(2), first.lifetime(), "the router shortened the lifetime");
            waitFor(() -> router.requests().size() >= 3, 15, "two renewals at half the 2 s lifetime");
            m.close();
            List<byte[]> reqs = router.requests();
            byte[] nonce = Arrays.copyOfRange(reqs.get(0), 24, 36);
            for (byte[] r : reqs) {
                assertArrayEquals(nonce, Arrays.copyOfRange(r, 24, 36), "one nonce for the mapping's life");
            }
            byte[] last = reqs.get(reqs.size() - 1);
            assertEquals(0, ByteBuffer.wrap(last).getInt(4), "close deletes: lifetime 0");
            assertTrue(m.current(Protocol.UDP, 40101).isEmpty());
        }
    }

    @Test
    void aSilentRouterLosesTheMappingAndARecoveredOneRegainsIt() throws Exception {
        try (ScriptedRouter router = new ScriptedRouter(ScriptedRouter.natPmpOnly(2));
                PortMapper m = mapper(router, Method.NAT_PMP)) {
            BlockingQueue<String> events = new LinkedBlockingQueue<>();
            m.onChange((old, now) -> events.add((old == null ? "none" : "some") + "->" + (now == null ? "none"
                    : "some")));
            m.map(Protocol.UDP, 40102, Duration.ofSeconds(2));
            router.behave(null);
            assertEquals("some->none", events.poll(20, TimeUnit.SECONDS), "lost after the lifetime");
            assertTrue(m.current(Protocol.UDP, 40102).isEmpty());
            router.behave(ScriptedRouter.natPmpOnly(2));
            assertEquals("none->some", events.poll(20, TimeUnit.SECONDS), "regained when the router answers");
            assertTrue(m.current(Protocol.UDP, 40102).isPresent());
        }
    }

    @Test
    void failuresNameEachMethodsReason() throws Exception {
        try (ScriptedRouter router = new ScriptedRouter(null); PortMapper m = mapper(router, Method.PCP,
                Method.NAT_PMP)) {
            PortMappingException e = assertThrows(PortMappingException.class,
                    () -> m.map(Protocol.UDP, 40103, Duration.ofSeconds(60)));
            assertTrue(e.getMessage().contains("PCP: no PCP answer from 127.0.0.1:" + router.address().getPort()
                    + " after 4 attempts"), e.getMessage());
            assertTrue(e.getMessage().contains("NAT_PMP: no NAT-PMP answer"), e.getMessage());
            assertTrue(m.current(Protocol.UDP, 40103).isEmpty());
        }
        InetSocketAddress nobody;
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(LO, 0))) {
            nobody = (InetSocketAddress) s.getLocalSocketAddress();
        }
        PortMappingException closed = assertThrows(PortMappingException.class, () -> new NatPmpClient(nobody, LO,
                QUICK).externalAddress());
        assertTrue(closed.getMessage().contains("nothing listens") || closed.getMessage().contains("no NAT-PMP answer"),
                closed.getMessage());
    }

    @Test
    void hostileRepliesThroughTheClientsGiveClearErrors() throws Exception {
        try (ScriptedRouter router = new ScriptedRouter(req -> new byte[] {2, (byte) 0x81, 0})) {
            MalformedReplyException e = assertThrows(MalformedReplyException.class, () -> new PcpClient(
                    router.address(), LO, QUICK).map(Protocol.UDP, new InetSocketAddress(LO, 1), 0,
                    Duration.ofSeconds(9)));
            assertTrue(e.getMessage().startsWith("malformed PCP reply from 127.0.0.1:"), e.getMessage());
            assertTrue(e.getMessage().contains("shorter than the 24-byte header"), e.getMessage());
            router.behave(req -> new byte[] {1, (byte) 128, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4});
            MalformedReplyException v = assertThrows(MalformedReplyException.class, () -> new NatPmpClient(
                    router.address(), LO, QUICK).externalAddress());
            assertTrue(v.getMessage().contains("version 1, expected 0"), v.getMessage());
            router.behave(req -> new byte[1200]);
            MalformedReplyException big = assertThrows(MalformedReplyException.class, () -> new NatPmpClient(
                    router.address(), LO, QUICK).externalAddress());
            assertTrue(big.getMessage().contains("larger than 1100 bytes"), big.getMessage());
            // A hostile answer followed by a good one: the good one wins.
            router.behave(req -> req.length == 2 && router.requests().size() % 2 == 1 ? new byte[] {0, 1}
                    : ScriptedRouter.natPmpOnly(60).apply(req));
            assertEquals(InetAddress.getByAddress(ScriptedRouter.EXTERNAL), new NatPmpClient(router.address(), LO,
                    QUICK).externalAddress());
        }
        assertNull(PortMapper.renewDelay(new Mapping(Protocol.TCP, new InetSocketAddress(LO, 1),
                new InetSocketAddress(LO, 1), Duration.ZERO, Method.UPNP_IGD)), "permanent leases are not renewed");
    }

    static void waitFor(BooleanSupplier condition, int seconds, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(50);
        }
    }
}
