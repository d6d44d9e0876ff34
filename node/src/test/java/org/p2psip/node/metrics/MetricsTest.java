package org.p2psip.node.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.DoublePredicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.SecretHashPolicy;

/** The Prometheus endpoint of a peer in a 3-peer loopback cluster, scraped with the JDK's HTTP client. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MetricsTest {
    @TempDir
    Path tmp;

    private final List<Peer> peers = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() {
        peers.forEach(Peer::close);
    }

    private HttpResponse<String> request(Peer p, String method, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.metricsAddress().getPort() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String scrape(Peer p) throws Exception {
        HttpResponse<String> r = request(p, "GET", "/metrics");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain"), r.headers().toString());
        return r.body();
    }

    /** The value of the sample {@code series} (name with labels, as written), or NaN when absent. */
    static double value(String text, String series) {
        for (String line : text.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim().split(" ")[0]);
            }
        }
        return Double.NaN;
    }

    /** Scrapes until {@code series} satisfies {@code ok} (the machine may be slow), then returns the last text. */
    private String awaitMetric(Peer p, String series, DoublePredicate ok) throws Exception {
        String text = "";
        for (int i = 0; i < 200; i++) {
            text = scrape(p);
            if (ok.test(value(text, series))) {
                return text;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(series + " never reached the expected value; last scrape:\n" + text);
    }

    @Test
    void theScrapedValuesMoveWithPutsLookupsAndDrops() throws Exception {
        TestSupport.startCluster(peers, tmp, 3, b -> b);
        Peer p0 = peers.get(0);
        String before = awaitMetric(p0, "p2psip_overlay_size_estimate", v -> v >= 3);
        assertTrue(value(before, "p2psip_overlay_joined") == 1, before);
        assertTrue(value(before, "p2psip_links{kind=\"direct\"}") >= 1, before);
        double lookups0 = value(before, "p2psip_lookup_duration_seconds_count");
        double values0 = value(before, "p2psip_store_values");
        double bytes0 = value(before, "p2psip_store_bytes");
        double out0 = value(before, "p2psip_datagrams_total{direction=\"out\"}");
        for (String t : List.of("# TYPE p2psip_lookup_duration_seconds histogram", "# TYPE p2psip_drops_total counter",
                "p2psip_lookup_duration_seconds_bucket{le=\"+Inf\"}", "p2psip_uptime_seconds")) {
            assertTrue(before.contains(t), t + " missing from\n" + before);
        }

        int puts = 20;
        long expires = System.currentTimeMillis() + 600_000;
        for (int i = 0; i < puts; i++) {
            p0.dht().put(NodeId.ofName("metrics-" + i), SecretHashPolicy.value(Bytes.utf8("value " + i), Bytes.EMPTY, expires))
                    .get(20, TimeUnit.SECONDS);
        }
        int gets = 5;
        for (int i = 0; i < gets; i++) {
            p0.dht().get(NodeId.ofName("metrics-" + i)).get(20, TimeUnit.SECONDS);
        }
        // A datagram that is not DTLS (the peers' links are DTLS by default): counted as a drop, not a crash.
        try (DatagramSocket s = new DatagramSocket()) {
            byte[] junk = "not an overlay frame".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            s.send(new DatagramPacket(junk, junk.length, p0.overlayAddress()));
        }
        String after = awaitMetric(p0, "p2psip_drops_total{reason=\"link_malformed\"}", v -> v >= 1);
        // the links by kind come from the DTLS layer: on loopback every link is a direct DTLS session
        assertTrue(value(after, "p2psip_links{kind=\"direct\"}") >= 2, after);
        assertEquals(0, value(after, "p2psip_links{kind=\"ice\"}"), after);
        assertEquals(0, value(after, "p2psip_links{kind=\"relayed\"}"), after);
        // With 3 nodes and 8 replicas every node stores every value.
        assertTrue(value(after, "p2psip_store_values") >= values0 + puts, after);
        assertTrue(value(after, "p2psip_store_bytes") > bytes0, after);
        // Every get is a lookup (puts are too, but how a put's lookup is observed is the overlay's business).
        assertTrue(value(after, "p2psip_lookup_duration_seconds_count") >= lookups0 + gets, after);
        assertTrue(value(after, "p2psip_lookup_duration_seconds_sum") > 0, after);
        assertTrue(value(after, "p2psip_lookups_total{result=\"found\"}") >= gets, after);
        assertTrue(value(after, "p2psip_datagrams_total{direction=\"out\"}") > out0, after);
        // The other peers served the puts.
        String other = scrape(peers.get(1));
        assertTrue(value(other, "p2psip_rpc_served_total") >= puts, other);
        assertTrue(value(other, "p2psip_store_values") >= puts, other);
        System.out.println("metrics of peer 0 after " + puts + " puts:\n" + after.lines()
                .filter(l -> l.startsWith("p2psip_") && !l.contains("_bucket")).reduce((a, b) -> a + "\n" + b).orElse(""));

        assertEquals(404, request(p0, "GET", "/other").statusCode());
        assertEquals(405, request(p0, "POST", "/metrics").statusCode());
        assertEquals(200, request(p0, "HEAD", "/metrics").statusCode());
        // Hostile requests: garbage, a 64 KiB request line, a body. Each gets an error or a closed connection.
        for (String junk : List.of("\u0000\u0001garbage\r\n\r\n", "GET /" + "a".repeat(65_536) + " HTTP/1.1\r\n\r\n",
                "POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")) {
            try (java.net.Socket s = new java.net.Socket(p0.metricsAddress().getAddress(), p0.metricsAddress().getPort())) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(junk.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                String reply = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
                assertTrue(reply.isEmpty() || reply.startsWith("HTTP/1.1 4"), reply);
            } catch (java.net.SocketException closed) {
                // the server closed the connection while the request was still being written: fine
            }
        }
        assertTrue(scrape(p0).contains("p2psip_uptime_seconds"));
    }
}
