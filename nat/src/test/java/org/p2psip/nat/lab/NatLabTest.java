package org.p2psip.nat.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.p2psip.nat.discovery.FilteringBehavior;
import org.p2psip.nat.discovery.MappingBehavior;
import org.p2psip.nat.discovery.NatDiscoveryMain;
import org.p2psip.nat.stun.StunClientMain;
import org.p2psip.nat.stun.StunServerMain;
import org.p2psip.testing.Prerequisites;

/**
 * The NAT lab, verified with the discovery code: our RFC 5780 STUN server runs on the public segment with two
 * addresses, and the discovery client runs in a child JVM inside the host namespace behind each NAT type. Needs
 * root, iproute2 and iptables; under CI=true their absence fails the test.
 */
class NatLabTest {
    static final int PRIMARY_PORT = 3478;
    static final int ALTERNATE_PORT = 3479;
    static final Map<NatType, List<Object>> EXPECTED = new EnumMap<>(Map.of(
            NatType.FULL_CONE, List.of(MappingBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.ENDPOINT_INDEPENDENT),
            NatType.ADDRESS_RESTRICTED, List.of(MappingBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.ADDRESS_DEPENDENT),
            NatType.PORT_RESTRICTED, List.of(MappingBehavior.ENDPOINT_INDEPENDENT,
                    FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT),
            NatType.SYMMETRIC, List.of(MappingBehavior.ADDRESS_AND_PORT_DEPENDENT,
                    FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT)));

    /** The behaviours emulated by rules alone ({@link NatType#UPNP} sites have their own test, PortMappingLabTest). */
    static final List<NatType> EMULATED = List.of(NatType.FULL_CONE, NatType.ADDRESS_RESTRICTED,
            NatType.PORT_RESTRICTED, NatType.SYMMETRIC);

    static NatLab lab;
    static String server;
    static final Map<NatType, Site> SITES = new EnumMap<>(NatType.class);
    /** Separate sites for the lifetime test: its traffic must not leave state (xt_recent, conntrack) in SITES. */
    static final Map<NatType, Site> LIFETIME_SITES = new EnumMap<>(NatType.class);

