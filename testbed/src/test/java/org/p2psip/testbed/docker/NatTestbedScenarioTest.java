package org.p2psip.testbed.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Issue 8's topology in Docker, driven through {@code docker exec <node> p2psip ...} as a user would: a public
 * bootstrap node; a home site behind a port-restricted NAT (2 peers), a home site behind a symmetric NAT (2 peers),
 * an office behind a full-cone NAT (5 peers). The sites' peers run in site mode ({@code --role auto} with their
 * LAN's static peer list): each site elects its superpeers (2 seats), and the office's 3 other peers are leaves.
 * The phases run in order on one topology, each with its own time budget.
 *
 * <p>First the election: it converges in every site and every leaf is attached. Then the routers are checked against
 * their labels (mapping read from conntrack, filtering probed with an unsolicited datagram), and leaves open no
 * pinhole. Superpeers behind the restricted NATs cannot accept new inbound datagrams. They do try ICE links to the
 * other sites' superpeers, but this topology has no TURN relay, so the pairs that need one fail and back off (the
 * relayed links are tested with kernel NATs: node's {@code SiteLinksLabTest}); the phases here count on none of those
 * links and reach such superpeers only as replies. Boot and the office's superpeers are reachable by all. A value put at any site
 * is stored on replicas that every site reaches, so it is read from every other site.
 *
 * <p>Phones (sipp containers) register at nodes of every site (in the office at leaves) and call and message through
 * p2psip wherever a signalling path exists today: to a callee at the public bootstrap node from every site, and
 * within a site. A callee at a node behind a NAT is not reachable from another site until SIP is routed over the
 * overlay's links (its path is its node's LAN address); the README says which directions work.
 *
 * <p>Then the office's primary superpeer is killed: calls between office phones succeed again (the time to the
 * first successful call is printed), the leaves move to the standby, the seat is refilled and every value is still
 * read. Last, a site cut off from the public network and connected again joins back, reads what was written
 * meanwhile, and every record written before is still read everywhere.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NatTestbedScenarioTest {
    private static final int TTL = 3600;
    private static final Duration POLL = Duration.ofSeconds(2);
    /** Overlay nodes every node can reach: the bootstrap node and the office's 2 superpeers. */
    private static final int REACHABLE_BY_ALL = 3;
    /** Superpeer seats of a site (the election's default: 2, plus one per 50 leaves). */
    private static final int SEATS = 2;

    private final String run = Long.toHexString(System.currentTimeMillis() & 0xffffff);
    private final Map<String, String> written = new LinkedHashMap<>();
    /** Calls (and MESSAGEs) per direction. */
    private static final int CALLS = 2;

    private final ExecutorService executor = Executors.newCachedThreadPool();
    /** Node ids seen in statuses, to container names. */
    private final Map<String, String> names = new java.util.concurrent.ConcurrentHashMap<>();
    /** Where each phone registered: user to node. */
    private final Map<String, TestbedNode> phoneAt = new LinkedHashMap<>();
    private DockerTestbed testbed;
    private long startedNanos;
    /** The node killed in the failover phase, if any. */
    private String killed = "";

    @RegisterExtension
    final TestWatcher logsOnFailure = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (testbed != null) {
                System.out.println("[testbed] " + context.getDisplayName() + " failed; container logs:\n"
                        + testbed.logTails(25));
            }
        }
    };

    @BeforeAll
    @Timeout(value = 420, unit = TimeUnit.SECONDS) // the base image (about 2 min on a fresh machine) and 13 containers
    void start() throws Exception {
        DockerPrerequisites.require();
        TestbedImages images = TestbedImages.build(Path.of("").toAbsolutePath());
        System.out.printf("[testbed] images ready in %.1f s: %s%n", images.took().toMillis() / 1000.0, images);
        long t0 = System.nanoTime();
        testbed = DockerTestbed.start(Topology.issue8(2, 5), images);
        startedNanos = System.nanoTime();
        System.out.printf("[testbed] topology of %d nodes and %d routers started in %.1f s%n",
                testbed.nodes().size(), testbed.topology().sites().size(), seconds(t0));
    }

    @AfterAll
    void stop() {
        executor.shutdownNow();
        if (testbed != null) {
            testbed.close();
        }
    }

    @Test
    @Order(1)
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void theElectionConvergesInEverySiteAndEveryLeafIsAttached() {
        long t0 = System.nanoTime();
        for (TestbedNode n : testbed.nodes()) {
            await(n.name() + " serves (a superpeer joined with neighbours, or a leaf attached)", Duration.ofSeconds(150),
                    n::joined);
        }
        System.out.printf("[testbed] phase election: every node serves %.1f s after the containers started%n",
                seconds(startedNanos));
        for (Topology.SiteSpec s : testbed.topology().sites()) {
            List<TestbedNode> members = testbed.site(s.name());
            Map<String, TestbedNode.SiteView> views = awaitConverged(s.name(), members, Duration.ofSeconds(90));
            System.out.printf("[testbed] phase election: %s seen converged %.1f s after the containers started: %s%n",
                    s.name(), seconds(startedNanos), describe(views));
        }
        // Every superpeer reached the public bootstrap node through its router (leaves run no overlay node).
        int superpeers = (int) testbed.nodes().stream().filter(n -> !n.site().equals("public"))
                .filter(this::isSuperpeer).count();
        assertEquals(SEATS * testbed.topology().sites().size(), superpeers, "superpeers in all sites");
        await("boot knows all " + superpeers + " superpeers", Duration.ofSeconds(60),
                () -> boot().statusNumber("neighbours") >= superpeers);
        System.out.printf("[testbed] phase election: %d superpeers, %d leaves, %.1f s%n", superpeers,
                testbed.nodes().size() - 1 - superpeers, seconds(t0));
    }

    /**
     * Waits until the site's election has converged among {@code members}: every member is a superpeer or a leaf
     * and counts all of them, all name the same {@value #SEATS} superpeers (fewer when the site is smaller), exactly
     * those say they are superpeers, and every leaf has its primary and standby among them and is on its primary's
     * leaf list. Returns each member's view.
     */
    private Map<String, TestbedNode.SiteView> awaitConverged(String site, List<TestbedNode> members, Duration within) {
        Map<String, TestbedNode.SiteView> views = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        await(site + "'s election converges", within, () -> {
            views.clear();
            problems.clear();
            for (TestbedNode n : members) {
                TestbedNode.SiteView v = view(n);
                if (v == null) {
                    problems.add(n.name() + " does not answer");
                    return false;
                }
                views.put(n.name(), v);
            }
            problems.addAll(convergenceProblems(views, Math.min(SEATS, members.size())));
            return problems.isEmpty();
        }, () -> "problems: " + problems + "; views: " + describe(views));
        return Map.copyOf(views);
    }

    private static List<String> convergenceProblems(Map<String, TestbedNode.SiteView> views, int seats) {
        List<String> out = new ArrayList<>();
        Set<String> ids = new java.util.HashSet<>();
        views.values().forEach(v -> ids.add(v.id()));
        Set<String> superpeers = Set.copyOf(views.values().iterator().next().superpeers());
        if (superpeers.size() != seats) {
            out.add(superpeers.size() + " superpeers, expected " + seats);
        }
        views.forEach((name, v) -> {
            if (!Set.copyOf(v.members()).equals(ids)) {
                out.add(name + " sees members " + v.members().size() + " of " + ids.size());
            }
            if (!Set.copyOf(v.superpeers()).equals(superpeers)) {
                out.add(name + " names other superpeers");
            }
            if (v.isSuperpeer() != superpeers.contains(v.id()) || !(v.isSuperpeer() || v.isLeaf())) {
                out.add(name + " is " + v.role());
            }
            if (v.isLeaf()) {
                boolean onList = views.values().stream().anyMatch(sp -> sp.isSuperpeer() && sp.id().equals(v.primary())
                        && sp.leaves().contains(v.id()));
                if (!superpeers.contains(v.primary()) || !onList) {
                    out.add(name + " is not attached (primary " + v.primary() + ")");
                }
                if (seats > 1 && (!superpeers.contains(v.standby()) || v.standby().equals(v.primary()))) {
                    out.add(name + " has no standby (" + v.standby() + ")");
                }
            }
        });
        return out;
    }

    /** {@code office-a superpeer, office-b leaf (primary office-a, standby office-c), ...}. */
    private String describe(Map<String, TestbedNode.SiteView> views) {
        List<String> parts = new ArrayList<>();
        views.forEach((name, v) -> parts.add(name + " " + v.role() + (v.isLeaf()
                ? " (primary " + nameOf(v.primary()) + ", standby " + nameOf(v.standby()) + ")" : "")));
        return String.join(", ", parts);
    }

    private boolean isSuperpeer(TestbedNode n) {
        TestbedNode.SiteView v = view(n);
        return v != null && v.isSuperpeer();
    }

    /** The container name of a node id seen in a status so far, else the id's first 8 digits. */
    private String nameOf(String id) {
        if (id == null || id.equals("none")) {
            return "none";
        }
        return names.getOrDefault(id, id.substring(0, Math.min(8, id.length())));
    }

    /** {@code p2psip status} of a node as its site view (it must answer); remembers its id. */
    private TestbedNode.SiteView view(TestbedNode n) {
        TestbedNode.SiteView v = n.view();
        if (v != null) {
            names.put(v.id(), n.name());
        }
        return v;
    }

    /** The live node with this id. */
    private TestbedNode nodeWithId(String id) {
        return testbed.nodes().stream().filter(n -> !n.name().equals(killed) && id.equals(view(n).id())).findFirst()
                .orElseThrow(() -> new AssertionError("no live node has id " + id));
    }

    @Test
    @Order(2)
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void theRoutersMapAndFilterAsTheirNatTypes() {
        long t0 = System.nanoTime();
        // Mapping, from each router's conntrack table after the superpeers' lookups (a get of an absent name each).
        // Leaves: their get goes through their superpeer over the LAN, so the router has no entry of theirs: the
        // site's overlay traffic uses only the superpeers' pinholes.
        for (Topology.SiteSpec s : testbed.topology().sites()) {
            for (TestbedNode peer : testbed.site(s.name())) {
                peer.get("tb:" + run + ":nothing");
                if (!isSuperpeer(peer)) {
                    Map<String, Integer> mapped = testbed.mappedPorts(s.name(), peer);
                    if (!mapped.isEmpty() && peer.logs().contains("SUPERPEER -> LEAF")) {
                        // a peer that started alone on a loaded machine was its own superpeer for a while: its
                        // router's entries from then last their conntrack timeout; not a leaf's traffic
                        System.out.println("[testbed] " + peer.name() + " was a superpeer before it became a leaf;"
                                + " its router still maps its overlay port from then: " + mapped);
                        continue;
                    }
                    assertTrue(mapped.isEmpty(), peer.name() + " is a leaf, yet its router mapped its overlay port: "
                            + mapped);
                    continue;
                }
                Map<String, Integer> mapped = testbed.mappedPorts(s.name(), peer);
                int own = peer.spec().port();
                Integer towardsBoot = mapped.get(testbed.node("boot").spec().endpoint());
                assertNotNull(towardsBoot, peer.name() + " has no mapping towards boot: " + mapped);
                if (s.nat() == NatBehaviour.SYMMETRIC) {
                    // Address-and-port-dependent mapping: a random public port, new for each destination (two
                    // may happen to be equal, so the test asks only that the mapping depends on the destination).
                    // Its lookup just asked boot and the office superpeers, so there are several destinations.
                    assertTrue(towardsBoot != own && Set.copyOf(mapped.values()).size() >= 2,
                            peer.name() + " behind the symmetric router, expected a new port per destination: "
                                    + mapped);
                } else {
                    // Endpoint-independent mapping: the peer's own port is kept, towards boot (its first destination)
                    // and towards others. Not towards all: Linux picks another port when the tuple is taken, which
                    // happens when that destination's datagram reached the router before the peer sent to it (it
                    // leaves an entry with that tuple), as the full-cone peers' lookups often do.
                    assertEquals(own, towardsBoot, peer.name() + " behind the " + s.nat() + " router: " + mapped);
                }
            }
        }
        // Filtering: one unsolicited datagram from boot, from a fresh port, to each router's public port of a peer.
        // It is not DTLS (nor a p2psip frame), so a peer that receives it counts it as malformed (link-malformed: the
        // DTLS layer drops it).
        TestbedNode boot = testbed.node("boot");
        TestbedNode office = testbed.site("office").stream().filter(this::isSuperpeer).findFirst().orElseThrow();
        TestbedNode home1 = testbed.node("home1-a");
        TestbedNode home2 = testbed.node("home2-a");
        int officeBefore = malformed(office);
        int home1Before = malformed(home1);
        int home2Before = malformed(home2);
        String boots = boot.spec().endpoint();
        testbed.sendJunk(boot, wan("office"), office.spec().port());
        testbed.sendJunk(boot, wan("home1"), portTowards("home1", home1, boots));
        testbed.sendJunk(boot, wan("home2"), portTowards("home2", home2, boots));
        // Endpoint-independent filtering: the full cone forwards it.
        await(office.name() + " receives the unsolicited datagram", Duration.ofSeconds(20),
                () -> malformed(office) > officeBefore);
        // Address-and-port-dependent filtering: the others drop it (it came from boot, but not from the port the
        // peer talks to). By now the office's copy, sent after these, has arrived.
        assertEquals(home1Before, malformed(home1), "the port-restricted router let it in");
        assertEquals(home2Before, malformed(home2), "the symmetric router let it in");
        System.out.printf("[testbed] phase NAT types: mapping and filtering as labelled, %.1f s%n", seconds(t0));
    }

    /** Malformed datagrams a peer counted: overlay frames and, on DTLS links, datagrams its DTLS layer dropped. */
    private static int malformed(TestbedNode peer) {
        return peer.statusNumber("malformed") + peer.statusNumber("link-malformed");
    }

    private int portTowards(String site, TestbedNode peer, String destination) {
        Integer port = testbed.mappedPorts(site, peer).get(destination);
        assertNotNull(port, "the " + site + " router has no mapping of " + peer.name() + " towards " + destination);
        return port;
    }

    private String wan(String site) {
        return testbed.topology().sites().stream().filter(s -> s.name().equals(site)).findFirst().orElseThrow()
                .routerWan();
    }

    @Test
    @Order(3)
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void aValuePutInOneSiteIsReadInTheOthers() {
        long t0 = System.nanoTime();
        for (Topology.SiteSpec s : testbed.topology().sites()) {
            TestbedNode writer = testbed.site(s.name()).get(0);
            String key = "tb:" + run + ":" + s.name();
            String value = "written-at-" + writer.name();
            // Every writer (a leaf through its superpeer) reaches at least the bootstrap node and the office's two
            // superpeers (from inside the office through the router's hairpin, or on the LAN): at least 3 replicas.
            putAt(writer, key, value, REACHABLE_BY_ALL);
            for (TestbedNode reader : testbed.nodes()) {
                if (!reader.site().equals(s.name())) {
                    awaitValue(reader, key, value, Duration.ofSeconds(60));
                }
            }
        }
        System.out.printf("[testbed] phase cross-site: 3 puts, each read at every other site's nodes, in %.1f s%n",
                seconds(t0));
    }

    @Test
    @Order(4)
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void phonesRegisterInEverySiteAndCallAndMessageAcrossTheSites() throws Exception {
        long t0 = System.nanoTime();
        testbed.startPhones();
        System.out.printf("[testbed] phase phones: %d phones started in %.1f s%n", testbed.topology().phones().size(),
                seconds(t0));
        // Each phone registers at a node of its own site (bob at the public bootstrap node): digest, then the
        // user's signed contact record, whose path is that node's SIP address. In the office at two leaves, whose
        // DHT calls go through their superpeer; the home sites have no leaves (2 peers, 2 seats).
        List<TestbedNode> officeLeaves = testbed.site("office").stream().filter(n -> !isSuperpeer(n)).toList();
        assertTrue(officeLeaves.size() >= 2, "the office has " + officeLeaves.size() + " leaves");
        Map<String, TestbedNode> at = phoneAt;
        at.put("bob", testbed.node("boot"));
        at.put("alice", testbed.node("home1-a"));
        at.put("frank", testbed.node("home1-b"));
        at.put("carol", testbed.node("home2-a"));
        at.put("dave", officeLeaves.get(0));
        at.put("erin", officeLeaves.get(1));
        registerAll(at);
        System.out.printf("[testbed] phase phones: 6 phones registered in %.1f s%n", seconds(t0));
        await("boot counts bob's registration", Duration.ofSeconds(10),
                () -> boot().statusNumber("sip-registrations") >= 1);
        // Calls and MESSAGEs: the caller's node forwards to the path in the callee's contact record. The public
        // bootstrap node is reachable from every site (through each router, with rport for the responses); a node
        // is reachable from its own LAN. A callee's node behind another site's NAT is not: its path names its site
        // and the overlay nodes that deliver to it (its superpeers for a leaf), and SIP goes there over the overlay's
        // links, a leaf's through its superpeer on the LAN (sip-adapter README, "SIP over the overlay").
        List<String[]> directions = List.of(
                new String[] {"alice", "bob"},    // port-restricted NAT -> public
                new String[] {"carol", "bob"},    // symmetric NAT -> public
                new String[] {"dave", "bob"},     // full-cone NAT -> public
                new String[] {"dave", "erin"},    // within the office, leaf to leaf on the LAN
                new String[] {"alice", "frank"},  // within home1
                new String[] {"alice", "dave"},   // port-restricted NAT -> an office leaf, over the overlay
                new String[] {"dave", "alice"},   // an office leaf -> port-restricted NAT, over the overlay
                new String[] {"carol", "erin"},   // symmetric NAT -> an office leaf, over the overlay
                new String[] {"bob", "carol"});   // public -> symmetric NAT, over the overlay
        for (String[] d : directions) {
            TestbedPhone caller = testbed.phone(d[0]);
            TestbedPhone callee = testbed.phone(d[1]);
            TestbedNode via = at.get(d[0]);
            long t1 = System.nanoTime();
            callAndMessage(caller, via, callee, CALLS);
            System.out.printf("[testbed] phase phones: %s@%s -> %s@%s: %d calls and %d MESSAGEs, %.1f s%n",
                    d[0], via.name(), d[1], at.get(d[1]).name(), CALLS, CALLS, seconds(t1));
        }
        // Those across the NATs went over the overlay: alice's and carol's nodes sent and received SIP there.
        for (String user : List.of("alice", "carol")) {
            TestbedNode n = at.get(user);
            Map<String, String> st = n.status();
            System.out.println("[testbed] " + n.name() + ": sip-overlay-location " + st.get("sip-overlay-location")
                    + ", sent " + st.get("sip-overlay-sent") + ", received " + st.get("sip-overlay-received")
                    + ", dropped " + st.get("sip-overlay-dropped"));
            assertTrue(n.statusNumber("sip-overlay-sent") > 0 && n.statusNumber("sip-overlay-received") > 0,
                    n.name() + " carried no SIP over the overlay: " + st);
        }
        System.out.printf("[testbed] phase phones: 6 phones registered, %d directions called and messaged, %.1f s%n",
                directions.size(), seconds(t0));
    }

    /**
     * Registers each phone at its node, all at once (a user's first REGISTER at a node creates the user's key and
     * publishes the certificate, the password-protected key and the contact record: several overlay puts each).
     */
    private void registerAll(Map<String, TestbedNode> at) throws Exception {
        Map<String, CompletableFuture<TestbedPhone.SippRun>> runs = new LinkedHashMap<>();
        at.forEach((user, node) -> runs.put(user,
                CompletableFuture.supplyAsync(() -> testbed.phone(user).register(node), executor)));
        for (Map.Entry<String, CompletableFuture<TestbedPhone.SippRun>> e : runs.entrySet()) {
            TestbedPhone.SippRun r = e.getValue().get(90, TimeUnit.SECONDS);
            String node = at.get(e.getKey()).name();
            System.out.println("[testbed] " + e.getKey() + " REGISTER at " + node + ": " + r.output());
            assertTrue(r.allOf(1), e.getKey() + "'s REGISTER at " + node + " failed: " + r);
        }
    }

    /**
     * {@code n} calls and then {@code n} MESSAGEs from {@code caller} (through its node {@code via}) to
     * {@code callee}, each side a sipp run that must count {@code n} successes and no failure. One more try on a
     * failure: on the loaded machine a single sipp run may time out; the first failure is printed.
     */
    private void callAndMessage(TestbedPhone caller, TestbedNode via, TestbedPhone callee, int n) throws Exception {
        for (boolean messages : new boolean[] {false, true}) {
            String what = (messages ? "MESSAGEs " : "calls ") + caller.user() + "@" + via.name() + " -> "
                    + callee.user();
            long t0 = System.nanoTime();
            for (int attempt = 1; ; attempt++) {
                CompletableFuture<TestbedPhone.SippRun> answered = callee.answer(n, messages, Duration.ofSeconds(40),
                        executor);
                TestbedPhone.SippRun placed = messages
                        ? caller.message(via, callee.user(), n, Duration.ofSeconds(30))
                        : caller.call(via, callee.user(), n, Duration.ofSeconds(30));
                TestbedPhone.SippRun got = answered.get(60, TimeUnit.SECONDS);
                if (placed.allOf(n) && got.allOf(n)) {
                    System.out.printf("[testbed] %s: %d of %d, %.1f s%n", what, placed.successful(), n, seconds(t0));
                    break;
                }
                String failure = what + ": caller " + placed + "; callee " + got;
                if (attempt == 2) {
                    throw new AssertionError(failure);
                }
                System.out.println("[testbed] " + failure + "; trying once more");
            }
        }
    }

    private TestbedNode boot() {
        return testbed.node("boot");
    }

    @Test
    @Order(5)
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void afterTheOfficePrimarySuperpeerIsKilledCallsSucceedAgainAndNoValueIsLost() throws Exception {
        long t0 = System.nanoTime();
        TestbedNode daveAt = phoneAt.get("dave");
        TestbedNode.SiteView leaf = view(daveAt);
        assertTrue(leaf.isLeaf(), daveAt.name() + " (dave's node) is no longer a leaf: " + leaf.text());
        TestbedNode victim = nodeWithId(leaf.primary());
        TestbedPhone dave = testbed.phone("dave");
        TestbedPhone erin = testbed.phone("erin");
        // erin answers while dave calls again and again from the moment of the kill, until a call completes.
        CompletableFuture<TestbedPhone.SippRun> answering = erin.answer(1, false, Duration.ofSeconds(120), executor);
        long kill = System.nanoTime();
        testbed.kill(victim.name());
        killed = victim.name();
        int attempts = 0;
        TestbedPhone.SippRun last = null;
        double firstOk = -1;
        while (seconds(kill) < 90) {
            attempts++;
            if (answering.isDone()) { // a call that failed on erin's side ended her sipp: answer again
                answering = erin.answer(1, false, Duration.ofSeconds(120), executor);
            }
            last = dave.call(daveAt, "erin", 1, Duration.ofSeconds(10));
            if (last.allOf(1)) {
                firstOk = seconds(kill);
                break;
            }
        }
        assertTrue(firstOk >= 0, "no call dave -> erin succeeded within 90 s of killing " + victim.name()
                + " (office primary superpeer); last: " + last);
        TestbedPhone.SippRun answered = answering.get(30, TimeUnit.SECONDS);
        assertTrue(answered.allOf(1), "erin's side of the call after the kill: " + answered);
        // Failover target (issue 5): 3 s. Printed, not asserted: the machine is shared and loaded.
        System.out.printf("[testbed] phase failover: docker kill %s (the office's primary superpeer); the first call "
                + "dave@%s -> erin@%s completed %.1f s after the kill (attempt %d; target 3 s, the call itself included)%n",
                victim.name(), daveAt.name(), phoneAt.get("erin").name(), firstOk, attempts);
        // And more: a MESSAGE in the office and a call out to the public network.
        callAndMessage(dave, daveAt, erin, 1);
        callAndMessage(dave, daveAt, testbed.phone("bob"), 1);
        // The leaves moved to the standby, and the seat is refilled: the office is back to 2 superpeers.
        List<TestbedNode> office = liveSite("office");
        Map<String, TestbedNode.SiteView> views = awaitConverged("office", office, Duration.ofSeconds(90));
        assertTrue(view(daveAt).failovers() >= 1 || !view(daveAt).isLeaf(), daveAt.name() + " counts no failover");
        System.out.printf("[testbed] phase failover: office seen converged again %.1f s after the kill: %s%n",
                seconds(kill), describe(views));
        // dave's leaf stored his contact record again naming its new superpeers (or itself, if it was elected into
        // the seat): a call from another site reaches him
        await(daveAt.name() + " stores dave's binding again with its new overlay location", Duration.ofSeconds(30),
                () -> daveAt.logs().contains("binding(s) again with this peer's overlay location"));
        long t2 = System.nanoTime();
        callAndMessage(testbed.phone("alice"), phoneAt.get("alice"), dave, 1);
        System.out.printf("[testbed] phase failover: alice@%s -> dave@%s over the overlay after the failover, %.1f s%n",
                phoneAt.get("alice").name(), daveAt.name(), seconds(t2));
        // Every value is still read from every site, and a new put from the symmetric site reaches the office.
        for (TestbedNode reader : oneNodePerSite(killed)) {
            written.forEach((key, value) -> awaitValue(reader, key, value, Duration.ofSeconds(60)));
        }
        String key = "tb:" + run + ":after-kill";
        putAt(testbed.node("home2-b"), key, "written-at-home2-b", REACHABLE_BY_ALL);
        awaitValue(office.get(office.size() - 1), key, "written-at-home2-b", Duration.ofSeconds(60));
        System.out.printf("[testbed] phase failover: every value read from each site, %.1f s in all%n", seconds(t0));
    }

    /** The live nodes of a site (all but the killed one). */
    private List<TestbedNode> liveSite(String site) {
        return testbed.site(site).stream().filter(n -> !n.name().equals(killed)).toList();
    }

    @Test
    @Order(6)
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void aSiteCutOffAndConnectedAgainRejoinsAndLosesNoRecord() {
        long t0 = System.nanoTime();
        List<TestbedNode> office = liveSite("office");
        List<TestbedNode> officeSuperpeers = office.stream().filter(this::isSuperpeer).toList();
        Map<String, Integer> valuesBefore = new LinkedHashMap<>();
        for (TestbedNode n : officeSuperpeers) {
            valuesBefore.put(n.name(), n.statusNumber("values"));
        }
        testbed.disconnect("office");
        // Outside, the overlay goes on without the office: the writer and the bootstrap node at least.
        String outside = "tb:" + run + ":outside-during-cut";
        putAt(testbed.node("home1-a"), outside, "written-outside-during-the-cut", 2);
        // Inside, the office is an island that still works: a leaf's put is stored on both office superpeers, and
        // another leaf reads it.
        String inside = "tb:" + run + ":inside-during-cut";
        List<TestbedNode> officeLeaves = office.stream().filter(n -> !isSuperpeer(n)).toList();
        putAt(officeLeaves.get(0), inside, "written-inside-during-the-cut", officeSuperpeers.size());
        awaitValue(officeLeaves.get(officeLeaves.size() - 1), inside, "written-inside-during-the-cut",
                Duration.ofSeconds(60));
        // The cut is real: what was written outside meanwhile does not reach the office.
        assertTrue(office.get(0).get(outside).isEmpty(), office.get(0).name() + " read a value put outside during the cut");
        testbed.reconnect("office");
        long t1 = System.nanoTime();
        for (TestbedNode n : office) {
            awaitValue(n, outside, "written-outside-during-the-cut", Duration.ofSeconds(120));
        }
        System.out.printf("[testbed] phase cut: every office node read the value written outside during the cut "
                + "%.1f s after the reconnect%n", seconds(t1));
        for (TestbedNode n : office) {
            assertTrue(n.joined(), n.name() + " does not serve after the reconnect: " + n.status());
        }
        for (TestbedNode n : officeSuperpeers) {
            if (isSuperpeer(n)) { // still seated: its store kept every value
                int before = valuesBefore.get(n.name());
                int after = n.statusNumber("values");
                assertTrue(after >= before, n.name() + " stored " + before + " values before the cut and " + after
                        + " after");
            }
        }
        for (TestbedNode reader : oneNodePerSite(killed)) {
            written.forEach((k, v) -> awaitValue(reader, k, v, Duration.ofSeconds(60)));
        }
        System.out.printf("[testbed] phase cut: rejoined, all %d records read from every site, %.1f s in all%n",
                written.size(), seconds(t0));
    }

    /** The bootstrap node and the first node of each site, leaving out {@code except}. */
    private List<TestbedNode> oneNodePerSite(String except) {
        List<TestbedNode> out = new ArrayList<>(List.of(testbed.node("boot")));
        for (Topology.SiteSpec s : testbed.topology().sites()) {
            testbed.site(s.name()).stream().filter(n -> !n.name().equals(except)).findFirst().ifPresent(out::add);
        }
        return out;
    }

    /**
     * Puts at {@code writer} until at least {@code minReplicas} replicas accepted (at most 3 tries: on the loaded
     * machine an RPC may time out, and putting the same value again is harmless).
     */
    private void putAt(TestbedNode writer, String key, String value, int minReplicas) {
        TestbedNode.PutOutcome o = null;
        for (int attempt = 1; attempt <= 3; attempt++) {
            o = writer.put(key, value, TTL);
            System.out.println("[testbed] put " + key + " at " + writer.name() + ": " + o.output()
                    + (attempt > 1 ? " (try " + attempt + ")" : ""));
            if (o.accepted() >= minReplicas) {
                break;
            }
        }
        assertTrue(o.accepted() >= minReplicas, "put " + key + " at " + writer.name() + ": " + o.output()
                + " (expected at least " + minReplicas + " replicas, 3 tries)");
        written.put(key, value);
    }

    private static void awaitValue(TestbedNode reader, String key, String value, Duration within) {
        List<String> last = new ArrayList<>();
        await(reader.name() + " reads " + key, within, () -> {
            List<String> got = reader.get(key);
            last.clear();
            last.addAll(got);
            return got.contains(value);
        }, () -> "last read: " + last);
    }

    private static void await(String what, Duration within, BooleanSupplier condition) {
        await(what, within, condition, () -> "");
    }

    private static void await(String what, Duration within, BooleanSupplier condition, Supplier<String> detail) {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                assertEquals("done", "not done", "waited " + within.toSeconds() + " s for: " + what + " "
                        + detail.get());
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for: " + what, e);
            }
        }
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
