package org.p2psip.nat.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.p2psip.testing.Prerequisites;

/**
 * The lab's delay is really applied: netem where the kernel has it, else the NFQUEUE program nfq-delay (compiled by
 * the lab). A UDP echo runs on a public host, the probe in a site's host namespace (both child JVMs). Only lower
 * bounds on round trips are asserted (the machine is shared and loaded), and that a modest burst comes back whole
 * and in order. Needs root, iproute2, iptables, and without sch_netem gcc and libnetfilter-queue-dev; under
 * CI=true their absence fails the test.
 */
class NatLabDelayTest {
    private static final int PORT = 7000;
    private static final int BURST = 100;

    private NatLab lab;
    private Site site;
    private String echo;

    @BeforeEach
    void buildLab() throws Exception {
        Prerequisites.require(NatLab.prerequisiteProblems());
        lab = NatLab.create();
        if (!lab.netemAvailable()) {
            List<String> problems = new ArrayList<>(NfqDelay.prerequisiteProblems());
            if (!problems.isEmpty()) {
                lab.close();
            }
            Prerequisites.require(problems);
        }
        PublicHost host = lab.addPublicHost("echo", 1);
        echo = host.addresses().get(0).getHostAddress();
        site = lab.addSite("delayed", NatType.PORT_RESTRICTED, 30);
        Process p = lab.spawn(host.namespace(), NatLab.javaCommand(UdpProbeMain.class.getName(),
                List.of("echo", echo, String.valueOf(PORT))));
        new ProcessLog(p, "echo").await("ready"::equals, l -> false, 60, "the UDP echo");
    }

    @AfterEach
    void tearDown() {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void aRouterDelayAddsTwiceTheDelayToARoundTripAndLosesNothing() throws Exception {
        Duration d = Duration.ofMillis(40);
        site.impair(Impairment.delay(d));
        Map<String, String> r = probe();
        // The router delays the request (received on lan0) and the answer (received on wan0).
        assertTrue(rttMin(r) >= 2 * d.toMillis(), "round trip through a router with 40 ms each way: " + r);
        assertEquals(String.valueOf(BURST), r.get("received"), "the burst came back whole: " + r);
        assertEquals("true", r.get("in_order"), "and in order: " + r);

        site.impair(Impairment.NONE);
        Map<String, String> after = probe();
        assertEquals(String.valueOf(BURST), after.get("received"), "no delay rules left in the way: " + after);
    }

    @Test
    void everySegmentDelayedMeansFourDelaysPerRoundTripFromASiteToAPublicHost() throws Exception {
        Duration d = Duration.ofMillis(25);
        lab.delayEverySegment(d);
        Map<String, String> r = probe();
        // host -> public host crosses the site's LAN and the public segment, and so does the answer.
        assertTrue(rttMin(r) >= 4 * d.toMillis(), "round trip over 2 segments each way with 25 ms each: " + r);
        assertEquals(String.valueOf(BURST), r.get("received"), "the burst came back whole: " + r);
        assertEquals("true", r.get("in_order"), "and in order: " + r);
    }

    @Test
    void theLabRemovesTheDelayProgramsAndItsBuildWithItself() throws Exception {
        lab.delayEverySegment(Duration.ofMillis(5));
        List<String> namespaces = lab.namespaces();
        lab.close();
        for (String ns : namespaces) {
            assertEquals(List.of(), NatLab.listNamespaces().stream().filter(ns::equals).toList());
        }
        try (var files = java.nio.file.Files.list(java.nio.file.Path.of(System.getProperty("java.io.tmpdir")))) {
            assertEquals(List.of(), files.map(f -> f.getFileName().toString())
                    .filter(n -> n.startsWith(lab.prefix() + "-")).toList());
        }
        boolean anyLeft = ProcessHandle.allProcesses().anyMatch(ph -> ph.info().commandLine()
                .map(c -> c.contains(lab.prefix() + "-nfqdelay")).orElse(false));
        assertTrue(!anyLeft, "an nfq-delay process of the closed lab is still running");
    }

    private static double rttMin(Map<String, String> r) {
        return Double.parseDouble(r.getOrDefault("rtt_min_ms", "-1"));
    }

    private Map<String, String> probe() throws Exception {
        Process p = lab.spawn(site.hostNamespace(), NatLab.javaCommand(UdpProbeMain.class.getName(),
                List.of("probe", echo, String.valueOf(PORT), "5", String.valueOf(BURST))));
        p.getOutputStream().close();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                return "error " + e;
            }
        });
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the probe hung");
        String text = output.get(10, TimeUnit.SECONDS);
        System.out.println("[delay probe] " + text.trim().replace('\n', ' '));
        assertEquals(0, p.exitValue(), text);
        Map<String, String> kv = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                kv.put(line.substring(0, eq), line.substring(eq + 1).trim());
            }
        }
        return kv;
    }
}
