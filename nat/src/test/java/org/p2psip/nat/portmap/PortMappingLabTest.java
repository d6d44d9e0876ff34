package org.p2psip.nat.portmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.p2psip.nat.lab.NatLab;
import org.p2psip.nat.lab.NatType;
import org.p2psip.nat.lab.PublicHost;
import org.p2psip.nat.lab.Site;
import org.p2psip.testing.Prerequisites;

/**
 * Port mapping against a real miniupnpd in a NAT lab router namespace: a host behind a {@link NatType#UPNP} site
 * (a port-restricted NAT) maps a UDP port with each method, and an unsolicited datagram from a peer on the public
 * segment to the mapped address reaches it; before the mapping and after the mapper closed, it does not. Needs root,
 * iproute2, iptables and miniupnpd; under CI=true their absence fails the test.
 */
class PortMappingLabTest {
    static NatLab lab;
    static Site site;
    static PublicHost peer;
    static long miniupnpdPid;

    @BeforeAll
    static void buildLab() throws Exception {
        Prerequisites.require(NatLab.upnpPrerequisiteProblems());
        lab = NatLab.create();
        peer = lab.addPublicHost("peer", 1);
        site = lab.addSite("upnp", NatType.UPNP, 30);
        miniupnpdPid = daemonPid(site);
    }

