package org.p2psip.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.p2psip.node.cli.CliRunner.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;
import org.p2psip.node.cli.CliRunner.Cli;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.SecretHashPolicy;

/** Three real peers on 127.0.0.1, driven through the CLI against different peers' control ports. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterCliTest {
    @TempDir
    Path tmp;

    private final List<Peer> peers = new ArrayList<>();

    @BeforeEach
    void startCluster() throws Exception {
        TestSupport.startCluster(peers, tmp, 3, b -> b);
    }

    @AfterEach
    void stopCluster() {
        peers.forEach(Peer::close);
    }

    private String port(int i) {
        return Integer.toString(peers.get(i).controlAddress().getPort());
    }

    @Test
    void valuePutThroughOnePeerIsGotThroughAnother() {
        Cli put = cli("put", "sip:bob@example.net", "sip:bob@127.0.0.1:5060", "--ttl", "300", "--control-port", port(0));
        assertEquals(0, put.code(), put.err());
        assertEquals("stored on 3 of 3 replicas\n", put.out());

        Cli get = cli("get", "sip:bob@example.net", "--control-port", port(2));
        assertEquals(0, get.code(), get.err());
        assertEquals("sip:bob@127.0.0.1:5060\n", get.out());

        // Stored as an OpenDHT-style value under SHA-1 of the name, on every replica.
        for (Peer p : peers) {
            List<DhtValue> local = p.overlay().localValues(NodeId.ofName("sip:bob@example.net")).join();
            assertEquals(1, local.size());
            DhtValue v = local.get(0);
            assertEquals(SecretHashPolicy.sha1(Bytes.utf8("sip:bob@127.0.0.1:5060")), v.nonce());
            assertTrue(v.owner().isEmpty());
            long ttl = v.expiresAtMillis() - System.currentTimeMillis();
            assertTrue(ttl > 250_000 && ttl <= 300_000, "ttl " + ttl);
        }
    }

    @Test
    void awkwardTextSurvivesTheRoundTrip() {
        String name = "sip:jürgen@example.net";
        String value = "hello wörld 100% \t tab %20 not-a-space\nsecond line";
        Cli put = cli("put", name, value, "--control-port", port(1));
        assertEquals(0, put.code(), put.err());
        Cli get = cli("get", name, "--control-port", port(2));
        assertEquals(0, get.code(), get.err());
        assertEquals(value + "\n", get.out());
        assertEquals(1, peers.get(0).dht().get(NodeId.ofName(name)).join().size());
    }

    @Test
    void removeNeedsTheSecret() {
        String name = "offline:alice@example.net";
        assertEquals(0, cli("put", name, "msg-1", "--secret", "s3cret", "--control-port", port(0)).code());
        assertEquals(0, cli("put", name, "msg-2", "--control-port", port(0)).code());

        Cli get = cli("get", "--long", name, "--control-port", port(1));
        assertEquals(0, get.code(), get.err());
        List<String> lines = get.out().lines().toList();
        assertEquals(2, lines.size(), get.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("msg-1\t") && l.endsWith("\tremovable")), get.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("msg-2\t") && l.endsWith("\tpermanent")), get.out());

        Cli wrong = cli("rm", name, "msg-1", "--secret", "guess", "--control-port", port(2));
        assertEquals(1, wrong.code(), wrong.out());
        assertTrue(wrong.err().contains("another secret"), wrong.err());
        Cli permanent = cli("rm", name, "msg-2", "--secret", "s3cret", "--control-port", port(2));
        assertEquals(1, permanent.code());
        assertTrue(permanent.err().contains("without a secret"), permanent.err());
        Cli none = cli("rm", name, "msg-3", "--secret", "s3cret", "--control-port", port(2));
        assertEquals(1, none.code());
        assertTrue(none.err().contains("no such value"), none.err());

        Cli rm = cli("rm", name, "msg-1", "--secret", "s3cret", "--control-port", port(2));
        assertEquals(0, rm.code(), rm.err());
        assertEquals("removed from 3 of 3 replicas\n", rm.out());
        assertEquals("msg-2\n", cli("get", name, "--control-port", port(1)).out());
    }

    @Test
    void getOfAnUnknownNameExitsWithOne() {
        Cli get = cli("get", "sip:nobody@example.net", "--control-port", port(1));
        assertEquals(1, get.code());
        assertEquals("", get.out());
        assertTrue(get.err().contains("no value under sip:nobody@example.net"), get.err());
    }

    @Test
    void statusShowsTheNodeItTalksTo() {
        Peer p = peers.get(1);
        Cli status = cli("status", "--control-port", port(1));
        assertEquals(0, status.code(), status.err());
        List<String> lines = status.out().lines().toList();
        assertTrue(lines.contains("id " + p.id().toHex()), status.out());
        assertTrue(lines.contains("joined yes"), status.out());
        assertTrue(lines.contains("neighbours 2"), status.out());
        assertTrue(lines.contains("control 127.0.0.1:" + port(1)), status.out());
        assertTrue(lines.contains("address 127.0.0.1:" + p.overlayAddress().getPort()), status.out());
    }

    /** The acceptance path: a value put with the CLI is returned by an XML-RPC client, and the other way round. */
    @Test
    void cliAndXmlRpcClientsSeeTheSameValues() throws Exception {
        org.apache.xmlrpc.client.XmlRpcClient x = TestSupport.xmlRpcClient(peers.get(2).xmlrpcAddress().getPort());
        byte[] key = NodeId.ofName("sip:carol@example.net").toBytes(); // SHA-1 of the name, as OpenDHT's scripts send

        Cli put = cli("put", "sip:carol@example.net", "sip:carol@127.0.0.1:5060", "--control-port", port(0));
        assertEquals(0, put.code(), put.err());
        Object[] res = (Object[]) x.execute("get", new Object[] {key, 10, new byte[0], "get.py"});
        Object[] values = (Object[]) res[0];
        assertEquals(1, values.length);
        assertEquals("sip:carol@127.0.0.1:5060", new String((byte[]) values[0], java.nio.charset.StandardCharsets.UTF_8));

        assertEquals(0, x.execute("put", new Object[] {key, "sip:carol@127.0.0.1:5070".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                300, "put.py"}));
        Cli get = cli("get", "sip:carol@example.net", "--control-port", port(1));
        assertEquals(0, get.code(), get.err());
        assertEquals(java.util.Set.of("sip:carol@127.0.0.1:5060", "sip:carol@127.0.0.1:5070"),
                java.util.Set.of(get.out().split("\n")));
    }
}
