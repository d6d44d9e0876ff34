package org.p2psip.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.StoragePolicy;
import org.p2psip.overlay.store.ValueStore;
import org.p2psip.overlay.wire.Message.Status;

class RecordStoreTest {
    static final StoragePolicy ACCEPT_ALL = new StoragePolicy() {
        @Override
        public Decision checkPut(NodeId key, DhtValue value, DhtValue existing, long nowMillis) {
            return Decision.ACCEPT;
        }

        @Override
        public Decision checkRemove(NodeId key, RemoveRequest request, DhtValue existing, long nowMillis) {
            return Decision.ACCEPT;
        }
    };
    private static final ResourceName BOB = ResourceName.sip("bob@example.net");
    private static final long HOUR = 3_600_000L;

    private static SigningIdentity selfSigned(String user) {
        KeyPair kp = TestPki.ed25519();
        return SigningIdentity.of(kp, List.of(TestPki.selfSigned(user, kp).cert()), user);
    }

    private static DhtValue v(int owner, String nonce, int size, long exp) {
        return new DhtValue(Bytes.wrap(new byte[] {(byte) owner}), Bytes.utf8(nonce), Bytes.wrap(new byte[size]), exp);
    }

    @Test
    void aRestartKeepsRecordsTombstonesAndTofuClaims(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("records.mv");
        SigningIdentity bob = selfSigned("bob@example.net");
        Instant exp = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);
        DhtValue contact = SignedValues.put(DhtRecord.of(BOB, exp, "n1", new ValueContent.Contacts(List.of(Contact.of("sip:bob@10.0.0.1")))), bob);
        DhtValue gone = SignedValues.put(DhtRecord.of(BOB, exp, "n2", new ValueContent.Contacts(List.of(Contact.of("sip:bob@10.0.0.2")))), bob);
        long now = System.currentTimeMillis();
        try (RecordStore s = RecordStore.open(file, RecordStore.Options.defaults(), st -> SignedRecordPolicy.tofu(st.nameOwners()))) {
            assertEquals(Status.OK, s.put(BOB.key(), contact, now).status());
            assertEquals(Status.OK, s.put(BOB.key(), gone, now).status());
            assertEquals(Status.OK, s.remove(SignedValues.remove(RecordKey.of("k", BOB), gone, exp, bob), now + HOUR, now).status());
        }
        try (RecordStore s = RecordStore.open(file, RecordStore.Options.defaults(), st -> SignedRecordPolicy.tofu(st.nameOwners()))) {
            assertEquals(List.of(contact), s.get(BOB.key(), now));
            assertEquals(1, s.valueCount());
            assertEquals(contact.footprint(), s.bytes());
            // the tombstone survived: the removed value cannot come back
            assertEquals(Status.REFUSED, s.put(BOB.key(), gone, now).status());
            // the TOFU claim survived: another key cannot take bob over
            SigningIdentity mallory = selfSigned("bob@example.net");
            String reason = s.put(BOB.key(), SignedValues.put(DhtRecord.of(BOB, exp, "m", new ValueContent.Text("x")), mallory), now).reason();
            assertTrue(reason.startsWith("NOT_ENTITLED: takeover refused"), reason);
            // once the tombstone is past, a sweep drops it (and the expired values) and the value may come back
            s.sweep(now + 2 * HOUR + 7L * 24 * HOUR, (k, v) -> { });
            assertEquals(Status.OK, s.put(BOB.key(), gone, now).status(), "the tombstone was swept");
        }
    }

    @Test
    void expiredValuesAreSweptAndNotReturned(@TempDir Path dir) {
        long now = 1_000_000_000_000L;
        try (RecordStore s = RecordStore.open(dir.resolve("r.mv"), RecordStore.Options.defaults(), ACCEPT_ALL)) {
            NodeId k = NodeId.ofName("sip:a@b");
            assertEquals(Status.OK, s.put(k, v(1, "short", 10, now + 1000), now).status());
            assertEquals(Status.OK, s.put(k, v(1, "long", 10, now + HOUR), now).status());
            assertEquals(Status.REFUSED, s.put(k, v(1, "dead", 10, now - 1), now).status());
            assertEquals(2, s.get(k, now).size());
            assertEquals(1, s.get(k, now + 2000).size(), "an expired value is not returned even before the sweep");
            List<DhtValue> expired = new ArrayList<>();
            assertEquals(1, s.sweep(now + 2000, (key, val) -> expired.add(val)));
            assertEquals("short", expired.get(0).nonce().utf8String());
            assertEquals(1, s.valueCount());
            // the max TTL clamps a far expiry
            DhtValue far = v(2, "far", 10, now + 365L * 24 * HOUR);
            assertEquals(now + 7L * 24 * HOUR, s.put(k, far, now).value().expiresAtMillis());
        }
    }

    @Test
    void concurrentWritersShareGroupCommitsAndEachIsDurableWhenAcknowledged(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("group.mv");
        int threads = 8;
        int each = 150;
        long now = System.currentTimeMillis();
        long commits;
        try (RecordStore s = RecordStore.open(file, RecordStore.Options.defaults(), ACCEPT_ALL)) {
            List<Thread> ts = new ArrayList<>();
            List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < threads; t++) {
                int first = t;
                Thread th = new Thread(() -> {
                    for (int i = first; i < threads * each; i += threads) {
                        Status st = s.put(CrashWriter.key(i), CrashWriter.value(i), now).status();
                        if (st != Status.OK) {
                            failures.add(i + " " + st);
                        }
                    }
                });
                th.start();
                ts.add(th);
            }
            for (Thread th : ts) {
                th.join(60_000);
            }
            assertEquals(List.of(), failures);
            commits = s.commitCount();
            System.out.printf("group commit: %d writes of %d threads in %d commits%n", threads * each, threads, commits);
            assertTrue(commits < threads * each, "concurrent writes shared commits (" + commits + " commits)");
            // and a single thread with writes in flight: acknowledgements come from the committer, in order
            List<java.util.concurrent.CompletableFuture<ValueStore.Outcome>> inFlight = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                inFlight.add(s.putAsync(CrashWriter.key(10_000 + i), CrashWriter.value(10_000 + i), now));
            }
            for (var f : inFlight) {
                assertEquals(Status.OK, f.get(60, TimeUnit.SECONDS).status());
            }
        }
        try (RecordStore s = RecordStore.open(file, RecordStore.Options.defaults(), ACCEPT_ALL)) {
            assertEquals(threads * each + 500, s.valueCount());
        }
    }

    /**
     * The policy runs outside the store's lock; a write applies only if the value it was checked against is still
     * the stored one. Eight threads race to refresh one value with a policy that takes only later expiries: the
     * latest expiry ends up stored, and no write went through against a value it was not checked against.
     */
    @Test
    void concurrentRefreshesOfOneValueAreCheckedAgainstWhatTheyReplace(@TempDir Path dir) throws Exception {
        long now = 1_000_000_000_000L;
        java.util.concurrent.atomic.AtomicInteger stale = new java.util.concurrent.atomic.AtomicInteger();
        StoragePolicy laterOnly = new StoragePolicy() {
            @Override
            public Decision checkPut(NodeId key, DhtValue value, DhtValue existing, long nowMillis) {
                Thread.yield(); // widen the window between the check and the write
                return existing == null || value.expiresAtMillis() > existing.expiresAtMillis()
                        ? Decision.ACCEPT : Decision.refuse("REPLAY: not later");
            }

            @Override
            public Decision checkRemove(NodeId key, RemoveRequest request, DhtValue existing, long nowMillis) {
                return Decision.ACCEPT;
            }
        };
        NodeId k = NodeId.ofName("sip:race@example.net");
        try (RecordStore s = RecordStore.open(dir.resolve("race.mv"), RecordStore.Options.defaults(), laterOnly)) {
            List<Thread> ts = new ArrayList<>();
            List<Long> applied = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < 8; t++) {
                int first = t;
                Thread th = new Thread(() -> {
                    for (int i = first; i < 400; i += 8) {
                        ValueStore.Outcome o;
                        do { // AGAIN (raced too often) asks the writer to retry, as a real one would
                            o = s.put(k, v(1, "same", 100, now + HOUR + i), now);
                        } while (o.status() == Status.AGAIN);
                        if (o.status() == Status.OK && o.changed()) {
                            applied.add((long) i);
                        } else if (o.status() != Status.REFUSED) {
                            stale.incrementAndGet();
                        }
                    }
                });
                th.start();
                ts.add(th);
            }
            for (Thread th : ts) {
                th.join(60_000);
            }
            assertEquals(0, stale.get());
            assertEquals(List.of(now + HOUR + 399), s.get(k, now).stream().map(DhtValue::expiresAtMillis).toList());
            assertEquals(1, s.valueCount());
            assertEquals(s.get(k, now).get(0).footprint(), s.bytes(), "byte accounting saw one value");
        }
    }

    /**
     * The store clamps a far expiry to its max TTL before the policy sees the value; a replay of an older signed
     * record, or of a removed one, must still be refused by the signed expiry, not let in by a later clamp.
     */
    @Test
    void clampedExpiriesDoNotOpenTheDoorToReplays(@TempDir Path dir) throws Exception {
        SigningIdentity bob = selfSigned("bob@example.net");
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        long t1 = now.toEpochMilli();
        RecordStore.Options o = new RecordStore.Options(1 << 24, 1 << 22, 64, HOUR, true, 4);
        DhtValue older = SignedValues.put(DhtRecord.of(BOB, now.plus(Duration.ofDays(2)), "n1",
                new ValueContent.Contacts(List.of(Contact.of("sip:bob@192.0.2.1")))), bob);
        DhtValue newer = SignedValues.put(DhtRecord.of(BOB, now.plus(Duration.ofDays(3)), "n1",
                new ValueContent.Contacts(List.of(Contact.of("sip:bob@192.0.2.2")))), bob);
        DhtValue removed = SignedValues.put(DhtRecord.of(BOB, now.plus(Duration.ofDays(3)), "n2",
                new ValueContent.Contacts(List.of(Contact.of("sip:bob@192.0.2.3")))), bob);
        try (RecordStore s = RecordStore.open(dir.resolve("clamp.mv"), o, st -> SignedRecordPolicy.tofu(st.nameOwners()))) {
            ValueStore.Outcome first = s.put(BOB.key(), newer, t1);
            assertEquals(Status.OK, first.status(), first.reason());
            assertEquals(t1 + HOUR, first.value().expiresAtMillis(), "clamped to the max TTL");
            // half an hour later the older record would clamp to a later expiry than the stored one
            ValueStore.Outcome replay = s.put(BOB.key(), older, t1 + HOUR / 2);
            assertEquals(Status.REFUSED, replay.status());
            assertTrue(replay.reason().startsWith("REPLAY"), replay.reason());

            ValueStore.Outcome put = s.put(BOB.key(), removed, t1);
            assertEquals(Status.OK, put.status(), put.reason());
            // the remover only knows the clamped expiry
            Instant clamped = Instant.ofEpochMilli(put.value().expiresAtMillis());
            ValueStore.Outcome rm = s.remove(SignedValues.remove(RecordKey.of("k", BOB), put.value(), clamped, bob), clamped.toEpochMilli(), t1);
            assertEquals(Status.OK, rm.status(), rm.reason());
            // two hours later: past the max TTL, still before the removed record's signed expiry
            ValueStore.Outcome back = s.put(BOB.key(), removed, t1 + 2 * HOUR);
            assertEquals(Status.REFUSED, back.status());
            assertTrue(back.reason().startsWith("REPLAY"), back.reason());
        }
    }

    @Test
    void quotasPerStorePerWriterAndPerKey(@TempDir Path dir) {
        long now = 1_000_000_000_000L;
        RecordStore.Options o = new RecordStore.Options(3500, 1500, 3, 7L * 24 * HOUR, true, 4);
        try (RecordStore s = RecordStore.open(dir.resolve("q.mv"), o, ACCEPT_ALL)) {
            NodeId k1 = NodeId.ofName("sip:a@b");
            assertEquals(Status.OK, s.put(k1, v(1, "a", 600, now + HOUR), now).status());
            assertEquals(Status.OK, s.put(k1, v(1, "b", 600, now + HOUR), now).status());
            assertEquals(Status.CAPACITY, s.put(k1, v(1, "c", 600, now + HOUR), now).status(), "writer 1 is over its share");
            assertEquals(Status.OK, s.put(k1, v(2, "a", 600, now + HOUR), now).status());
            assertEquals(Status.CAPACITY, s.put(k1, v(3, "a", 10, now + HOUR), now).status(), "the key holds 3 values");
            NodeId k2 = NodeId.ofName("sip:c@d");
            assertEquals(Status.OK, s.put(k2, v(3, "a", 600, now + HOUR), now).status());
            assertEquals(Status.OK, s.put(k2, v(4, "a", 600, now + HOUR), now).status());
            assertEquals(Status.CAPACITY, s.put(k2, v(5, "a", 600, now + HOUR), now).status(), "the store is full");
            assertTrue(s.bytes() <= 3500);
            // a refresh of the same size is no growth and passes
            assertEquals(Status.OK, s.put(k2, v(4, "a", 600, now + 2 * HOUR), now).status());
        }
    }

    /** 5,000 values of 4 KiB (20 MiB) through a store in a JVM with a 16 MiB heap: memory does not grow with the data. */
    @Test
    void memoryStaysBoundedWhileTheStoreHoldsMoreThanTheHeap(@TempDir Path dir) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx16m", "-cp", System.getProperty("java.class.path"), CrashWriter.class.getName(),
                dir.resolve("fill.mv").toString(), "fill", "5000").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the filling JVM finished");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("FILLED 5000 "), out);
    }

    /**
     * A child JVM writes until it is killed with SIGKILL after 1,500 acknowledgements; every acknowledged write must
     * be there after reopening. Modes: one thread waiting for each put, four threads sharing group commits, one
     * thread with many writes in flight acknowledged by the committer.
     */
    @ParameterizedTest
    @ValueSource(strings = {"sync", "threads", "async"})
    void killMinus9InTheMiddleOfWritesLosesNoAcknowledgedWrite(String mode, @TempDir Path dir) throws Exception {
        Path file = dir.resolve("crash.mv");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"), CrashWriter.class.getName(),
                file.toString(), mode).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Set<Integer> acked = new HashSet<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("ACK ")) {
                    acked.add(Integer.parseInt(line.substring(4)));
                    if (acked.size() >= 1500) {
                        p.destroyForcibly(); // SIGKILL on Linux, while the writer keeps writing
                        break;
                    }
                } else if (line.startsWith("FAIL")) {
                    throw new AssertionError(line);
                }
            }
        } finally {
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        assertTrue(acked.size() >= 1500, "the child wrote (" + acked.size() + " acks)");
        assertEquals(137, p.exitValue(), "killed by SIGKILL");
        try (RecordStore s = RecordStore.open(file, RecordStore.Options.defaults(), ACCEPT_ALL)) {
            for (int i : acked) {
                DhtValue want = CrashWriter.value(i);
                assertTrue(s.get(CrashWriter.key(i), System.currentTimeMillis()).contains(want), "acknowledged write " + i + " survived");
            }
            assertTrue(s.valueCount() >= acked.size());
        }
    }
}
