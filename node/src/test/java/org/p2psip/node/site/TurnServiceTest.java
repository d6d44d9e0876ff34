package org.p2psip.node.site;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.testing.Waits;
import org.p2psip.nat.turn.TurnClient;
import org.p2psip.nat.turn.TurnException;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;
import org.p2psip.node.accounts.DigestAccounts;
import org.p2psip.node.sip.SipOptions;
import org.p2psip.storage.Namespaces;
import org.p2psip.storage.api.ServiceDirectory;
import org.p2psip.superpeer.discovery.Role;
import org.p2psip.testing.EchoPeer;
import org.p2psip.testing.Prerequisites;

/**
 * A site superpeer with {@code --turn on} and SIP, on 127.0.0.1 with real sockets: it advertises its STUN server,
 * its TURN relay and its SIP adapter ({@code presence}) in one p2p-sip registration; a leaf of its site looks them up
 * through it and finds all three. coturn's {@code turnutils_uclient} (a standard client) allocates on the relay with
 * a SIP account's username and password and exchanges data with {@code turnutils_peer} through it; a wrong password
 * is refused with 401; an account added while the node runs can allocate (the accounts are re-read).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TurnServiceTest {
    static final String DOMAIN = "turn.example.org";
    static final Pattern TOTALS = Pattern.compile("start_mclient: tot_send_msgs=(\\d+), tot_recv_msgs=(\\d+)");

    @TempDir
    Path tmp;

    private final List<Peer> peers = new ArrayList<>();
    private final List<EchoPeer> echoPeers = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (EchoPeer e : echoPeers) {
            e.close();
        }
        peers.forEach(Peer::close);
    }

    private Peer started(Peer p) {
        peers.add(p);
        p.start();
        return p;
    }

    @Test
    void superpeerAdvertisesStunTurnAndPresenceAndRelaysForSipAccounts() throws Exception {
        Prerequisites.requireTools("turnutils_uclient", "turnutils_peer");
        Peer boot = TestSupport.peer(tmp.resolve("boot")).build();
        peers.add(boot);
        boot.start().get(30, TimeUnit.SECONDS);
        Path spDir = tmp.resolve("sp");
        Files.createDirectories(spDir);
        Path users = spDir.resolve(DigestAccounts.FILE_NAME);
        DigestAccounts.put(users, DigestAccounts.account("alice", DOMAIN, "alice-secret".toCharArray()));
        int spSite = TestSupport.freeUdpPort();
        int leafSite = TestSupport.freeUdpPort();
        InetSocketAddress spDiscovery = new InetSocketAddress(TestSupport.localhost(), spSite);
        InetSocketAddress leafDiscovery = new InetSocketAddress(TestSupport.localhost(), leafSite);
        Peer sp = started(TestSupport.peer(spDir, boot.overlayAddress())
                .site(SiteOptions.auto(List.of(leafDiscovery), spSite, false))
                .stunServer(boot.stunAddress()).turn(TurnMode.ON)
                .sip(new SipOptions(0, List.of(DOMAIN), null, null)).build());
        Peer leaf = started(TestSupport.peer(tmp.resolve("leaf"), boot.overlayAddress())
                .site(SiteOptions.leaf(List.of(spDiscovery), leafSite, false))
                .stunServer(boot.stunAddress()).turn(TurnMode.ON).build());
        Waits.until(60_000, () -> sp.isJoined() && leaf.isJoined()
                && sp.siteStatus().role() == Role.SUPERPEER && leaf.siteStatus().primary() != null,
                "the superpeer elected and the leaf attached");
        Waits.until(20_000, () -> sp.turnAddress() != null && sp.sip() != null, "the superpeer's TURN and SIP");
        assertNull(leaf.turnAddress(), "a leaf runs no TURN server, whatever --turn says");
        assertNull(boot.turnAddress(), "--turn auto with an undiscovered NAT runs none");

        InetSocketAddress turn = sp.turnAddress();
        String stunUri = ServiceAds.stunUri(sp.stunAddress());
        String turnUri = "turn:127.0.0.1:" + turn.getPort() + "?transport=udp";
        String presenceUri = "sip:127.0.0.1:" + sp.sip().localAddress().getPort();
        ServiceDirectory services = leaf.services();
        Waits.until(40_000, () -> {
            try {
                return services.hosts(Namespaces.P2P_SIP).get(20, TimeUnit.SECONDS).stream().anyMatch(r ->
                        r.uri("stun").orElse("").equals(stunUri) && r.uri("turn").orElse("").equals(turnUri)
                                && r.uri("presence").orElse("").equals(presenceUri));
            } catch (Exception e) {
                return false;
            }
        }, "the leaf to find the superpeer's " + stunUri + ", " + turnUri + " and " + presenceUri);

        // a standard TURN client allocates with alice's SIP credentials and relays to an echo peer and back
        EchoPeer echo = EchoPeer.start();
        echoPeers.add(echo);
        String out = uclient(turn, echo.port(), "alice", "alice-secret");
        Matcher m = TOTALS.matcher(out);
        int sent = -1;
        int received = -1;
        while (m.find()) {
            sent = Integer.parseInt(m.group(1));
            received = Integer.parseInt(m.group(2));
        }
        assertTrue(sent >= 5, "uclient sent " + sent + "\n" + out);
        assertEquals(sent, received, "every message came back through the relay\n" + out);

        // a wrong password is refused
        ExecutionException wrong = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> TurnClient.allocate(TurnClient.Config.of(turn, "alice", "not-her-password")
                        .quick(java.time.Duration.ofMillis(200)), new InetSocketAddress(TestSupport.localhost(), 0))
                        .get(20, TimeUnit.SECONDS));
        assertTrue(wrong.getCause() instanceof TurnException t && (t.code() == 401 || t.code() == 441),
                "a wrong password is refused: " + wrong.getCause());

        // 'p2psip user add' on the running node: the new account allocates, and data goes both ways
        DigestAccounts.put(users, DigestAccounts.account("bob", DOMAIN, "bob-secret".toCharArray()));
        Thread.sleep(org.p2psip.node.accounts.ReloadingAccounts.CHECK_INTERVAL_NANOS / 1_000_000 + 200); // checked once a second
        try (DatagramSocket peer = new DatagramSocket(new InetSocketAddress(TestSupport.localhost(), 0));
             TurnClient bob = TurnClient.allocate(TurnClient.Config.of(turn, "bob", "bob-secret"),
                     new InetSocketAddress(TestSupport.localhost(), 0)).get(20, TimeUnit.SECONDS)) {
            assertNotNull(bob.relayedAddress());
            assertEquals(TestSupport.localhost(), bob.relayedAddress().getAddress(), "relayed on the node's address");
            LinkedBlockingQueue<byte[]> got = new LinkedBlockingQueue<>();
            bob.onData((from, data, viaChannel) -> got.add(data));
            InetSocketAddress peerAddr = (InetSocketAddress) peer.getLocalSocketAddress();
            bob.createPermission(peerAddr.getAddress()).get(20, TimeUnit.SECONDS);
            bob.send(peerAddr, "to the peer".getBytes(StandardCharsets.UTF_8));
            peer.setSoTimeout(10_000);
            DatagramPacket in = new DatagramPacket(new byte[1500], 1500);
            peer.receive(in);
            assertEquals("to the peer", new String(in.getData(), 0, in.getLength(), StandardCharsets.UTF_8));
            assertEquals(bob.relayedAddress(), in.getSocketAddress(), "it came from the relayed address");
            byte[] back = "to bob".getBytes(StandardCharsets.UTF_8);
            peer.send(new DatagramPacket(back, back.length, bob.relayedAddress()));
            byte[] answer = got.poll(10, TimeUnit.SECONDS);
            assertNotNull(answer, "the peer's answer reached bob through the relay");
            assertArrayEquals(back, answer);
        }
    }

    @Test
    void aTakenTurnPortFailsTheStartWhenConfiguredAndIsSkippedByDefault() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(TestSupport.localhost(), 0))) {
            Peer p = TestSupport.peer(tmp.resolve("a")).turn(TurnMode.ON).turnPort(taken.getLocalPort()).build();
            peers.add(p);
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> p.start().get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("--turn-port"), "names the option: " + e.getCause());
            // a plain superpeer with --turn on runs its relay at once, relaying on the bound address
            Peer q = TestSupport.peer(tmp.resolve("b")).turn(TurnMode.ON).build();
            peers.add(q);
            q.start().get(30, TimeUnit.SECONDS);
            assertNotNull(q.turnAddress(), "--turn on: a plain superpeer relays");
        }
    }

    /**
     * coturn's {@code turnutils_uclient}: one allocation ({@code -m 1}) with Send and Data indications ({@code -s}),
     * {@code -n 5} messages to the echo peer (RTP to its port, RTCP to the port after); returns its output after
     * checking its exit status.
     */
    private static String uclient(InetSocketAddress server, int peerPort, String user, String password)
            throws Exception {
        List<String> cmd = List.of(Prerequisites.which("turnutils_uclient"), "-u", user, "-w", password, "-e",
                "127.0.0.1", "-r", String.valueOf(peerPort), "-n", "5", "-m", "1", "-s", "-p",
                String.valueOf(server.getPort()), "127.0.0.1");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("uclient timed out: " + cmd);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + "\n" + text);
        return text;
    }
}
