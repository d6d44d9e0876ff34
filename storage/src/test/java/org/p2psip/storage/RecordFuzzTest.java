package org.p2psip.storage;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.StoragePolicy;
import org.p2psip.overlay.store.StoragePolicy.Decision;
import org.p2psip.storage.api.DraftPolicy;
import org.p2psip.storage.api.ImmutableValues;

/**
 * A bounded, seeded mutation fuzzer for the record parser and verifier (Jazzer-style, as a plain JUnit loop so it
 * needs no agent): valid records of every kind are mutated (bit flips, byte and range edits, splices between
 * records, and XML-aware edits: DOCTYPEs and entities, deep nesting, foreign algorithms, duplicated or removed
 * elements and attributes, broken base64) and fed to every entry point that takes bytes from the network. The only
 * outcomes allowed are a result or a {@link RecordException} (a refusal {@link Decision} for the policies); any other
 * exception or error fails the test with the seed, iteration and input.
 * <p>
 * Runs for {@code -Dfuzz.seconds} (default 15) with {@code -Dfuzz.seed} (default 20261126).
 */
class RecordFuzzTest {
    private static final long SECONDS = Long.getLong("fuzz.seconds", 15);
    private static final long SEED = Long.getLong("fuzz.seed", 20261126L);
    private static final Instant EXP = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);

    private static final String[] SNIPPETS = {
        "<!DOCTYPE dhtRecord [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>", "&x;", "<!ENTITY a \"aaaa\">", "&lt;", "&#0;",
        "&#x1F600;", "]]>", "<![CDATA[<key>]]>", "<?xml version=\"1.1\"?>", "<?pi x?>", "<!-- c -->", "\u0000", "\uFFFE",
        "\uD800", "é", "xmlns=\"\"", "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"", "Id=\"k\"", "Id=\"v\"", "URI=\"#k\"",
        "URI=\"http://example.com/x\"", "URI=\"\"", "URI=\"#xpointer(/)\"",
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature", "http://www.w3.org/TR/1999/REC-xslt-19991116",
        "http://www.w3.org/TR/1999/REC-xpath-19991116", "http://www.w3.org/2000/09/xmldsig#sha1",
        "http://www.w3.org/2000/09/xmldsig#dsa-sha1", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", "<HMACOutputLength>1</HMACOutputLength>",
        "expires=\"9999-12-31T23:59:59Z\"", "expires=\"2000-01-01T00:00:00\"", "expires=\"-999999999-01-01T00:00:00Z\"",
        "nonce=\"\"", "nonce=\"a b\"", "priority=\"1.0000\"", "====", "AAAA", "!!!!", "<base64>@@@</base64>",
        "<DigestValue>AA==</DigestValue>", "<X509Certificate>MIIB</X509Certificate>", "<KeyName>x</KeyName>",
        "<KeyValue><DigestValue>AA==</DigestValue></KeyValue>", "<CipherReference URI=\"file:///etc/passwd\"/>",
        "<Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"><InclusiveNamespaces PrefixList=\"#default ds\" xmlns=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></Transform>",
        "sip:", "private:a@b:", "subscribe::x@y", "certificate:bob@EXAMPLE.NET", "service:urn:ietf:params:xml:ns:p2p-sip",
    };

    private record Target(String what, Runnable run) { }

    @Test
    void mutatedRecordsAreRefusedCleanly() throws Exception {
        TestPki.Ca ca = TestPki.ca("Fuzz CA", TestPki.ec());
        KeyPair ecKeys = TestPki.ec();
        KeyPair edKeys = TestPki.ed25519();
        KeyPair x = KeyPairGenerator.getInstance("X25519").generateKeyPair();
        SigningIdentity bob = SigningIdentity.of(ecKeys, List.of(ca.issue("bob@example.net", ecKeys, TestPki.email("bob@example.net")).cert(),
                ca.cert()), "bob@example.net");
        SigningIdentity edBob = SigningIdentity.of(edKeys, List.of(ca.issue("bob@example.net", edKeys, TestPki.uri("sip:bob@example.net")).cert()), null);
        SigningIdentity bare = SigningIdentity.of(TestPki.ec(), List.of(), null);
        ResourceName aor = ResourceName.sip("bob@example.net");

        List<byte[]> seeds = new ArrayList<>();
        DhtValue contact = SignedValues.put(DhtRecord.of(aor, EXP, "n1", new ValueContent.Contacts(List.of(
                new Contact("sip:bob@192.0.2.1:5060;transport=tcp", "c1", null, "Bob", EXP, "0.7", ";+sip.instance=\"<urn:uuid:1>\"",
                        List.of("sip:192.0.2.99;lr"), "00112233445566778899aabbccddeeff00112233")))), bob);
        seeds.add(contact.data().toArray());
        seeds.add(SignedValues.put(DhtRecord.of(aor, EXP, "n2", new ValueContent.Text("sip:bob@192.0.2.2")), edBob).data().toArray());
        seeds.add(SignedValues.put(DhtRecord.of(ResourceName.offline("bob@example.net"), EXP, "m",
                RecordCrypto.encrypt("hello".getBytes(StandardCharsets.UTF_8), RecordCrypto.TYPE_OFFLINE_TEXT, x.getPublic(), "bob")), bare).data().toArray());
        seeds.add(SignedValues.put(DhtRecord.of(ResourceName.subscribe("presence", "bob@example.net"), EXP, "w",
                RecordCrypto.encryptWatchers(List.of(new Watcher("sip:bob@example.net", null, "presence", "alice@home.com", EXP)),
                        ecKeys.getPublic(), "bob")), bob).data().toArray());
        seeds.add(SignedValues.put(DhtRecord.of(ResourceName.certificate("bob@example.net"), EXP, "c",
                new ValueContent.Certificates("CN=bob@example.net", bob.chain())), bob).data().toArray());
        seeds.add(SignedValues.remove(RecordKey.of("k", aor), contact, EXP, bob).proof().toArray());
        PrivateKeyRecord.Unlocked unlocked = PrivateKeyRecord.unlock("bob@example.net", "pw".toCharArray(), new PrivateKeyRecord.KdfParams(8, 1, 1));
        seeds.add(SignedValues.put(unlocked.record(ecKeys.getPrivate(), EXP, "p"), bob).data().toArray());
        seeds.add(SignedValues.put(new DhtRecord(null, new RecordKey("k", "service:" + Namespaces.P2P_SIP, null),
                new RecordValue("v", EXP, bare.owner().hex(), null, new ValueContent.Service(new DhtService(Namespaces.P2P_SIP, null,
                        bare.owner().hex(), List.of(new DhtService.ServiceHost("stun", "stun:192.0.2.1:3478", null)))))), bare).data().toArray());
        seeds.add(RecordXml.toXml(new DhtService(Namespaces.P2P_SIP, RecordKey.of("k", aor), "h", List.of(
                new DhtService.ServiceHost("turn", "turn:192.0.2.1:3386", "t")))).getBytes(StandardCharsets.UTF_8));
        seeds.add(ImmutableValues.indexNode(List.of(ImmutableValues.keyOf(new byte[] {1}), ImmutableValues.keyOf(new byte[] {1, 2}))));

        RecordVerifier verifier = new RecordVerifier();
        SignedRecordPolicy caPolicy = SignedRecordPolicy.ca(List.of(ca.cert()), true);
        StoragePolicy draft = DraftPolicy.of(SignedRecordPolicy.tofu(NameOwners.inMemory()));
        Random rnd = new Random(SEED);
        long deadline = System.nanoTime() + SECONDS * 1_000_000_000L;
        int iterations = 0;
        int accepted = 0;
        while (System.nanoTime() < deadline) {
            byte[] seed = seeds.get(rnd.nextInt(seeds.size()));
            byte[] in = mutate(seed, seeds, rnd);
            iterations++;
            byte[] input = in;
            long now = System.currentTimeMillis();
            NodeId key = rnd.nextBoolean() ? aor.key() : NodeId.sha1(input);
            List<Target> targets = List.of(
                    new Target("RecordVerifier.verify", () -> expectRefusal(() -> verifier.verify(input))),
                    new Target("RecordXml.parseRecord", () -> expectRefusal(() -> RecordXml.parseRecord(input))),
                    new Target("RecordXml.parseService", () -> expectRefusal(() -> RecordXml.parseService(input))),
                    new Target("RecordCrypto.decrypt", () -> expectRefusal(() -> RecordCrypto.decrypt(
                            new ValueContent.Encrypted(Namespaces.TYPE_WATCHERS, new String(input, StandardCharsets.UTF_8)), x.getPrivate()))),
                    new Target("PrivateKeyRecord.open", () -> expectRefusal(() -> unlocked.open(
                            new ValueContent.Encrypted(PrivateKeyRecord.TYPE, new String(input, StandardCharsets.UTF_8))))),
                    new Target("ImmutableValues.children", () -> expectRefusal(() -> ImmutableValues.children(input))),
                    new Target("SignedExpiry.of", () -> SignedExpiry.of(input)),
                    new Target("policies", () -> {
                        if (input.length > DhtValue.MAX_DATA_BYTES) {
                            return;
                        }
                        DhtValue v = new DhtValue(bob.owner(), Bytes.utf8("n1"), Bytes.wrap(input), EXP.toEpochMilli());
                        DhtValue immut = new DhtValue(Bytes.EMPTY, Bytes.wrap(ImmutableValues.sha256(input)), Bytes.wrap(input), EXP.toEpochMilli());
                        for (StoragePolicy p : List.of(caPolicy, draft)) {
                            clean(p.checkPut(key, v, null, now));
                            clean(p.checkPut(key, v, contact, now));
                            clean(p.checkRemove(key, new StoragePolicy.RemoveRequest(key, bob.owner(), Bytes.utf8("n1"), Bytes.wrap(input)), contact, now));
                        }
                        clean(draft.checkPut(key, immut, null, now));
                    }));
            for (Target t : targets) {
                try {
                    t.run().run();
                } catch (Throwable e) {
                    java.nio.file.Path dump = java.nio.file.Path.of("target", "fuzz-failure-" + SEED + "-" + iterations + ".bin");
                    try {
                        java.nio.file.Files.write(dump, input);
                    } catch (java.io.IOException io) {
                        // the message below still names seed and iteration
                    }
                    fail(t.what() + " threw " + e + " on iteration " + iterations + " (seed " + SEED + "); input written to "
                            + dump.toAbsolutePath(), e);
                }
            }
            try {
                verifier.verify(input);
                accepted++;
            } catch (RecordException e) {
                // refused, as most mutants are
            }
        }
        System.out.printf("fuzz: %d mutated inputs in %d s (seed %d), %d still verified (mutations outside the signed parts)%n",
                iterations, SECONDS, SEED, accepted);
        assertTrue(iterations > 100, "the fuzzer ran too few iterations: " + iterations);
    }

    @FunctionalInterface
    private interface Call {
        Object call() throws RecordException;
    }

    /** A decision, and not the policies' last-resort refusal of an unexpected exception (which would be a bug). */
    private static void clean(Decision d) {
        assertNotNull(d);
        assertTrue(d.accepted() || !d.reason().contains("internal error"), d.reason());
    }

    private static void expectRefusal(Call c) {
        try {
            c.call();
        } catch (RecordException e) {
            assertNotNull(e.code());
        }
    }

    static byte[] mutate(byte[] seed, List<byte[]> seeds, Random rnd) {
        byte[] b = seed.clone();
        int rounds = 1 + rnd.nextInt(4);
        for (int r = 0; r < rounds; r++) {
            b = mutateOnce(b, seeds, rnd);
        }
        return b;
    }

    private static byte[] mutateOnce(byte[] b, List<byte[]> seeds, Random rnd) {
        int n = b.length;
        int at = n == 0 ? 0 : rnd.nextInt(n);
        switch (rnd.nextInt(13)) {
            case 0: // bit flip
                if (n > 0) {
                    b[at] ^= (byte) (1 << rnd.nextInt(8));
                }
                return b;
            case 1: // random byte
                if (n > 0) {
                    b[at] = (byte) rnd.nextInt(256);
                }
                return b;
            case 2: { // delete a range
                int len = Math.min(n - at, 1 + rnd.nextInt(64));
                return concat(slice(b, 0, at), slice(b, at + len, n));
            }
            case 3: { // duplicate a range
                int len = Math.min(n - at, 1 + rnd.nextInt(256));
                return concat(slice(b, 0, at + len), slice(b, at, n));
            }
            case 4: // truncate
                return slice(b, 0, at);
            case 5: { // splice from another record
                byte[] o = seeds.get(rnd.nextInt(seeds.size()));
                int from = rnd.nextInt(Math.max(1, o.length));
                int len = Math.min(o.length - from, 1 + rnd.nextInt(512));
                return concat(concat(slice(b, 0, at), slice(o, from, from + len)), slice(b, at, n));
            }
            case 6: // insert a snippet
                return concat(concat(slice(b, 0, at), SNIPPETS[rnd.nextInt(SNIPPETS.length)].getBytes(StandardCharsets.UTF_8)), slice(b, at, n));
            case 7: { // replace an attribute value or text between quotes/tags with a snippet
                String s = new String(b, StandardCharsets.UTF_8);
                int q = s.indexOf('"', Math.min(at, s.length()));
                int e = q < 0 ? -1 : s.indexOf('"', q + 1);
                if (e < 0) {
                    return b;
                }
                String snippet = SNIPPETS[rnd.nextInt(SNIPPETS.length)].replace("\"", "'");
                return (s.substring(0, q + 1) + snippet + s.substring(e)).getBytes(StandardCharsets.UTF_8);
            }
            case 11: { // a snippet as element text (base64 values, names, URIs)
                String s = new String(b, StandardCharsets.UTF_8);
                int gt = s.indexOf('>', Math.min(at, s.length()));
                return gt < 0 ? b : (s.substring(0, gt + 1) + SNIPPETS[rnd.nextInt(SNIPPETS.length)] + s.substring(gt + 1))
                        .getBytes(StandardCharsets.UTF_8);
            }
            case 8: { // deep nesting
                int depth = 1 + rnd.nextInt(200);
                String open = "<value>".repeat(depth);
                String close = "</value>".repeat(depth);
                return concat(concat(slice(b, 0, at), (open + close).getBytes(StandardCharsets.UTF_8)), slice(b, at, n));
            }
            case 9: { // remove one element (from a '<' to the next '>' ... its end tag, roughly)
                String s = new String(b, StandardCharsets.UTF_8);
                int lt = s.indexOf('<', Math.min(at, s.length()));
                int gt = lt < 0 ? -1 : s.indexOf('>', lt);
                return gt < 0 ? b : (s.substring(0, lt) + s.substring(gt + 1)).getBytes(StandardCharsets.UTF_8);
            }
            case 10: { // many attributes
                StringBuilder attrs = new StringBuilder();
                for (int i = 0; i < 1 + rnd.nextInt(40); i++) {
                    attrs.append(" a").append(i).append("=\"x\"");
                }
                String s = new String(b, StandardCharsets.UTF_8);
                int gt = s.indexOf('>', Math.min(at, s.length()));
                return gt < 0 ? b : (s.substring(0, gt) + attrs + s.substring(gt)).getBytes(StandardCharsets.UTF_8);
            }
            case 12:
            default: { // blow up the size
                int len = Math.min(n - at, 1 + rnd.nextInt(64));
                byte[] piece = slice(b, at, at + len);
                byte[] out = b;
                for (int i = 0; i < 1 + rnd.nextInt(2048) && out.length < 200_000; i++) {
                    out = concat(out, piece);
                }
                return out;
            }
        }
    }

    private static byte[] slice(byte[] b, int from, int to) {
        return java.util.Arrays.copyOfRange(b, Math.max(0, Math.min(from, b.length)), Math.max(0, Math.min(to, b.length)));
    }

    private static byte[] concat(byte[] a, byte[] c) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + c.length);
        System.arraycopy(c, 0, out, a.length, c.length);
        return out;
    }
}