    static long daemonPid(Site s) throws IOException {
        Process ps = new ProcessBuilder("ip", "netns", "pids", s.routerNamespace()).start();
        String pids = new String(ps.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        assertFalse(pids.isEmpty(), "miniupnpd runs in the router namespace");
        return Long.parseLong(pids.split("\\s+")[0]);
    }

    static void assertDies(long pid) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "miniupnpd stopped with the lab");
    }

    @AfterAll
    static void teardown() throws Exception {
        if (lab != null) {
            List<String> ns = lab.namespaces();
            lab.close();
            List<String> left = new ArrayList<>(NatLab.listNamespaces());
            left.retainAll(ns);
            assertEquals(List.of(), left, "namespaces left after close");
            assertDies(miniupnpdPid);
        }
    }

    @ParameterizedTest
    @EnumSource(Method.class)
    void aMappedPortReceivesUnsolicitedDatagramsUntilTheMapperCloses(Method method) throws Exception {
        int port = 40001 + method.ordinal();
        try (Child host = Child.start(method, port, 60)) {
            host.await("listening=", 60);

            probe(port, "before-" + method);
            assertFalse(host.sawWithin("received=", 2), "without a mapping the NAT drops unsolicited datagrams");

            long asked = System.nanoTime();
            host.send("map");
            String mapped = host.await("mapped=", 60);
            System.out.printf("[portmap] %s mapping granted %d ms after the command (child JVM warm-up included)%n",
                    method, (System.nanoTime() - asked) / 1_000_000);
            String ext = site.wanAddress().getHostAddress() + ":" + port;
            assertTrue(mapped.startsWith("mapped=" + method + " " + ext + " "), mapped + "\n" + host.output());
            assertTrue(site.upnpRules().contains("--dport " + port), site.upnpRules());

            String got = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            for (int i = 0; got == null && System.nanoTime() < deadline; i++) {
                probe(port, "mapped-" + method + "-" + i);
                got = host.poll("received=", 1);
            }
            assertTrue(got != null, "an unsolicited datagram to " + ext + " reached the host\n" + host.output());
            assertTrue(got.startsWith("received=" + peer.addresses().get(0).getHostAddress() + ":"), got);
            assertTrue(got.contains("mapped-" + method), got);

            host.send("close");
            host.await("closed", 30);
            assertFalse(site.upnpRules().contains("--dport " + port), "the router deleted the mapping: "
                    + site.upnpRules());
            host.drain();
            probe(port, "after-" + method);
            probe(port, "after-" + method);
            assertFalse(host.sawWithin("received=", 2), "after close the NAT drops unsolicited datagrams again");
        }
    }

    /**
     * 4 s mappings by each method, made at once, still forward after 10 s: the mapper renewed them at half their
     * lifetime (at least 3 requests for each in miniupnpd's log).
     */
    @Test
    void theMapperRenewsShortMappings() throws Exception {
        String host = site.hostAddress().getHostAddress();
        java.util.Map<Method, Child> children = new java.util.EnumMap<>(Method.class);
        try {
            for (Method m : Method.values()) {
                children.put(m, Child.start(m, 40010 + m.ordinal(), 4));
            }
            for (Method m : Method.values()) {
                children.get(m).await("listening=", 60);
                children.get(m).send("map");
            }
            for (Method m : Method.values()) {
                children.get(m).await("mapped=" + m + " ", 60);
            }
            Thread.sleep(10_000);
            for (Method m : Method.values()) {
                int port = 40010 + m.ordinal();
                String request = switch (m) {
                    case NAT_PMP -> "NAT-PMP port mapping request : " + port + "->" + host + ":" + port
                            + " udp lifetime=4s";
                    case PCP -> "PCP MAP: added mapping UDP " + port + "->" + host + ":" + port;
                    case UPNP_IGD -> "AddPortMapping: ext port " + port + " to " + host + ":" + port
                            + " protocol UDP for: p2psip leaseduration=4";
                };
                long requests = site.upnpLog().stream().filter(l -> l.contains(request)).count();
                assertTrue(requests >= 3, m + ": at least 3 requests (the first and renewals) in 10 s, got "
                        + requests + ":\n" + String.join("\n", site.upnpLog()));
                Child c = children.get(m);
                String got = null;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                for (int i = 0; got == null && System.nanoTime() < deadline; i++) {
                    probe(port, "renewed-" + m + "-" + i);
                    got = c.poll("received=", 1);
                }
                assertTrue(got != null, m + ": the renewed mapping still forwards\n" + c.output());
            }
        } finally {
            for (Child c : children.values()) {
                c.close();
            }
        }
    }

    /** With every method allowed, the facade asks PCP first, and miniupnpd grants it. */
    @Test
    void theFacadeUsesPcpFirst() throws Exception {
        try (Child host = Child.start(null, 40020, 60)) {
            host.await("listening=", 60);
            host.send("map");
            String mapped = host.await("mapped=", 60);
            assertEquals("mapped=PCP " + site.wanAddress().getHostAddress() + ":40020 60", mapped);
            host.send("close");
            host.await("closed", 30);
        }
    }

    /** The daemon goes with its lab even when the code using the lab fails. */
    @Test
    void aUpnpSiteDaemonStopsWithItsLabEvenWhenItsUserFails() throws Exception {
        long[] pid = new long[1];
        List<String> created = new ArrayList<>();
        RuntimeException boom = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class, () -> {
            try (NatLab other = NatLab.create()) {
                Site doomed = other.addSite("doomed", NatType.UPNP, 30);
                pid[0] = daemonPid(doomed);
                created.addAll(other.namespaces());
                throw new RuntimeException("test failed inside the lab");
            }
        });
        assertEquals("test failed inside the lab", boom.getMessage());
        assertDies(pid[0]);
        List<String> left = new ArrayList<>(NatLab.listNamespaces());
        left.retainAll(created);
        assertEquals(List.of(), left);
    }

    /** Sends one datagram from the public peer to the site's WAN address (bash's /dev/udp: no extra tool). */
    static void probe(int port, String text) {
        lab.exec(peer.namespace(), List.of("bash", "-c", "echo " + text + " > /dev/udp/"
                + site.wanAddress().getHostAddress() + "/" + port + "; exit 0"));
    }

    /** PortMapperMain in a child JVM in the site's host namespace. */
    static final class Child implements AutoCloseable {
        private final Process process;
        private final OutputStream stdin;
        private final List<String> lines = new ArrayList<>();
        private int consumed;

        private Child(Process process) {
            this.process = process;
            this.stdin = process.getOutputStream();
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) {
                        synchronized (this) {
                            lines.add(l);
                            notifyAll();
                        }
                    }
                } catch (IOException ignored) {
                    // ended
                }
            }, "child-output");
            t.setDaemon(true);
            t.start();
        }

        /** @param method the only method to use, or null for all in the default order */
        static Child start(Method method, int port, int lifetime) {
            List<String> args = new ArrayList<>(List.of("--bind", site.hostAddress().getHostAddress(), "--port",
                    String.valueOf(port), "--lifetime", String.valueOf(lifetime),
                    "--router", site.routerLanAddress().getHostAddress()));
            if (method != null) {
                args.addAll(List.of("--methods", method.name()));
            }
            return new Child(lab.spawn(site.hostNamespace(), NatLab.javaCommand(PortMapperMain.class.getName(),
                    args)));
        }

        void send(String command) throws IOException {
            stdin.write((command + "\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
        }

        /** The next unread line starting with {@code prefix} (earlier unread lines are skipped), or null. */
        synchronized String poll(String prefix, int seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (true) {
                while (consumed < lines.size()) {
                    String l = lines.get(consumed++);
                    if (l.startsWith(prefix)) {
                        return l;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || !process.isAlive() && consumed >= lines.size()) {
                    return null;
                }
                wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }

        String await(String prefix, int seconds) throws InterruptedException {
            String l = poll(prefix, seconds);
            assertTrue(l != null, "no '" + prefix + "' from the host within " + seconds + " s:\n" + output());
            return l;
        }

        boolean sawWithin(String prefix, int seconds) throws InterruptedException {
            return poll(prefix, seconds) != null;
        }

        synchronized void drain() {
            consumed = lines.size();
        }

        synchronized String output() {
            return String.join("\n", lines);
        }

        @Override
        public void close() throws Exception {
            stdin.close();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            System.out.println("[portmap host]\n" + output());
        }
    }
}
