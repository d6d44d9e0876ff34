package org.p2psip.node.xmlrpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.xmlrpc.XmlRpcException;
import org.apache.xmlrpc.client.XmlRpcClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;

/**
 * Three real peers on 127.0.0.1, each with its XML-RPC gateway, driven with Apache XML-RPC's client (not our
 * code), raw HTTP for malformed bodies, and Python's standard xmlrpc.client as OpenDHT's scripts use it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GatewayClusterTest {
    @TempDir
    static Path tmp;

    private final List<Peer> peers = new ArrayList<>();

    @BeforeAll
    void startCluster() throws Exception {
        TestSupport.startCluster(peers, tmp, 3, b -> b);
    }

    @AfterAll
    void stopCluster() {
        peers.forEach(Peer::close);
    }

    private String url(int i) {
        return "http://127.0.0.1:" + peers.get(i).xmlrpcAddress().getPort() + "/RPC2";
    }

    private XmlRpcClient client(int i) throws Exception {
        return TestSupport.xmlRpcClient(peers.get(i).xmlrpcAddress().getPort());
    }

    static byte[] sha1(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-1").digest(b);
    }

    static byte[] sha1(String s) throws Exception {
        return sha1(s.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void putThroughOneGatewayGetThroughAnother() throws Exception {
        byte[] key = sha1("colors");
        assertEquals(0, client(0).execute("put", new Object[] {key, utf8("red"), 300, "put.py"}));
        Object[] res = (Object[]) client(2).execute("get", new Object[] {key, 10, new byte[0], "get.py"});
        Object[] values = (Object[]) res[0];
        assertEquals(1, values.length);
        assertArrayEquals(utf8("red"), (byte[]) values[0]);
        assertEquals(0, ((byte[]) res[1]).length, "an empty placemark: no more values");

        // The same key as the CLI's and control port's names: SHA-1 of the UTF-8 name.
        List<DhtValue> got = peers.get(1).dht().get(NodeId.ofName("colors")).get(20, TimeUnit.SECONDS);
        assertEquals(1, got.size());
        assertEquals(Bytes.utf8("red"), got.get(0).data());
        assertTrue(got.get(0).owner().isEmpty());
    }

    @Test
    void shortKeysAreLeftPaddedToTwentyBytes() throws Exception {
        assertEquals(0, client(1).execute("put", new Object[] {new byte[] {7}, utf8("short"), 60, "t"}));
        byte[] full = new byte[20];
        full[19] = 7;
        Object[] res = (Object[]) client(0).execute("get", new Object[] {full, 10, new byte[0], "t"});
        assertEquals(1, ((Object[]) res[0]).length);
        assertArrayEquals(utf8("short"), (byte[]) ((Object[]) res[0])[0]);
    }

    @Test
    void putRemovableThenRmWithTheSecret() throws Exception {
        byte[] key = sha1("removable");
        byte[] secret = utf8("donttell");
        byte[] value = utf8("blue");
        assertEquals(0, client(0).execute("put_removable", new Object[] {key, value, "SHA", sha1(secret), 600, "put.py"}));
        assertEquals(0, client(1).execute("put", new Object[] {key, utf8("green"), 600, "put.py"}));

        Object[] det = (Object[]) client(2).execute("get_details", new Object[] {key, 10, new byte[0], "get.py"});
        Object[] rows = (Object[]) det[0];
        assertEquals(2, rows.length);
        boolean sawRemovable = false;
        for (Object o : rows) {
            Object[] row = (Object[]) o;
            int ttl = (Integer) row[1];
            assertTrue(ttl > 500 && ttl <= 600, "ttl " + ttl);
            if (new String((byte[]) row[0], StandardCharsets.UTF_8).equals("blue")) {
                assertEquals("SHA", row[2]);
                assertArrayEquals(sha1(secret), (byte[]) row[3]);
                sawRemovable = true;
            } else {
                assertEquals("", row[2]);
                assertEquals(0, ((byte[]) row[3]).length);
            }
        }
        assertTrue(sawRemovable);

        // A wrong secret names another put (key, value_hash, SHA-1(wrong secret)) that does not exist: as in
        // OpenDHT the rm "succeeds" and removes nothing; the value stays.
        assertEquals(0, client(1).execute("rm", new Object[] {key, sha1(value), "SHA", utf8("guess"), 600, "rm.py"}));
        assertEquals(2, ((Object[]) ((Object[]) client(0).execute("get", new Object[] {key, 10, new byte[0], "g"}))[0]).length);

        assertEquals(0, client(1).execute("rm", new Object[] {key, sha1(value), "SHA", secret, 600, "rm.py"}));
        Object[] after = (Object[]) ((Object[]) client(2).execute("get", new Object[] {key, 10, new byte[0], "g"}))[0];
        assertEquals(1, after.length);
        assertArrayEquals(utf8("green"), (byte[]) after[0]);
    }

    @Test
    void pagingWithMaxvalsOne() throws Exception {
        byte[] key = sha1("paged");
        for (String v : List.of("one", "two", "three")) {
            assertEquals(0, client(0).execute("put", new Object[] {key, utf8(v), 300, "put.py"}));
        }
        Set<String> seen = new HashSet<>();
        byte[] pm = new byte[0];
        int calls = 0;
        do {
            Object[] res = (Object[]) client(calls % 3).execute("get", new Object[] {key, 1, pm, "get.py"});
            Object[] values = (Object[]) res[0];
            assertTrue(values.length <= 1);
            for (Object v : values) {
                assertTrue(seen.add(new String((byte[]) v, StandardCharsets.UTF_8)));
            }
            pm = (byte[]) res[1];
            calls++;
            assertTrue(pm.length <= OpenDhtGateway.MAX_PLACEMARK_BYTES);
        } while (pm.length > 0 && calls < 10);
        assertEquals(Set.of("one", "two", "three"), seen);
        assertEquals(3, calls);
    }

    @Test
    void limitsAndWrongArgumentsAreFaults() throws Exception {
        XmlRpcClient c = client(0);
        XmlRpcException big = assertThrows(XmlRpcException.class,
                () -> c.execute("put", new Object[] {sha1("big"), new byte[1025], 300, "put.py"}));
        assertEquals(XmlRpcFault.INVALID_PARAMS, big.code);
        assertTrue(big.getMessage().contains("value is longer than 1024 bytes"), big.getMessage());
        assertEquals(0, c.execute("put", new Object[] {sha1("big"), new byte[1024], 300, "put.py"}));

        assertFault(c, XmlRpcFault.INVALID_PARAMS, "key is longer than 20 bytes", "put", new byte[21], utf8("x"), 1, "a");
        assertFault(c, XmlRpcFault.INVALID_PARAMS, "key must be base64", "put", "colors", utf8("x"), 1, "a");
        assertFault(c, XmlRpcFault.INVALID_PARAMS, "ttl must be an int", "put", sha1("k"), utf8("x"), "soon", "a");
        assertFault(c, XmlRpcFault.INVALID_PARAMS, "takes 4 parameters", "put", sha1("k"), utf8("x"));
        assertFault(c, XmlRpcFault.INVALID_PARAMS, "unknown secret hash algorithm", "put_removable",
                sha1("k"), utf8("x"), "MD5", sha1("s"), 60, "a");
        assertFault(c, XmlRpcFault.INVALID_PARAMS, "secret is longer than 40 bytes", "rm",
                sha1("k"), sha1("x"), "SHA", new byte[41], 60, "a");
        assertFault(c, XmlRpcFault.INVALID_PARAMS, "bad placemark", "get", sha1("k"), 1, utf8("garbage"), "a");
        assertFault(c, XmlRpcFault.METHOD_NOT_FOUND, "no such method", "frobnicate", 1);

        // A TTL over a week is clamped to a week, as OpenDHT does.
        assertEquals(0, c.execute("put", new Object[] {sha1("long"), utf8("x"), Integer.MAX_VALUE, "a"}));
        Object[] row = (Object[]) ((Object[]) ((Object[]) c.execute("get_details",
                new Object[] {sha1("long"), 1, new byte[0], "a"}))[0])[0];
        assertTrue((Integer) row[1] <= OpenDhtGateway.MAX_TTL_SECONDS && (Integer) row[1] > OpenDhtGateway.MAX_TTL_SECONDS - 60);
    }

    private static void assertFault(XmlRpcClient c, int code, String text, String method, Object... params) {
        XmlRpcException e = assertThrows(XmlRpcException.class, () -> c.execute(method, params));
        assertEquals(code, e.code, e.getMessage());
        assertTrue(e.getMessage().contains(text), e.getMessage());
    }

    private HttpResponse<String> post(int peer, String path, String body) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest req = HttpRequest.newBuilder(URI.create(url(peer).replace("/RPC2", path)))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "text/xml")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return http.send(req, HttpResponse.BodyHandlers.ofString());
    }

    private void assertRawFault(String body, int code) throws Exception {
        HttpResponse<String> r = post(1, "/RPC2", body);
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("<fault>") && r.body().contains("<int>" + code + "</int>"), r.body());
    }

    @Test
    void malformedBodiesGetFaultsAndTheGatewayKeepsServing() throws Exception {
        assertRawFault("this is not XML", XmlRpcFault.PARSE_ERROR);
        assertRawFault("<methodCall><methodName>get</methodName><params>", XmlRpcFault.PARSE_ERROR);
        assertRawFault("", XmlRpcFault.PARSE_ERROR);
        // XXE: an external entity reading a local file.
        Path secret = tmp.resolve("secret.txt");
        Files.writeString(secret, "TOP-SECRET");
        String xxe = "<?xml version=\"1.0\"?><!DOCTYPE m [<!ENTITY x SYSTEM \"" + secret.toUri() + "\">]>"
                + "<methodCall><methodName>&x;</methodName><params/></methodCall>";
        HttpResponse<String> r = post(1, "/RPC2", xxe);
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("<fault>") && !r.body().contains("TOP-SECRET"), r.body());
        // Billion laughs.
        StringBuilder lol = new StringBuilder("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
        for (int i = 1; i <= 9; i++) {
            lol.append("<!ENTITY lol").append(i).append(" \"");
            for (int j = 0; j < 10; j++) {
                lol.append("&lol").append(i == 1 ? "" : Integer.toString(i - 1)).append(';');
            }
            lol.append("\">");
        }
        lol.append("]><methodCall><methodName>&lol9;</methodName></methodCall>");
        assertRawFault(lol.toString(), XmlRpcFault.PARSE_ERROR);
        // Valid XML, wrong XML-RPC.
        assertRawFault("<foo/>", XmlRpcFault.INVALID_REQUEST);
        assertRawFault("<methodCall><params/></methodCall>", XmlRpcFault.INVALID_REQUEST);
        assertRawFault("<methodCall><methodName>put</methodName><params><param><value><int>x</int></value></param>"
                + "</params></methodCall>", XmlRpcFault.INVALID_REQUEST);
        assertRawFault("<methodCall><methodName>put</methodName><params><param><value><nil/></value></param>"
                + "</params></methodCall>", XmlRpcFault.INVALID_REQUEST);
        String deep = "<value><array><data>".repeat(40) + "</data></array></value>".repeat(40);
        assertRawFault("<methodCall><methodName>put</methodName><params><param>" + deep + "</param></params></methodCall>",
                XmlRpcFault.INVALID_REQUEST);
        assertRawFault("<methodCall><methodName>nope</methodName></methodCall>", XmlRpcFault.METHOD_NOT_FOUND);

        // HTTP-level refusals.
        assertEquals(404, post(1, "/other", "<x/>").statusCode());
        HttpResponse<String> huge = post(1, "/RPC2", "<methodCall>" + " ".repeat(XmlRpcServer.MAX_BODY_BYTES) + "</methodCall>");
        assertEquals(413, huge.statusCode());
        HttpClient http = HttpClient.newHttpClient();
        assertEquals(405, http.send(HttpRequest.newBuilder(URI.create(url(1))).GET().build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());

        // Still serving, through our parser too (a bare <value> is a string, "/" works as well as "/RPC2").
        HttpResponse<String> ok = post(1, "/", "<?xml version=\"1.0\"?><methodCall><methodName>get</methodName><params>"
                + "<param><value><base64>" + java.util.Base64.getEncoder().encodeToString(sha1("nothing-here"))
                + "</base64></value></param><param><value><i4>5</i4></value></param>"
                + "<param><value><base64></base64></value></param><param><value>get.py</value></param>"
                + "</params></methodCall>");
        assertEquals(200, ok.statusCode());
        assertTrue(ok.body().contains("<array><data><value><array><data></data></array></value><value><base64></base64>"),
                ok.body());
        assertEquals(0, client(1).execute("put", new Object[] {sha1("alive"), utf8("yes"), 60, "a"}));
    }

    @Test
    void pythonXmlRpcClientAsOpenDhtScriptsUseIt() throws Exception {
        String script = String.join("\n",
                "import sys, hashlib",
                "from xmlrpc.client import ServerProxy, Binary",
                "s = ServerProxy(sys.argv[1])",
                "res = {0: 'Success', 1: 'Capacity', 2: 'Again'}",
                "key = Binary(hashlib.sha1(b'python-colors').digest())",
                "assert res[s.put(key, Binary(b'red'), 3600, 'put.py')] == 'Success'",
                "secret = b'donttell'",
                "sh = Binary(hashlib.sha1(secret).digest())",
                "assert res[s.put_removable(key, Binary(b'blue'), 'SHA', sh, 3600, 'put.py')] == 'Success'",
                "vals = []",
                "pm = Binary(b'')",
                "while True:",
                "    vs, pm = s.get_details(key, 1, pm, 'get.py')",
                "    for v in vs:",
                "        vals.append((v[0].data, v[2], v[3].data))",
                "    if pm.data == b'':",
                "        break",
                "assert sorted(v[0] for v in vals) == [b'blue', b'red'], vals",
                "assert (b'blue', 'SHA', hashlib.sha1(secret).digest()) in vals, vals",
                "vh = Binary(hashlib.sha1(b'blue').digest())",
                "assert res[s.rm(key, vh, 'SHA', Binary(secret), 3600, 'rm.py')] == 'Success'",
                "vs, pm = s.get(key, 10, Binary(b''), 'get.py')",
                "assert [v.data for v in vs] == [b'red'] and pm.data == b'', (vs, pm)",
                "try:",
                "    s.put(key, Binary(b'x' * 1025), 3600, 'put.py')",
                "    raise SystemExit('a 1025-byte value was accepted')",
                "except Exception as e:",
                "    assert 'value is longer than 1024 bytes' in str(e), e",
                "print('python ok')",
                "");
        Path py = tmp.resolve("opendht_client.py");
        Files.writeString(py, script);
        // put through peer 0's gateway, read back by peer 2's: the python script runs against peer 0 ...
        Process p = new ProcessBuilder("python3", py.toString(), url(0)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("python ok"), out);
        // ... and the Java client sees its result through peer 2.
        Object[] res = (Object[]) client(2).execute("get", new Object[] {sha1("python-colors"), 10, new byte[0], "g"});
        assertEquals(1, ((Object[]) res[0]).length);
        assertArrayEquals(utf8("red"), (byte[]) ((Object[]) res[0])[0]);
    }

    /** Values put through the control port may be 64 KiB each: a get reply stops at about 1 MiB of data. */
    @Test
    void largeValuesArePagedByReplySize() throws Exception {
        org.p2psip.overlay.NodeId key = org.p2psip.overlay.NodeId.ofName("large-values");
        long expires = System.currentTimeMillis() + 300_000;
        for (int i = 0; i < 18; i++) {
            byte[] data = new byte[64_000];
            java.util.Arrays.fill(data, (byte) i);
            peers.get(0).dht().put(key, org.p2psip.overlay.store.SecretHashPolicy.value(Bytes.of(data), Bytes.EMPTY, expires))
                    .get(20, TimeUnit.SECONDS);
        }
        int total = 0;
        int pages = 0;
        byte[] pm = new byte[0];
        do {
            Object[] res = (Object[]) client(1).execute("get", new Object[] {key.toBytes(), 100, pm, "get.py"});
            int n = ((Object[]) res[0]).length;
            assertTrue(n >= 1 && n * 64_000L <= OpenDhtGateway.MAX_REPLY_DATA_BYTES, "page of " + n);
            total += n;
            pm = (byte[]) res[1];
            pages++;
        } while (pm.length > 0 && pages < 10);
        assertEquals(18, total);
        assertEquals(2, pages);
    }

    /** Pipelined requests on one connection are answered in order. */
    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        StringBuilder all = new StringBuilder();
        for (String m : List.of("first-unknown", "second-unknown", "third-unknown")) {
            String body = "<methodCall><methodName>" + m + "</methodName></methodCall>";
            all.append("POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ")
                    .append(body.length()).append("\r\n\r\n").append(body);
        }
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", peers.get(0).xmlrpcAddress().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(all.toString().getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            StringBuilder in = new StringBuilder();
            byte[] buf = new byte[8192];
            while (!in.toString().contains("third-unknown")) {
                int n = s.getInputStream().read(buf);
                if (n < 0) {
                    break;
                }
                in.append(new String(buf, 0, n, StandardCharsets.UTF_8));
            }
            String r = in.toString();
            int a = r.indexOf("first-unknown");
            int b = r.indexOf("second-unknown");
            int c = r.indexOf("third-unknown");
            assertTrue(a >= 0 && a < b && b < c, r);
        }
    }
}
