package org.p2psip.node.xmlrpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
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
import org.p2psip.storage.DhtService;
import org.p2psip.storage.Contact;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.Namespaces;
import org.p2psip.storage.RecordKey;
import org.p2psip.storage.RecordValue;
import org.p2psip.storage.RecordXml;
import org.p2psip.storage.Refusal;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SignedValues;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.ValueContent;
import org.p2psip.storage.api.DraftDht;
import org.p2psip.storage.api.ImmutKey;
import org.p2psip.storage.api.ImmutableValues;
import org.p2psip.storage.api.ServiceDirectory;

/** The draft's methods through the gateways of a 3-peer loopback cluster, with Apache XML-RPC's client. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DraftGatewayTest {
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

    private XmlRpcClient client(int i) throws Exception {
        return TestSupport.xmlRpcClient(peers.get(i).xmlrpcAddress().getPort());
    }

    private static SigningIdentity identity(String user) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return SigningIdentity.of(g.generateKeyPair(), List.of(), user);
    }

    private static String query(ResourceName name) {
        return "<dhtRecord xmlns=\"" + Namespaces.DHT + "\"><key>" + name.format() + "</key></dhtRecord>";
    }

    @Test
    void putAuthGetGetAuthRemoveAuth() throws Exception {
        SigningIdentity bob = identity("bob@example.net");
        ResourceName aor = ResourceName.sip("bob@example.net");
        Instant expires = Instant.now().plusSeconds(600).truncatedTo(ChronoUnit.SECONDS);
        DhtRecord rec = DhtRecord.of(aor, expires, "desk", new ValueContent.Contacts(List.of(Contact.of("sip:bob@192.0.2.1"))));
        DhtValue signed = DraftDht.signed(rec, bob);
        String doc = signed.data().utf8String();

        assertEquals(Boolean.TRUE, client(0).execute("put-auth", new Object[] {doc}));

        // The draft's get: one parameter, a dhtRecord naming the key; the answer is a dhtRecords document.
        String got = (String) client(2).execute("get", new Object[] {query(aor)});
        assertTrue(got.startsWith("<dhtRecords") && got.contains("sip:bob@192.0.2.1") && got.contains("desk"), got);
        // As base64 in, base64 out.
        byte[] got64 = (byte[]) client(1).execute("get", new Object[] {query(aor).getBytes(StandardCharsets.UTF_8)});
        assertTrue(new String(got64, StandardCharsets.UTF_8).contains("sip:bob@192.0.2.1"));

        // get-auth: the value is the SHA-1 digest of the writer's public key.
        String byBob = RecordXml.toXml(new DhtRecord(null, RecordKey.of(null, aor),
                new RecordValue(null, null, null, null, new ValueContent.Digest(Namespaces.DIGEST_SHA1, bob.owner()))));
        assertTrue(((String) client(1).execute("get-auth", new Object[] {byBob})).contains("sip:bob@192.0.2.1"));
        String byOther = RecordXml.toXml(new DhtRecord(null, RecordKey.of(null, aor),
                new RecordValue(null, null, null, null, new ValueContent.Digest(Namespaces.DIGEST_SHA1, identity("x").owner()))));
        assertTrue(!((String) client(1).execute("get-auth", new Object[] {byOther})).contains("sip:bob"));

        // Someone else's key may not write bob's name (trust on first use): the storing nodes' refusal code comes
        // back as the fault code.
        SigningIdentity mallory = identity("bob@example.net");
        String forged = DraftDht.signed(DhtRecord.of(aor, expires, "desk2",
                new ValueContent.Contacts(List.of(Contact.of("sip:mallory@192.0.2.66")))), mallory).data().utf8String();
        XmlRpcException takeover = assertThrows(XmlRpcException.class, () -> client(1).execute("put-auth", new Object[] {forged}));
        assertEquals(Refusal.NOT_ENTITLED.faultCode(), takeover.code);
        assertTrue(takeover.getMessage().startsWith("NOT_ENTITLED: "), takeover.getMessage());

        // A tampered document is refused by the gateway before it reaches the DHT.
        XmlRpcException bad = assertThrows(XmlRpcException.class,
                () -> client(1).execute("put-auth", new Object[] {doc.replace("192.0.2.1", "192.0.2.9")}));
        assertEquals(XmlRpcFault.INVALID_PARAMS, bad.code);

        // remove-auth: a signed record with the same key and nonce holding the stored value's digest.
        String proof = SignedValues.remove(RecordKey.of("k", aor), signed, expires.plusSeconds(60), bob).proof().utf8String();
        assertEquals(Boolean.TRUE, client(2).execute("remove-auth", new Object[] {proof}));
        String after = (String) client(0).execute("get", new Object[] {query(aor)});
        assertTrue(!after.contains("sip:bob@192.0.2.1"), after);
    }

    @Test
    void putImmutAndGetImmut() throws Exception {
        String text = "an immutable value";
        String expires = Instant.now().plusSeconds(600).truncatedTo(ChronoUnit.SECONDS).toString();
        String put = "<dhtRecord xmlns=\"" + Namespaces.DHT + "\"><value expires=\"" + expires + "\">" + text + "</value></dhtRecord>";
        assertEquals(Boolean.TRUE, client(0).execute("put-immut", new Object[] {put}));
        List<byte[]> nodes = DraftDht.fragment(text.getBytes(StandardCharsets.UTF_8), DraftDht.Options.DEFAULT_CHUNK_BYTES);
        ImmutKey key = ImmutableValues.keyOf(nodes.get(nodes.size() - 1));
        String get = "<dhtRecord xmlns=\"" + Namespaces.DHT + "\"><key>" + key.uri() + "</key></dhtRecord>";
        String got = (String) client(2).execute("get-immut", new Object[] {get});
        String b64 = java.util.Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
        assertTrue(got.contains(b64), got);
    }

    @Test
    void getIsToldApartByItsParameters() throws Exception {
        XmlRpcException two = assertThrows(XmlRpcException.class, () -> client(0).execute("get", new Object[] {"a", "b"}));
        assertEquals(XmlRpcFault.INVALID_PARAMS, two.code);
        XmlRpcException notDoc = assertThrows(XmlRpcException.class, () -> client(0).execute("get", new Object[] {"not xml"}));
        assertEquals(XmlRpcFault.INVALID_PARAMS, notDoc.code);
        // OpenDHT's get still works alongside.
        Object[] res = (Object[]) client(0).execute("get", new Object[] {new byte[20], 1, new byte[0], "a"});
        assertEquals(0, ((Object[]) res[0]).length);
        assertArrayEquals(new byte[0], (byte[]) res[1]);
    }

    private static String lookupDoc(NodeId k) {
        return RecordXml.toXml(new DhtService(Namespaces.P2P_SIP, new RecordKey(null, null, Bytes.wrap(k.toBytes())), null, null));
    }

    private String lookup(int via, NodeId k) throws Exception {
        return (String) client(via).execute("lookup", new Object[] {lookupDoc(k)});
    }

    @Test
    void joinLookupLeave() throws Exception {
        NodeId host0 = ServiceDirectory.identifier(peers.get(0).keys().signingIdentity());
        NodeId host1 = ServiceDirectory.identifier(peers.get(1).keys().signingIdentity());
        String join0 = "<dhtService xmlns=\"" + Namespaces.DHT + "\"><namespace>" + Namespaces.P2P_SIP + "</namespace>"
                + "<serviceHosts><serviceHost service=\"stun\">stun:192.0.2.10:3478</serviceHost>"
                + "<serviceHost service=\"turn\">turn:192.0.2.10:3478</serviceHost></serviceHosts></dhtService>";
        // Peer 0 advertises its own STUN server (ServiceAds) under the same host key and nonce a moment after it
        // started, expiring an hour later in whole seconds like a gateway join. A join before that advertisement
        // was replaced by it (a later expiry), and one in the same second is refused as a replay: wait for the
        // advertisement, then for the next second, so the join is the later registration.
        org.p2psip.testing.Waits.until(30_000, () -> {
            try {
                return lookup(0, host0).contains("<hostIdentifier>" + host0.toHex() + "</hostIdentifier>");
            } catch (Exception e) {
                return false;
            }
        }, "peer 0's own service advertisement");
        Thread.sleep(1_100);
        String joined = (String) client(0).execute("join", new Object[] {join0});
        assertTrue(joined.contains("<hostIdentifier>" + host0.toHex() + "</hostIdentifier>") && joined.contains("stun:192.0.2.10:3478"), joined);
        // base64 in, base64 out; the short namespace name is accepted.
        String join1 = "<dhtService xmlns=\"" + Namespaces.DHT + "\"><namespace>p2p-sip</namespace><serviceHosts>"
                + "<serviceHost service=\"presence\">sip:192.0.2.11:5060</serviceHost></serviceHosts></dhtService>";
        byte[] joined1 = (byte[]) client(1).execute("join", new Object[] {join1.getBytes(StandardCharsets.UTF_8)});
        assertTrue(new String(joined1, StandardCharsets.UTF_8).contains(host1.toHex()));
        // A client with its own key registers itself with put-auth of a signed record under the service key.
        SigningIdentity carol = identity("carol");
        NodeId carolId = ServiceDirectory.identifier(carol);
        DhtRecord reg = new DhtRecord(null, ServiceDirectory.serviceKey(Namespaces.P2P_SIP), new RecordValue("v",
                Instant.now().plusSeconds(600).truncatedTo(ChronoUnit.SECONDS), carolId.toHex(), null,
                new ValueContent.Service(new DhtService(Namespaces.P2P_SIP, null, carolId.toHex(),
                        List.of(new DhtService.ServiceHost("turn", "turn:192.0.2.12:3478", null))))));
        assertEquals(Boolean.TRUE, client(2).execute("put-auth", new Object[] {DraftDht.signed(reg, carol).data().utf8String()}));

        // lookup(k): the host whose identifier is the first >= k, through any gateway.
        for (int via = 0; via < 3; via++) {
            String found = lookup(via, host0);
            assertTrue(found.contains("<hostIdentifier>" + host0.toHex() + "</hostIdentifier>") && found.contains("turn:192.0.2.10:3478"), found);
            assertTrue(lookup(via, host1).contains(host1.toHex()));
            assertTrue(lookup(via, carolId).contains("turn:192.0.2.12:3478"));
        }
        // The key may be a name: its SHA-1 is looked up; some registered host always follows it on the ring.
        String byName = (String) client(2).execute("lookup", new Object[] {"<dhtService xmlns=\"" + Namespaces.DHT
                + "\"><namespace>p2p-sip</namespace><key>sip:bob@example.net</key></dhtService>"});
        assertTrue(byName.contains("<hostIdentifier>"), byName);

        // leave: true, then the host is gone from every lookup; leaving again is false.
        assertEquals(Boolean.TRUE, client(0).execute("leave", new Object[] {"<dhtService xmlns=\"" + Namespaces.DHT
                + "\"><namespace>p2p-sip</namespace><hostIdentifier>" + host0.toHex() + "</hostIdentifier></dhtService>"}));
        for (int via = 0; via < 3; via++) {
            assertTrue(!lookup(via, host0).contains(host0.toHex()), "host 0 left but is still found");
        }
        assertEquals(Boolean.FALSE, client(0).execute("leave", new Object[] {"<dhtService xmlns=\"" + Namespaces.DHT
                + "\"><namespace>p2p-sip</namespace></dhtService>"}));
        // Joining again brings it back.
        client(0).execute("join", new Object[] {join0});
        assertTrue(lookup(1, host0).contains(host0.toHex()));
    }

    @Test
    void malformedServiceCallsGetFaults() throws Exception {
        String ns = "<namespace>" + Namespaces.P2P_SIP + "</namespace>";
        String hosts = "<serviceHosts><serviceHost service=\"stun\">stun:192.0.2.10:3478</serviceHost></serviceHosts>";
        Object[][] calls = {
            {"join", "not xml"},
            {"join", "<dhtRecord xmlns=\"" + Namespaces.DHT + "\"/>"},
            {"join", 42},
            {"join", svc("<namespace>urn:example:other</namespace>" + hosts)},
            {"join", svc(hosts)},
            {"join", svc(ns)},
            {"join", svc(ns + "<serviceHosts><serviceHost>stun:192.0.2.10:3478</serviceHost></serviceHosts>")},
            {"join", svc(ns + "<hostIdentifier>" + "00".repeat(20) + "</hostIdentifier>" + hosts)},
            {"join", svc(ns + "<serviceHosts>" + "<serviceHost service=\"stun\">stun:192.0.2.10</serviceHost>".repeat(17)
                    + "</serviceHosts>")},
            {"lookup", svc(ns)},
            {"leave", svc("<namespace>urn:example:other</namespace>")},
            {"leave", "<!DOCTYPE x [<!ENTITY a \"b\">]><dhtService xmlns=\"" + Namespaces.DHT + "\">&a;</dhtService>"},
        };
        for (Object[] c : calls) {
            XmlRpcException e = assertThrows(XmlRpcException.class, () -> client(0).execute((String) c[0], new Object[] {c[1]}),
                    c[0] + " " + c[1]);
            assertEquals(XmlRpcFault.INVALID_PARAMS, e.code, c[0] + " " + c[1] + ": " + e.getMessage());
        }
        XmlRpcException two = assertThrows(XmlRpcException.class, () -> client(0).execute("lookup", new Object[] {svc(ns), svc(ns)}));
        assertEquals(XmlRpcFault.INVALID_PARAMS, two.code);
        XmlRpcException none = assertThrows(XmlRpcException.class, () -> client(0).execute("lookup", new Object[] {}));
        assertEquals(XmlRpcFault.INVALID_PARAMS, none.code);
    }

    private static String svc(String inner) {
        return "<dhtService xmlns=\"" + Namespaces.DHT + "\">" + inner + "</dhtService>";
    }
}
