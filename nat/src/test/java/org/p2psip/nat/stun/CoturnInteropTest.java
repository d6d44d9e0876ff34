package org.p2psip.nat.stun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.p2psip.nat.discovery.FilteringBehavior;
import org.p2psip.nat.discovery.MappingBehavior;
import org.p2psip.nat.discovery.NatDiscovery;
import org.p2psip.nat.discovery.StunBindingProbe;
import org.p2psip.testing.Ports;
import org.p2psip.testing.Prerequisites;

/**
 * Interoperability with coturn (Debian package {@code coturn}) on loopback: its {@code turnutils_stunclient} against
 * our server, and our client and behaviour discovery against its {@code turnserver}.
 */
class CoturnInteropTest {
    static final InetAddress LO = InetAddress.getLoopbackAddress();
    static final Pattern REFLEXIVE = Pattern.compile("UDP reflexive addr: ([0-9.]+):([0-9]+)");
    static final Pattern ORIGIN = Pattern.compile("Response origin: : ([0-9.]+:[0-9]+)");
    static final Pattern OTHER = Pattern.compile("Other addr: : ([0-9.]+:[0-9]+)");

    static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + cmd);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "exit status of " + cmd + ":\n" + out);
        return out;
    }

    @Test
    void turnutilsStunclientGetsTheRightMappedAddress() throws Exception {
        Prerequisites.requireTools("turnutils_stunclient");
        try (StunServer server = StunServer.start(StunServer.Config.basic(new InetSocketAddress(LO, 0)))) {
            Set<InetSocketAddress> senders = ConcurrentHashMap.newKeySet();
            server.setObserver((sender, req) -> senders.add(sender));
            String out = run(List.of(Prerequisites.which("turnutils_stunclient"), "-p",
                    String.valueOf(server.primaryAddress().getPort()), "127.0.0.1"));
            Matcher m = REFLEXIVE.matcher(out);
            assertTrue(m.find(), "no reflexive address in:\n" + out);
            InetSocketAddress reported = new InetSocketAddress(InetAddress.getByName(m.group(1)), Integer.parseInt(m.group(2)));
            assertTrue(senders.contains(reported), "client reported " + reported + ", server saw " + senders + "\n" + out);
            assertEquals(0, server.stats().malformed());
        }
    }

    @Test
    void turnutilsStunclientRfc5780ModeSeesOriginAndOtherAddress() throws Exception {
        Prerequisites.requireTools("turnutils_stunclient");
        InetAddress lo2 = InetAddress.getByName("127.0.0.2");
        try (StunServer server = StunServer.start(StunServer.Config.rfc5780(new InetSocketAddress(LO, 0),
                new InetSocketAddress(lo2, 0)))) {
            Set<InetSocketAddress> senders = ConcurrentHashMap.newKeySet();
            server.setObserver((sender, req) -> senders.add(sender));
            String out = run(List.of(Prerequisites.which("turnutils_stunclient"), "-f", "-p",
                    String.valueOf(server.primaryAddress().getPort()), "127.0.0.1"));
            String primary = "127.0.0.1:" + server.primaryAddress().getPort();
            String alternate = "127.0.0.2:" + server.alternateAddress().getPort();
            List<String> origins = all(ORIGIN, out);
            List<String> others = all(OTHER, out);
            assertEquals(primary, origins.get(0), out);
            assertTrue(origins.contains(alternate), "no response from the alternate address (CHANGE-REQUEST):\n" + out);
            assertTrue(others.stream().allMatch(alternate::equals), out);
            Matcher m = REFLEXIVE.matcher(out);
            while (m.find()) {
                InetSocketAddress r = new InetSocketAddress(InetAddress.getByName(m.group(1)), Integer.parseInt(m.group(2)));
                assertTrue(senders.contains(r), r + " not among " + senders);
            }
        }
    }

    static List<String> all(Pattern p, String s) {
        List<String> out = new ArrayList<>();
        Matcher m = p.matcher(s);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    @Test
    void ourClientAndDiscoveryAgainstCoturnTurnserver() throws Exception {
        Prerequisites.requireTools("turnserver");
        int port = Ports.freeUdpPortPair();
        File db = Files.createTempFile("turndb", ".sqlite").toFile();
        File log = Files.createTempFile("turnserver", ".log").toFile();
        Process turn = new ProcessBuilder(Prerequisites.which("turnserver"), "-n", "--no-cli", "--no-tls", "--no-dtls",
                "--stun-only", "--listening-ip", "127.0.0.1", "--listening-ip", "127.0.0.2",
                "--listening-port", String.valueOf(port), "--alt-listening-port", String.valueOf(port + 1),
                "--userdb", db.getPath(), "--log-file", "stdout", "--no-stdout-log")
                .redirectErrorStream(true).redirectOutput(log).start();
        try (StunClient client = StunClient.create(StunClient.Config.quick(Duration.ofMillis(100)))) {
            InetSocketAddress server = new InetSocketAddress(LO, port);
            StunClient.Socket s = client.open(new InetSocketAddress(LO, 0)).get();
            StunResponse r = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (r == null) { // wait for turnserver to come up
                try {
                    r = s.binding(server).get(5, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException notYet) {
                    assertTrue(turn.isAlive(), "turnserver exited:\n" + Files.readString(log.toPath()));
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("turnserver never answered:\n" + Files.readString(log.toPath()));
                    }
                }
            }
            assertTrue(r.isSuccess());
            assertEquals(s.localAddress(), r.message().get(StunAttribute.XorMappedAddress.class).orElseThrow().address());
            assertTrue(r.message().has(StunAttribute.Fingerprint.class), "coturn sends FINGERPRINT: " + r.message());
            InetSocketAddress other = r.message().get(StunAttribute.OtherAddress.class).orElseThrow().address();
            assertEquals(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), port + 1), other);
            StunResponse changed = s.binding(server, new StunAttribute.ChangeRequest(true, true)).get(5, TimeUnit.SECONDS);
            assertEquals(other, changed.from());
            s.close();

            NatDiscovery.NatBehavior b = new NatDiscovery(new StunBindingProbe(client, new InetSocketAddress(LO, 0)),
                    server).discover().get(30, TimeUnit.SECONDS);
            assertEquals(MappingBehavior.ENDPOINT_INDEPENDENT, b.mapping().behavior(), b.toString());
            assertFalse(b.mapping().natDetected());
            assertEquals(FilteringBehavior.ENDPOINT_INDEPENDENT, b.filtering().behavior(), b.toString());
        } finally {
            turn.destroy();
            if (!turn.waitFor(5, TimeUnit.SECONDS)) {
                turn.destroyForcibly();
            }
            db.delete();
            log.delete();
        }
    }
}
