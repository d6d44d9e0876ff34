package org.p2psip.nat.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class NatDiscoveryTest {
    static final InetSocketAddress M1 = new InetSocketAddress(SimulatedNat.OUTSIDE_IP, 60000);
    static final InetSocketAddress M2 = new InetSocketAddress(SimulatedNat.OUTSIDE_IP, 60001);
    static final InetSocketAddress M3 = new InetSocketAddress(SimulatedNat.OUTSIDE_IP, 60002);

    @Test
    void mappingDecisionTable() {
        assertEquals(MappingBehavior.ENDPOINT_INDEPENDENT, NatDiscovery.classifyMapping(true, M1, null, null));
        assertEquals(MappingBehavior.ENDPOINT_INDEPENDENT, NatDiscovery.classifyMapping(false, M1, M1, null));
        assertEquals(MappingBehavior.ADDRESS_DEPENDENT, NatDiscovery.classifyMapping(false, M1, M2, M2));
        assertEquals(MappingBehavior.ADDRESS_AND_PORT_DEPENDENT, NatDiscovery.classifyMapping(false, M1, M2, M3));
        assertEquals(MappingBehavior.UNKNOWN, NatDiscovery.classifyMapping(false, null, null, null));
        assertEquals(MappingBehavior.UNKNOWN, NatDiscovery.classifyMapping(false, M1, null, null));
        assertEquals(MappingBehavior.UNKNOWN, NatDiscovery.classifyMapping(false, M1, M2, null));
    }

    @Test
    void filteringDecisionTable() {
        assertEquals(FilteringBehavior.ENDPOINT_INDEPENDENT, NatDiscovery.classifyFiltering(true, false));
        assertEquals(FilteringBehavior.ENDPOINT_INDEPENDENT, NatDiscovery.classifyFiltering(true, true));
        assertEquals(FilteringBehavior.ADDRESS_DEPENDENT, NatDiscovery.classifyFiltering(false, true));
        assertEquals(FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT, NatDiscovery.classifyFiltering(false, false));
    }

    static NatDiscovery.NatBehavior discover(SimulatedNat nat) throws Exception {
        return new NatDiscovery(nat, SimulatedNat.SERVER, a -> false).discover().get(5, TimeUnit.SECONDS);
    }

    @Test
    void everyCombinationOfSimulatedNatIsRecognised() throws Exception {
        for (MappingBehavior m : List.of(MappingBehavior.ENDPOINT_INDEPENDENT, MappingBehavior.ADDRESS_DEPENDENT,
                MappingBehavior.ADDRESS_AND_PORT_DEPENDENT)) {
            for (FilteringBehavior f : List.of(FilteringBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.ADDRESS_DEPENDENT,
                    FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT)) {
                NatDiscovery.NatBehavior b = discover(SimulatedNat.of(m, f));
                assertEquals(m, b.mapping().behavior(), m + "/" + f + ": " + b);
                assertEquals(f, b.filtering().behavior(), m + "/" + f + ": " + b);
                assertTrue(b.mapping().natDetected());
            }
        }
    }

    @Test
    void noNatIsEndpointIndependentAndSaysSo() throws Exception {
        NatDiscovery.NatBehavior b = discover(new SimulatedNat(MappingBehavior.ENDPOINT_INDEPENDENT,
                FilteringBehavior.ENDPOINT_INDEPENDENT, true, true, 60_000));
        assertEquals(MappingBehavior.ENDPOINT_INDEPENDENT, b.mapping().behavior());
        assertFalse(b.mapping().natDetected());
        assertEquals(FilteringBehavior.ENDPOINT_INDEPENDENT, b.filtering().behavior());
    }

    @Test
    void serverWithoutRfc5780GivesUnknownWithAReason() throws Exception {
        NatDiscovery.NatBehavior b = discover(new SimulatedNat(MappingBehavior.ENDPOINT_INDEPENDENT,
                FilteringBehavior.ADDRESS_DEPENDENT, false, false, 60_000));
        assertEquals(MappingBehavior.UNKNOWN, b.mapping().behavior());
        assertTrue(b.mapping().note().contains("OTHER-ADDRESS"));
        assertEquals(FilteringBehavior.UNKNOWN, b.filtering().behavior());
    }

    /** A probe whose answers are fixed in advance, in order. */
    static BindingProbe canned(List<Optional<BindingProbe.Answer>> answers) {
        java.util.Iterator<Optional<BindingProbe.Answer>> it = answers.iterator();
        return () -> CompletableFuture.completedFuture(new BindingProbe.Endpoint() {
            @Override
            public InetSocketAddress localAddress() {
                return new InetSocketAddress(SimulatedNat.INSIDE_IP, 40000);
            }

            @Override
            public CompletableFuture<Optional<BindingProbe.Answer>> binding(InetSocketAddress s, boolean ci, boolean cp, int rp) {
                return CompletableFuture.completedFuture(it.next());
            }

            @Override
            public void close() {
            }
        });
    }

    static final InetSocketAddress OTHER = new InetSocketAddress(SimulatedNat.SERVER_ALT_IP, SimulatedNat.SERVER_ALT_PORT);

    @Test
    void aServerThatIgnoresChangeRequestIsNotMistakenForAFullCone() throws Exception {
        BindingProbe.Answer plain = new BindingProbe.Answer(M1, SimulatedNat.SERVER, null, OTHER);
        NatDiscovery d = new NatDiscovery(canned(List.of(Optional.of(plain), Optional.of(plain))), SimulatedNat.SERVER);
        NatDiscovery.FilteringResult f = d.filtering().get();
        assertEquals(FilteringBehavior.UNKNOWN, f.behavior());
        assertTrue(f.note().contains("test II answered from"), f.note());
    }

    @Test
    void silenceGivesUnknownNotAGuess() throws Exception {
        NatDiscovery d = new NatDiscovery(canned(List.of(Optional.empty())), SimulatedNat.SERVER);
        assertEquals(MappingBehavior.UNKNOWN, d.mapping().get().behavior());
        BindingProbe.Answer a1 = new BindingProbe.Answer(M1, SimulatedNat.SERVER, null, OTHER);
        NatDiscovery d2 = new NatDiscovery(canned(List.of(Optional.of(a1), Optional.empty())), SimulatedNat.SERVER);
        NatDiscovery.MappingResult r = d2.mapping().get();
        assertEquals(MappingBehavior.UNKNOWN, r.behavior());
        assertTrue(r.note().contains("test II"));
    }

    @Test
    void bindingLifetimeIsBracketedByTheSchedule() throws Exception {
        // Margins wide enough for a loaded machine: a probe after 300 ms of silence has 700 ms to arrive before the
        // 1 s binding dies; one after 2 s finds it dead however late it runs.
        SimulatedNat nat = new SimulatedNat(MappingBehavior.ENDPOINT_INDEPENDENT,
                FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT, false, true, 1_000);
        NatDiscovery.BindingLifetime l = new NatDiscovery(nat, SimulatedNat.SERVER)
                .bindingLifetime(NatDiscovery.parseSchedule("100ms,300ms,2s,2500ms")).get(10, TimeUnit.SECONDS);
        assertEquals(Duration.ofMillis(300), l.atLeast());
        assertEquals(Duration.ofSeconds(2), l.lessThan());
        assertFalse(l.inconsistent());

        SimulatedNat forever = SimulatedNat.of(MappingBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.ENDPOINT_INDEPENDENT);
        NatDiscovery.BindingLifetime f = new NatDiscovery(forever, SimulatedNat.SERVER)
                .bindingLifetime(List.of(Duration.ofMillis(20), Duration.ofMillis(40))).get(5, TimeUnit.SECONDS);
        assertEquals(Duration.ofMillis(40), f.atLeast());
        assertNull(f.lessThan());
    }

    @Test
    void scheduleParsing() {
        assertEquals(List.of(Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofMillis(300)),
                NatDiscovery.parseSchedule("1, 2.5s,300ms"));
    }
}
