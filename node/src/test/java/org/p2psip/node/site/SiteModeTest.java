package org.p2psip.node.site;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.p2psip.node.site.SitePeers.overlayJoined;
import static org.p2psip.node.site.SitePeers.role;
import static org.p2psip.testing.Waits.until;

import java.net.InetSocketAddress;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.xmlrpc.client.XmlRpcClient;
import org.apache.xmlrpc.client.XmlRpcClientConfigImpl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;
import org.p2psip.node.control.ControlClient;
import org.p2psip.node.event.LinkKind;
import org.p2psip.node.event.PeerEvent;
import org.p2psip.node.event.PeerRole;
import org.p2psip.overlay.NodeId;
import org.p2psip.superpeer.SiteStatus;
import org.p2psip.superpeer.discovery.Role;

/**
 * Site mode of the node on 127.0.0.1 with real sockets: a plain superpeer as the overlay's bootstrap and five
 * {@link Peer}s with role auto and a static site list (no multicast). They elect two superpeers; the three leaves
 * attach with a standby; a value put through one leaf's control port is read through another leaf's XML-RPC gateway
 * (a standard client) and the reverse; {@code STATUS} shows role, site, superpeers, links or leaves and NAT; the
 * peers' events show the election and the leaves' links; closing a leaf's primary superpeer moves the leaf to its
 * standby and every leaf is still served.
 */