    @BeforeAll
    static void buildLab() throws Exception {
        Prerequisites.require(NatLab.prerequisiteProblems());
        lab = NatLab.create();
        PublicHost stun = lab.addPublicHost("stun", 2);
        String primary = stun.addresses().get(0).getHostAddress() + ":" + PRIMARY_PORT;
        String alternate = stun.addresses().get(1).getHostAddress() + ":" + ALTERNATE_PORT;
        Process p = lab.spawn(stun.namespace(), NatLab.javaCommand(StunServerMain.class.getName(),
                List.of(primary, alternate)));
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String ready = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (java.io.IOException e) {
                return "error " + e;
            }
        }).get(60, TimeUnit.SECONDS);
        assertEquals("ready primary=" + primary + " alternate=" + alternate, ready);
        server = primary;
        for (NatType t : EMULATED) {
            SITES.put(t, lab.addSite(t.name(), t, 30));
        }
        for (NatType t : EMULATED) {
            LIFETIME_SITES.put(t, lab.addSite("lt" + t.name(), t, 3));
        }
    }

    @AfterAll
    static void teardown() {
        if (lab != null) {
            List<String> ns = lab.namespaces();
            lab.close();
            List<String> left = new ArrayList<>(NatLab.listNamespaces());
            left.retainAll(ns);
            assertEquals(List.of(), left, "namespaces left after close");
        }
    }

    /** Runs a main class in a child JVM inside {@code namespace}; returns its key=value lines. */
    static Map<String, String> runJava(String namespace, Class<?> main, List<String> args) throws Exception {
        Process p = lab.spawn(namespace, NatLab.javaCommand(main.getName(), args));
        p.getOutputStream().close();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                return "error " + e;
            }
        });
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM " + main.getSimpleName() + " hung");
        String text = output.get(10, TimeUnit.SECONDS);
        System.out.println("[natlab " + namespace + "] " + main.getSimpleName() + " " + args + "\n" + text.trim());
        assertEquals(0, p.exitValue(), text);
        Map<String, String> kv = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                kv.merge(line.substring(0, eq), line.substring(eq + 1), (a, b) -> a + "," + b);
            } else if (!line.isBlank()) {
                kv.put(line.trim(), "");
            }
        }
        return kv;
    }

    static final List<String> QUICK = List.of("--rto-ms", "100", "--rc", "3", "--rm", "4");

    @ParameterizedTest
    @EnumSource(value = NatType.class, names = "UPNP", mode = EnumSource.Mode.EXCLUDE)
    void discoveryMeasuresTheEmulatedBehaviour(NatType type) throws Exception {
        Site site = SITES.get(type);
        List<String> args = new ArrayList<>(List.of(server));
        args.addAll(QUICK);
        args.addAll(List.of("--bind", site.hostAddress().getHostAddress()));
        Map<String, String> r = runJava(site.hostNamespace(), NatDiscoveryMain.class, args);
        assertTrue(r.containsKey("done"), r.toString());
        assertEquals("true", r.get("nat"), r.toString());
        assertTrue(r.get("mapped").contains(site.wanAddress().getHostAddress() + ":"),
                "mapped to the router's WAN address: " + r);
        assertEquals(EXPECTED.get(type).get(0).toString(), r.get("mapping"), type + ": " + r);
        assertEquals(EXPECTED.get(type).get(1).toString(), r.get("filtering"), type + ": " + r);
    }

    /**
     * With a 3 s conntrack UDP timeout, the lifetime probe brackets it on the port-restricted and symmetric sites.
     * On the full-cone and address-restricted sites the inbound DNAT rule forwards to the host whether or not the
     * conntrack entry still exists (the address-restricted one because the probe's own request refreshes the
     * server's address in the xt_recent list), so every probe succeeds there: the lab documents this.
     */
    @Test
    void bindingLifetimeFollowsTheConntrackTimeout() throws Exception {
        Map<NatType, CompletableFuture<Map<String, String>>> runs = new EnumMap<>(NatType.class);
        try {
            for (NatType t : EMULATED) {
                Site site = LIFETIME_SITES.get(t);
                assertEquals(3, site.udpTimeout());
                List<String> args = new ArrayList<>(List.of(server));
                args.addAll(QUICK);
                args.addAll(List.of("--bind", site.hostAddress().getHostAddress(), "--lifetime", "1s,2s,4s"));
                runs.put(t, CompletableFuture.supplyAsync(() -> {
                    try {
                        return runJava(site.hostNamespace(), NatDiscoveryMain.class, args);
                    } catch (Exception e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                }));
            }
            for (NatType t : List.of(NatType.PORT_RESTRICTED, NatType.SYMMETRIC)) {
                Map<String, String> r = runs.get(t).get(60, TimeUnit.SECONDS);
                assertEquals("2000", r.get("lifetime.atLeastMs"), t + ": " + r);
                assertEquals("4000", r.get("lifetime.lessThanMs"), t + ": " + r);
            }
            for (NatType t : List.of(NatType.FULL_CONE, NatType.ADDRESS_RESTRICTED)) {
                Map<String, String> r = runs.get(t).get(60, TimeUnit.SECONDS);
                assertEquals("-1", r.get("lifetime.lessThanMs"), t + ": " + r);
            }
        } finally {
            CompletableFuture.allOf(runs.values().toArray(CompletableFuture[]::new)).handle((v, e) -> null).join();
        }
    }

    @Test
    void lossAndDelayImpairments() throws Exception {
        Site site = SITES.get(NatType.FULL_CONE);
        List<String> quick = List.of(server, "100", "2", "2");
        site.impair(Impairment.loss(1.0));
        try {
            assertTrue(runJava(site.hostNamespace(), StunClientMain.class, quick).containsKey("timeout"));
        } finally {
            site.impair(Impairment.NONE);
        }
        Map<String, String> ok = runJava(site.hostNamespace(), StunClientMain.class, quick);
        assertTrue(ok.getOrDefault("mapped", "").startsWith(site.wanAddress().getHostAddress() + ":"), ok.toString());

        // Delay with netem, or without sch_netem with the NFQUEUE program (NatLabDelayTest tests that one further).
        if (lab.netemAvailable() || NfqDelay.prerequisiteProblems().isEmpty()) {
            site.impair(Impairment.delay(Duration.ofMillis(40)));
            try {
                Map<String, String> slow = runJava(site.hostNamespace(), StunClientMain.class, List.of(server, "1000"));
                String rtt = slow.get("mapped").replaceAll(".* rtt_ms=([0-9]+).*", "$1");
                assertTrue(Integer.parseInt(rtt) >= 80, "round trip through a 40 ms router: " + slow);
            } finally {
                site.impair(Impairment.NONE);
            }
        } else {
            LabException e = assertThrows(LabException.class, () -> site.impair(Impairment.delay(Duration.ofMillis(40))));
            assertTrue(e.getMessage().contains("libnetfilter-queue-dev"), e.getMessage());
        }
    }

    @Test
    void aLabTearsItselfDownEvenWhenItsUserFails() {
        List<String> created = new ArrayList<>();
        RuntimeException boom = assertThrows(RuntimeException.class, () -> {
            try (NatLab other = NatLab.create()) {
                other.addSite("doomed", NatType.SYMMETRIC, 30);
                created.addAll(other.namespaces());
                throw new RuntimeException("test failed inside the lab");
            }
        });
        assertEquals("test failed inside the lab", boom.getMessage());
        assertEquals(3, created.size(), created.toString());
        List<String> left = new ArrayList<>(NatLab.listNamespaces());
        left.retainAll(created);
        assertEquals(List.of(), left);
        assertFalse(created.get(0).startsWith(lab.prefix()), "each lab has its own prefix");
    }
}
