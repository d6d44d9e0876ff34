package org.p2psip.nat.turn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.p2psip.testing.EchoPeer;
import org.p2psip.testing.Prerequisites;

/**
 * Interoperability with coturn's standard TURN client {@code turnutils_uclient} (Debian package {@code coturn}):
 * it allocates on our server and exchanges data with {@code turnutils_peer}, an echo peer, through it. Under
 * {@code CI=true} a missing tool fails the test.
 *
 * <p>uclient's default session is RTP plus RTCP: the RTP allocation asks for EVEN-PORT with the R bit, the RTCP one
 * uses the RESERVATION-TOKEN it got, and each sends {@code -n} messages to the peer's port and the port after it.
 * coturn 4.6's uclient picks random channel numbers from RFC 5766's 0x4000..0x7FFF, which RFC 8656 narrowed to
 * 0x4000..0x4FFF; the ChannelData run therefore uses a server with {@code rfc5766Channels(true)} (a strict server
 * answers 400 to most of its ChannelBinds, as it should).
 */
class TurnCoturnInteropTest {
    static final InetAddress LO = InetAddress.getLoopbackAddress();
    static final Pattern TOTALS = Pattern.compile("start_mclient: tot_send_msgs=(\\d+), tot_recv_msgs=(\\d+)");
    static final Pattern LOST = Pattern.compile("Total lost packets (\\d+) ");
    static final int MESSAGES = 10;

    static TurnServer start(boolean rfc5766Channels) throws Exception {
        return TurnServer.start(TurnServer.Config.builder(new InetSocketAddress(LO, 0), LO, "p2psip.test",
                CredentialStore.passwords(Map.of("user", "secret"))).rfc5766Channels(rfc5766Channels).build());
    }

    /** Runs uclient against {@code server}; returns its output after checking its exit status. */
    static String uclient(TurnServer server, int peerPort, String... flags) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Prerequisites.which("turnutils_uclient"), "-u", "user", "-w",
                "secret", "-e", "127.0.0.1", "-r", String.valueOf(peerPort), "-n", String.valueOf(MESSAGES), "-m", "1"));
        cmd.addAll(List.of(flags));
        cmd.addAll(List.of("-p", String.valueOf(server.listenAddress().getPort()), "127.0.0.1"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes(); // uclient exits by itself after its messages
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("uclient timed out: " + cmd);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + "\n" + text + "\nserver: " + server.stats());
        return text;
    }

    /** Asserts uclient's final totals: every message sent came back, none lost. Returns the count. */
    static int assertAllEchoed(String out, TurnServer server) {
        Matcher m = TOTALS.matcher(out);
        int sent = -1;
        int received = -1;
        while (m.find()) { // the last line is the final total
            sent = Integer.parseInt(m.group(1));
            received = Integer.parseInt(m.group(2));
        }
        assertTrue(sent >= MESSAGES, "uclient sent " + sent + "\n" + out);
        assertEquals(sent, received, "uclient received fewer than it sent\n" + out + "\nserver: " + server.stats());
        Matcher lost = LOST.matcher(out);
        assertTrue(lost.find(), out);
        assertEquals("0", lost.group(1), out);
        assertEquals(0, server.stats().malformed(), server.stats().toString());
        assertEquals(0, server.stats().internalErrors(), server.stats().toString());
        return received;
    }

    @Test
    void uclientSendAndDataIndicationsWithEvenPortReservation() throws Exception {
        Prerequisites.requireTools("turnutils_uclient", "turnutils_peer");
        try (EchoPeer peer = EchoPeer.start(); TurnServer server = start(false)) {
            String out = uclient(server, peer.port(), "-s", "-g"); // Send indications; DONT-FRAGMENT
            int n = assertAllEchoed(out, server);
            assertEquals(2 * MESSAGES, n, "RTP and RTCP sessions each echoed\n" + out);
            assertTrue(server.stats().allocationsCreated() >= 2, server.stats().toString());
            assertEquals(1, server.stats().reservationsUsed(), "RTCP took the port RTP's EVEN-PORT reserved");
            assertTrue(server.stats().toPeer() >= n && server.stats().fromPeer() >= n, server.stats().toString());
            assertEquals(0, server.stats().channelData(), "indications only");
        }
    }

    @Test
    void uclientChannelData() throws Exception {
        Prerequisites.requireTools("turnutils_uclient", "turnutils_peer");
        try (EchoPeer peer = EchoPeer.start(); TurnServer server = start(true)) {
            String out = uclient(server, peer.port());
            int n = assertAllEchoed(out, server);
            assertEquals(2 * MESSAGES, n, out);
            assertTrue(server.stats().channelData() >= 2L * n, "ChannelData both ways: " + server.stats());
        }
    }

    @Test
    void uclientClientToClientThroughTwoAllocations() throws Exception {
        Prerequisites.requireTools("turnutils_uclient");
        // -y: two uclient sessions allocate on our server and send to each other's relayed addresses.
        try (TurnServer server = start(false)) {
            String out = uclient(server, 9, "-y", "-s", "-c");
            int n = assertAllEchoed(out, server);
            assertEquals(2 * MESSAGES, n, out);
            assertTrue(server.stats().allocationsCreated() >= 2, server.stats().toString());
            assertTrue(server.stats().toPeer() >= n && server.stats().fromPeer() >= n, server.stats().toString());
        }
    }
}