// a guard against a hang, not a speed limit: on a loaded 2-core machine the waits below may add up to minutes
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SiteModeTest {
    @TempDir
    Path tmp;

    private final List<Peer> peers = new ArrayList<>();
    private final Map<Peer, List<PeerEvent>> events = new HashMap<>();
    private Peer bootstrap;

    @AfterEach
    void stop() {
        peers.forEach(Peer::close);
        if (bootstrap != null) {
            bootstrap.close();
        }
    }

    private List<Peer> withRole(Role r) {
        return peers.stream().filter(p -> role(p) == r).toList();
    }

    /** Two superpeers whose overlay node has joined, every other peer a leaf with a primary and a standby. */
    private boolean settled() {
        List<Peer> sps = withRole(Role.SUPERPEER).stream().filter(SitePeers::overlayJoined).toList();
        List<NodeId> spIds = sps.stream().map(Peer::id).toList();
        List<Peer> leaves = withRole(Role.LEAF);
        return sps.size() == 2 && leaves.size() == peers.size() - 2 && leaves.stream().allMatch(l -> {
            SiteStatus s = l.siteStatus();
            return s.primary() != null && s.standby() != null && spIds.contains(s.primary())
                    && spIds.contains(s.standby());
        });
    }

    private static List<String> control(Peer p, String request) throws Exception {
        try (ControlClient c = ControlClient.connect(p.controlAddress().getPort(), 30_000)) {
            ControlClient.Response r = c.request(request);
            assertTrue(r.ok(), request + " at " + p.id().shortHex() + ": " + r.error());
            return r.lines();
        }
    }

    private static Map<String, String> status(Peer p) throws Exception {
        Map<String, String> m = new HashMap<>();
        List<String> leaves = new ArrayList<>();
        for (String line : control(p, "STATUS")) {
            int sp = line.indexOf(' ');
            if (sp > 0) {
                String k = line.substring(0, sp);
                if (k.equals("leaf")) {
                    leaves.add(line.substring(sp + 1));
                }
                m.put(k, line.substring(sp + 1));
            }
        }
        m.put("leaf-lines", String.join("\n", leaves));
        return m;
    }

    private static XmlRpcClient xmlrpc(Peer p) throws Exception {
        XmlRpcClientConfigImpl c = new XmlRpcClientConfigImpl();
        c.setServerURL(new URL("http://127.0.0.1:" + p.xmlrpcAddress().getPort() + "/RPC2"));
        c.setReplyTimeout(40_000);
        XmlRpcClient x = new XmlRpcClient();
        x.setConfig(c);
        return x;
    }

    private static byte[] sha1(String s) throws Exception {
        return MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8));
    }

    /** A STUN binding from a fresh socket: the mapped address the server saw. */
    private static InetSocketAddress stunMapped(InetSocketAddress server) throws Exception {
        try (org.p2psip.nat.stun.StunClient c = org.p2psip.nat.stun.StunClient.create(
                org.p2psip.nat.stun.StunClient.Config.quick(java.time.Duration.ofMillis(300)))) {
            org.p2psip.nat.stun.StunClient.Socket s = c.open(new InetSocketAddress(TestSupport.localhost(), 0))
                    .get(5, TimeUnit.SECONDS);
            try {
                return s.binding(server).get(10, TimeUnit.SECONDS).message().mappedAddress().orElseThrow();
            } finally {
                s.close();
            }
        }
    }

    private List<PeerEvent> eventsOf(Peer p) {
        return events.get(p);
    }

    @Test
    void peersWithRoleAutoElectServeLeavesAndFailOver() throws Exception {
        bootstrap = TestSupport.peer(tmp.resolve("boot")).build();
        bootstrap.start().get(30, TimeUnit.SECONDS);
        assertNotNull(bootstrap.stunAddress(), "a plain superpeer runs a STUN server");
        int n = 5;
        List<InetSocketAddress> discovery = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            discovery.add(new InetSocketAddress(TestSupport.localhost(), TestSupport.freeUdpPort()));
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            List<InetSocketAddress> others = new ArrayList<>(discovery);
            others.remove(i);
            Peer p = TestSupport.peer(tmp.resolve("p" + i), bootstrap.overlayAddress())
                    .site(SiteOptions.auto(others, discovery.get(i).getPort(), false))
                    .stunServer(bootstrap.stunAddress()).build();
            List<PeerEvent> seen = new CopyOnWriteArrayList<>();
            p.addListener(seen::add);
            events.put(p, seen);
            peers.add(p);
        }
        for (Peer p : peers) {
            p.start();
        }
        until(40_000, () -> peers.stream().allMatch(Peer::isJoined), "every site peer to serve (superpeer or leaf)");
        until(40_000, this::settled, "2 superpeers joined and 3 leaves attached with a standby");
        System.out.printf("site of %d node peers converged in %d ms%n", n, (System.nanoTime() - t0) / 1_000_000);

        until(20_000, () -> peers.stream().allMatch(p -> p.siteStatus().nat().natDetected() != null),
                "NAT discovery against the bootstrap's STUN server");
        until(20_000, this::settled, "the site to stay settled");
        List<Peer> sps = withRole(Role.SUPERPEER);
        List<Peer> leaves = withRole(Role.LEAF);
        List<String> spHex = sps.stream().map(p -> p.id().toHex()).sorted().toList();

        // STATUS of a superpeer and of a leaf
        Peer sp = sps.get(0);
        until(20_000, () -> !sp.siteStatus().leaves().isEmpty(), "leaf links at the superpeer");
        Map<String, String> spStatus = status(sp);
        System.out.println("superpeer status: " + spStatus);
        assertEquals("superpeer", spStatus.get("role"));
        Map<String, String> bootStatus = status(bootstrap);
        assertEquals("superpeer", bootStatus.get("role"));
        assertEquals("none", bootStatus.get("site"));
        assertEquals("not-discovered", bootStatus.get("nat"), "the first node has no STUN server to ask");
        assertEquals("5", spStatus.get("site-size"));
        assertEquals(spHex, List.of(spStatus.get("site-superpeers").split(",")).stream().sorted().toList());
        assertEquals(5, spStatus.get("site-members").split(",").length);
        // NAT discovery against the bootstrap's STUN server: on loopback the mapped address is the local one
        assertEquals("none", spStatus.get("nat"));
        InetSocketAddress spStun = sp.stunAddress();
        assertNotNull(spStun, "an elected superpeer runs a STUN server");
        assertEquals(TestSupport.localhost(), stunMapped(spStun).getAddress(), "its STUN server answers a binding");
        assertEquals("yes", spStatus.get("joined"));
        assertTrue(Integer.parseInt(spStatus.get("neighbours")) >= 1, spStatus.toString());
        assertTrue(Integer.parseInt(spStatus.get("leaves")) >= 1, spStatus.toString());
        List<String> leafIds = leaves.stream().map(l -> l.id().toHex()).toList();
        for (String line : spStatus.get("leaf-lines").split("\n")) {
            assertTrue(leafIds.contains(line.split(" ")[0]), "a leaf line names a leaf: " + line);
        }
        Peer leafA = leaves.get(0);
        Peer leafB = leaves.get(1);
        Map<String, String> leafStatus = status(leafA);
        System.out.println("leaf status: " + leafStatus);
        assertEquals("leaf", leafStatus.get("role"));
        assertEquals("5", leafStatus.get("site-size"));
        assertEquals("yes", leafStatus.get("joined"));
        assertTrue(spHex.contains(leafStatus.get("primary")), leafStatus.toString());
        assertTrue(spHex.contains(leafStatus.get("standby")), leafStatus.toString());
        assertTrue(!leafStatus.get("primary").equals(leafStatus.get("standby")), leafStatus.toString());
        assertEquals("none", leafStatus.get("nat"));
        assertEquals(null, leafA.stunAddress(), "a leaf runs no STUN server");
        // --turn auto (the default): a superpeer whose NAT discovery found no NAT relays; a leaf never does
        until(20_000, () -> sps.stream().allMatch(p -> p.turnAddress() != null), "the superpeers' TURN relays");
        assertEquals(null, leafA.turnAddress(), "a leaf runs no TURN server");
        assertEquals(null, bootstrap.turnAddress(), "--turn auto with an undiscovered NAT relays nothing");
        assertEquals(leafA.id().toHex(), leafStatus.get("id"));

        // events: the elected peers saw their role change, the leaves their superpeer links
        for (Peer p : sps) {
            until(20_000, () -> eventsOf(p).contains(new PeerEvent.RoleChanged(PeerRole.CANDIDATE, PeerRole.SUPERPEER))
                    || eventsOf(p).contains(new PeerEvent.RoleChanged(PeerRole.LEAF, PeerRole.SUPERPEER)),
                    "RoleChanged(.., SUPERPEER) at " + p.id().shortHex() + ": " + eventsOf(p));
        }
        NodeId primaryA = leafA.siteStatus().primary();
        NodeId standbyA = leafA.siteStatus().standby();
        until(20_000, () -> eventsOf(leafA).contains(new PeerEvent.LinkUp(primaryA, LinkKind.SUPERPEER))
                && eventsOf(leafA).contains(new PeerEvent.LinkUp(standbyA, LinkKind.STANDBY)),
                "LinkUp of the leaf's primary and standby: " + eventsOf(leafA));
        Peer primaryPeer = peers.stream().filter(p -> p.id().equals(primaryA)).findFirst().orElseThrow();
        until(20_000, () -> eventsOf(primaryPeer).contains(new PeerEvent.LinkUp(bootstrap.id(), LinkKind.OVERLAY)),
                "LinkUp(bootstrap, OVERLAY) at a superpeer: " + eventsOf(primaryPeer));
        if (eventsOf(leafA).stream().noneMatch(e -> e instanceof PeerEvent.RoleChanged r && r.to() == PeerRole.SUPERPEER)) {
            assertTrue(eventsOf(leafA).stream().noneMatch(e -> e instanceof PeerEvent.LinkUp u
                    && u.kind() == LinkKind.OVERLAY), "a peer that was never superpeer has no overlay links: "
                    + eventsOf(leafA));
        }
        until(20_000, () -> eventsOf(primaryPeer).contains(new PeerEvent.LinkUp(leafA.id(), LinkKind.LEAF)),
                "LinkUp(leaf) at the superpeer: " + eventsOf(primaryPeer));

        // the superpeers (and the plain bootstrap) advertise STUN in the draft's service directory; a leaf finds them
        List<String> stunUris = new ArrayList<>();
        for (Peer p : sps) {
            stunUris.add(ServiceAds.stunUri(p.stunAddress()));
        }
        stunUris.add(ServiceAds.stunUri(bootstrap.stunAddress()));
        until(30_000, () -> {
            try {
                List<String> found = leafB.services().hosts(org.p2psip.storage.Namespaces.P2P_SIP)
                        .get(20, TimeUnit.SECONDS).stream().map(r -> r.uri("stun").orElse("")).toList();
                return found.containsAll(stunUris);
            } catch (Exception e) {
                return false;
            }
        }, "the leaf to find every superpeer's STUN server " + stunUris);
        var lookedUp = leafB.services().lookup(NodeId.ofName("anything"), org.p2psip.storage.Namespaces.P2P_SIP)
                .get(20, TimeUnit.SECONDS).orElseThrow();
        assertTrue(stunUris.contains(lookedUp.uri("stun").orElse("")), "lookup through the leaf: " + lookedUp);

        // a leaf's control port put, another leaf's XML-RPC get, and the reverse
        control(leafA, "PUT sip:carol@example.net here 600");
        Object[] got = (Object[]) xmlrpc(leafB).execute("get", new Object[] {sha1("sip:carol@example.net"), 10,
                new byte[0], "test"});
        Object[] values = (Object[]) got[0];
        assertEquals(1, values.length, "one value through the other leaf");
        assertArrayEquals("here".getBytes(StandardCharsets.UTF_8), (byte[]) values[0]);
        assertEquals(0, xmlrpc(leafB).execute("put", new Object[] {sha1("colors"), "red".getBytes(StandardCharsets.UTF_8),
                600, "test"}));
        assertTrue(control(leafA, "GET colors").stream().anyMatch(l -> l.startsWith("VALUE red ")));

        // close leaf A's primary superpeer: A moves to its standby at once; the site refills; every leaf is served
        int before = eventsOf(leafA).size();
        String closedStun = ServiceAds.stunUri(primaryPeer.stunAddress());
        long stop = System.nanoTime();
        primaryPeer.close();
        peers.remove(primaryPeer);
        until(20_000, () -> {
            List<PeerEvent> after = eventsOf(leafA).subList(before, eventsOf(leafA).size());
            int down = after.indexOf(new PeerEvent.LinkDown(primaryA, LinkKind.SUPERPEER));
            int up = after.indexOf(new PeerEvent.LinkUp(standbyA, LinkKind.SUPERPEER));
            return down >= 0 && up > down;
        }, "LinkDown(old primary) then LinkUp(standby as primary) at the leaf: " + eventsOf(leafA));
        System.out.printf("leaf moved to its standby %d ms after its superpeer began to close%n",
                (System.nanoTime() - stop) / 1_000_000);
        until(40_000, this::settled, "the site to refill after the superpeer stopped");
        System.out.printf("site back to 2 superpeers %d ms after the close%n", (System.nanoTime() - stop) / 1_000_000);
        for (Peer p : peers) { // routing tables may still name the stopped node for a while: lookups then retry
            until(20_000, () -> {
                try {
                    return control(p, "GET sip:carol@example.net").stream().anyMatch(l -> l.startsWith("VALUE here "));
                } catch (Exception | AssertionError e) {
                    return false;
                }
            }, "the record to be read at " + p.id().shortHex() + " (" + role(p) + ")");
        }
        until(30_000, () -> {
            try {
                return leafB.services().hosts(org.p2psip.storage.Namespaces.P2P_SIP).get(20, TimeUnit.SECONDS).stream()
                        .noneMatch(r -> r.uri("stun").orElse("").equals(closedStun));
            } catch (Exception e) {
                return false;
            }
        }, "the stopped superpeer's STUN registration to be withdrawn");
        List<Peer> nowLeaves = withRole(Role.LEAF);
        control(nowLeaves.get(0), "PUT after-close yes 600");
        Peer other = peers.stream().filter(p -> p != nowLeaves.get(0)).findFirst().orElseThrow();
        assertTrue(control(other, "GET after-close").stream().anyMatch(l -> l.startsWith("VALUE yes ")));
        assertNotNull(eventsOf(leafA));
        System.out.println("events of leaf A: " + eventsOf(leafA).stream().map(Object::toString)
                .collect(Collectors.joining(", ")));
    }

    /** A lone site peer is its own superpeer; a STUN server that never answers leaves its NAT honestly unknown. */
    @Test
    void aLonePeerWithASilentStunServerServesAndSaysNatNotDiscovered() throws Exception {
        InetSocketAddress silent = new InetSocketAddress(TestSupport.localhost(), TestSupport.freeUdpPort());
        Peer p = TestSupport.peer(tmp.resolve("lone"))
                .site(SiteOptions.auto(List.of(), TestSupport.freeUdpPort(), false)).stunServer(silent).build();
        List<PeerEvent> seen = new CopyOnWriteArrayList<>();
        p.addListener(seen::add);
        events.put(p, seen);
        peers.add(p);
        long t0 = System.nanoTime();
        p.start().get(30, TimeUnit.SECONDS);
        System.out.printf("a lone site peer served %d ms after start() with a silent STUN server%n",
                (System.nanoTime() - t0) / 1_000_000);
        Map<String, String> st = status(p);
        assertEquals("superpeer", st.get("role"));
        assertEquals("1", st.get("site-size"));
        assertEquals("not-discovered", st.get("nat"));
        until(20_000, () -> seen.contains(new PeerEvent.RoleChanged(PeerRole.CANDIDATE, PeerRole.SUPERPEER)),
                "RoleChanged(CANDIDATE, SUPERPEER): " + seen);
        control(p, "PUT alone here 600");
        assertTrue(control(p, "GET alone").stream().anyMatch(l -> l.startsWith("VALUE here ")));

        // a plain superpeer joining it discovers its NAT against the site superpeer's STUN server
        Peer plain = TestSupport.peer(tmp.resolve("plain"), p.overlayAddress()).stunServer(p.stunAddress()).build();
        peers.add(plain);
        plain.start().get(30, TimeUnit.SECONDS);
        until(20_000, () -> plain.plainNat().natDetected() != null, "the plain peer's NAT discovery");
        Map<String, String> ps = status(plain);
        assertEquals("superpeer", ps.get("role"));
        assertEquals("none", ps.get("site"));
        assertEquals("none", ps.get("nat"), "no NAT on loopback: " + ps);
        assertTrue(control(plain, "GET alone").stream().anyMatch(l -> l.startsWith("VALUE here ")));
    }
}
