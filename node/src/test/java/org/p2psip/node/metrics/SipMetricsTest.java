package org.p2psip.node.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;
import org.p2psip.node.accounts.DigestAccounts;
import org.p2psip.node.sip.SipOptions;
import org.p2psip.testing.Sipp;
import org.p2psip.storage.PrivateKeyRecord;

/**
 * SIP in the Prometheus endpoint: after a real sipp REGISTER with digest (401, then 200) and a junk datagram on the
 * SIP port, {@code GET /metrics} shows the REGISTER server transactions by status class, the registration and the
 * malformed drop.
 */
@Timeout(120)
class SipMetricsTest {
    static final String DOMAIN = "p2p.test";

    @TempDir
    Path tmp;

    /** The sum of the samples of {@code name} whose labels include every one of {@code labels}; 0 when none. */
    static double sum(String text, String name, String... labels) {
        double total = 0;
        for (String line : text.split("\n")) {
            if (!line.startsWith(name + "{")) {
                continue;
            }
            int end = line.lastIndexOf('}');
            String ls = line.substring(name.length() + 1, end);
            boolean all = true;
            for (String l : labels) {
                all &= ls.contains(l);
            }
            if (all) {
                total += Double.parseDouble(line.substring(end + 1).trim().split(" ")[0]);
            }
        }
        return total;
    }

    @Test
    void registerAndDropAreCounted() throws Exception {
        Sipp sipp = Sipp.require(tmp, DOMAIN);
        Path dir = tmp.resolve("peer");
        Files.createDirectories(dir);
        DigestAccounts.put(dir.resolve(DigestAccounts.FILE_NAME),
                DigestAccounts.account("alice", DOMAIN, "alice-secret".toCharArray()));
        SipOptions sip = new SipOptions(0, List.of(DOMAIN), null, null).withAlgorithms(List.of("MD5"))
                .withKeyKdf(new PrivateKeyRecord.KdfParams(1024, 1, 1));
        try (Peer p = TestSupport.peer(dir).sip(sip).build()) {
            p.start().get(60, TimeUnit.SECONDS);
            int port = TestSupport.freeUdpPort();
            Process reg = sipp.start("register_auth.xml", p.sip().localAddress(), port, 1, "-s", "alice", "-au",
                    "alice", "-ap", "alice-secret");
            Sipp.assertAllSucceeded(sipp.await(reg, "register_auth.xml", port), 1, "REGISTER alice with digest");
            try (DatagramSocket s = new DatagramSocket()) {
                byte[] junk = "NOT SIP AT ALL\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
                s.send(new DatagramPacket(junk, junk.length, p.sip().localAddress()));
            }

            HttpClient http = HttpClient.newHttpClient();
            String text = "";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (System.nanoTime() < deadline) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + p.metricsAddress().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                text = r.body();
                if (sum(text, "p2psip_sip_drops_total", "reason=\"malformed\"") >= 1) {
                    break;
                }
                Thread.sleep(200);
            }
            String t = text;
            String series = "p2psip_sip_transactions_total";
            assertTrue(sum(t, series, "role=\"server\"", "method=\"REGISTER\"", "status=\"2xx\"") >= 1,
                    "the 200 to the REGISTER:\n" + t);
            assertTrue(sum(t, series, "role=\"server\"", "method=\"REGISTER\"", "status=\"4xx\"") >= 1,
                    "the 401 challenge:\n" + t);
            assertTrue(sum(t, "p2psip_sip_drops_total", "reason=\"malformed\"") >= 1, "the junk datagram:\n" + t);
            assertEquals(1.0, registrations(t), 1e-9, "alice's binding:\n" + t);
        }
    }

    private static double registrations(String text) {
        for (String line : text.split("\n")) {
            if (line.startsWith("p2psip_sip_registrations ")) {
                return Double.parseDouble(line.substring("p2psip_sip_registrations ".length()).trim());
            }
        }
        return Double.NaN;
    }
}
