package org.p2psip.storage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.StoragePolicy;
import org.p2psip.overlay.store.ValueStore;
import org.p2psip.overlay.wire.Message.Status;

/**
 * Sign, verify and store a contact record (issue 3's benchmark), one thread. Each {@code store*} operation is what a
 * storing node does for a REGISTER arriving from the network (each record is another user's, under its own key): parse, schema-validate and XML-DSig-verify a
 * <em>fresh</em> signed record (a new nonce and expiry each time; a pool of records is signed in setup and cycled,
 * and the store is replaced when the pool wraps, so every operation verifies a record the store has not seen), check
 * the certificate and entitlement, and store it.
 * <ul>
 * <li>{@code storeVerified}: the overlay's in-memory {@code ValueStore} with {@link SignedRecordPolicy};</li>
 * <li>{@code storeVerifiedPersistent}: {@link RecordStore} (H2 MVStore), one thread waiting for each put's
 * commit, i.e. a commit per write;</li>
 * <li>{@code storeVerifiedPersistentGroup}: {@link RecordStore#putAsync}, one thread with up to {@value #WINDOW}
 * writes in flight as a storing node acknowledging each write only once durable would have, so writes share group
 * commits (the committer thread's CPU is in the process figure below);</li>
 * <li>{@code verify}: {@link RecordVerifier} alone; {@code sign}: {@link RecordSigner}, the writer's side;</li>
 * <li>{@code refreshHeld}: a refresh chain's refresh ({@link RefreshChain}, {@link SignedValues#refresh}) of a record the
 * in-memory {@code ValueStore} holds: {@value #CHAINED} chained records (N = {@value #CHAIN_LENGTH}, d = 1 s) are
 * stored in setup and refreshed in turn, token j+1 after token j, so each operation is the storing node's check by
 * hashing (one link) and the store's replace; tokens are precomputed (the writer's side is not measured).</li>
 * </ul>
 * Parameters: {@code alg} = ed25519 | p256 (the writer's key), {@code mode} = tofu (a self-signed certificate) | ca
 * (a leaf certificate issued by the overlay's CA, chain of one plus the anchor).
 * <p>
 * Besides JMH's wall-clock score, each iteration prints {@code [cpu]} lines: operations per CPU-second of the
 * benchmark thread (ThreadMXBean), which is "per core" even when other processes share the machine, per CPU-second of
 * the benchmark thread plus the store's committer thread (the work of a persistent store), and per CPU-second of the
 * whole JVM (every thread: the committer, GC, JIT, JMH), the conservative figure; the trial ends
 * with a {@code [cpu-summary]} over the measurement iterations.
 * <p>
 * Run (see README): {@code java -cp <test classpath> org.p2psip.storage.RecordBench [jmh options]}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
@Threads(1)
public class RecordBench {
    private static final int POOL = 4096;
    /** Writes in flight in {@code storeVerifiedPersistentGroup}. */
    static final int WINDOW = 64;

    /** Records refreshed in turn by {@code refreshHeld}, and the length of their chains. */
    static final int CHAINED = 256;
    static final int CHAIN_LENGTH = 3_600;

    @Param({"ed25519", "p256"})
    public String alg;

    @Param({"ca", "tofu"})
    public String mode;

    private final List<DhtValue> pool = new ArrayList<>();
    /** The DHT key of each pooled value: each is another user's AOR, as REGISTERs of many users would be. */
    private final List<NodeId> keys = new ArrayList<>();
    private NodeId key;
    private SignedRecordPolicy policy;
    private ValueStore store;
    private RecordStore persistent;
    private Path dir;
    private Path persistentFile;
    private int next;
    private SigningIdentity writer;
    private DhtRecord template;
    private RecordVerifier verifier = new RecordVerifier();
    private TestPki.Ca ca;
    private long now;
    private static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    private final java.util.ArrayDeque<java.util.concurrent.CompletableFuture<ValueStore.Outcome>> inFlight = new java.util.ArrayDeque<>();
    private long ops;
    private long cpuStart;
    private long processCpuStart;
    private long measuredOps;
    private long measuredCpuNanos;
    private long measuredProcessCpuNanos;
    /** CPU time of committer threads of stores already closed in this iteration. */
    private long closedCommitterNanos;
    private long committerStart;
    private long measuredWorkCpuNanos;
    private ValueStore refreshStore;
    private final List<DhtValue> chained = new ArrayList<>();
    private final List<NodeId> chainedKeys = new ArrayList<>();
    private byte[][][] tokens;
    private int refreshNext;

    @Setup(Level.Iteration)
    public void startCpu() {
        ops = 0;
        cpuStart = MX.getCurrentThreadCpuTime();
        processCpuStart = OS.getProcessCpuTime();
        closedCommitterNanos = 0;
        committerStart = committerCpu();
    }

    /** CPU time of the current persistent store's committer thread so far. */
    private long committerCpu() {
        Thread t = persistent == null ? null : persistent.committerThread();
        long n = t == null ? -1 : MX.getThreadCpuTime(t.getId());
        return Math.max(n, 0);
    }

    @TearDown(Level.Iteration)
    public void stopCpu(BenchmarkParams bp, IterationParams ip) throws Exception {
        drain(); // every counted write is durable
        long cpu = MX.getCurrentThreadCpuTime() - cpuStart;
        long processCpu = OS.getProcessCpuTime() - processCpuStart;
        long work = cpu + closedCommitterNanos + committerCpu() - committerStart;
        if (ip.getType() == IterationType.MEASUREMENT) {
            measuredOps += ops;
            measuredCpuNanos += cpu;
            measuredProcessCpuNanos += processCpu;
            measuredWorkCpuNanos += work;
        }
        System.out.printf("[cpu] %s %s: %.0f ops per CPU-second of the thread, %.0f of thread + committer, %.0f of the JVM%n",
                shortName(bp), ip.getType(), ops * 1e9 / cpu, ops * 1e9 / work, ops * 1e9 / processCpu);
    }

    @TearDown(Level.Trial)
    public void cpuSummary(BenchmarkParams bp) {
        if (measuredCpuNanos > 0) {
            System.out.printf("[cpu-summary] %s: %.0f ops per CPU-second of the thread, %.0f of thread + committer, %.0f of the JVM"
                    + " (%d ops, %.1f / %.1f / %.1f CPU-s)%n", shortName(bp), measuredOps * 1e9 / measuredCpuNanos,
                    measuredOps * 1e9 / measuredWorkCpuNanos, measuredOps * 1e9 / measuredProcessCpuNanos, measuredOps,
                    measuredCpuNanos / 1e9, measuredWorkCpuNanos / 1e9, measuredProcessCpuNanos / 1e9);
        }
    }

    private void drain() throws Exception {
        while (!inFlight.isEmpty()) {
            ok(inFlight.poll().get());
        }
    }

    private static void ok(ValueStore.Outcome o) {
        if (!o.status().ok()) {
            throw new IllegalStateException(o.reason());
        }
    }

    private String shortName(BenchmarkParams bp) {
        String b = bp.getBenchmark();
        return b.substring(b.lastIndexOf('.') + 1) + " alg=" + alg + " mode=" + mode;
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        ca = TestPki.ca("Bench CA", TestPki.ec());
        KeyPair kp = "ed25519".equals(alg) ? TestPki.ed25519() : TestPki.ec();
        String user = "bob@example.net";
        // ca: a domain certificate (dNSName), which may write every user of example.net, as a domain's proxy would
        writer = "ca".equals(mode)
                ? SigningIdentity.of(kp, List.of(ca.issue("proxy.example.net", kp, TestPki.dns("example.net")).cert()), "proxy.example.net")
                : SigningIdentity.of(kp, List.of(TestPki.selfSigned(user, kp).cert()), user);
        policy = newPolicy();
        ResourceName aor = ResourceName.sip(user);
        key = aor.key();
        Instant base = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);
        for (int i = 0; i < POOL; i++) {
            ResourceName u = ResourceName.sip("user" + i + "@example.net");
            pool.add(SignedValues.put(contact(u, base.plusSeconds(i), "phone-" + i), writer));
            keys.add(u.key());
        }
        template = contact(aor, base, "template");
        tokens = new byte[CHAINED][][];
        java.security.SecureRandom random = new java.security.SecureRandom();
        for (int i = 0; i < CHAINED; i++) {
            ResourceName u = ResourceName.sip("chained" + i + "@example.net");
            byte[] seed = new byte[RefreshChain.TOKEN_BYTES];
            random.nextBytes(seed);
            RefreshChain chain = RefreshChain.fromSeed(seed, CHAIN_LENGTH, 1);
            DhtRecord r = contact(u, base.plusSeconds(i), "chained-" + i);
            chained.add(SignedValues.put(new DhtRecord(r.id(), r.key(), r.value().withChain(chain.params())), writer));
            chainedKeys.add(u.key());
            byte[][] t = new byte[CHAIN_LENGTH + 1][];
            byte[] x = seed;
            for (int k = 0; k <= CHAIN_LENGTH; k++) { // token j = H^(N-j)(seed)
                t[CHAIN_LENGTH - k] = x;
                x = RefreshChain.hash(x, 1);
            }
            tokens[i] = t;
        }
        now = System.currentTimeMillis();
        store = newStore();
        dir = Files.createTempDirectory("recordbench");
        persistentFile = dir.resolve("records.mv");
        persistent = RecordStore.open(persistentFile, persistentOptions(), policy);
    }

    static DhtRecord contact(ResourceName aor, Instant expires, String nonce) {
        return DhtRecord.of(aor, expires, nonce, new ValueContent.Contacts(List.of(new Contact(
                "sip:bob@192.0.2.4:5060;transport=tcp;ob", null, null, "Bob", null, "0.7",
                ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-0011aabbccdd>\";reg-id=1",
                List.of("sip:192.0.2.99:5060;lr"), "00112233445566778899aabbccddeeff00112233"))));
    }

    /** The defaults (a commit per write), with room for the whole pool. */
    private static RecordStore.Options persistentOptions() {
        RecordStore.Options d = RecordStore.Options.defaults();
        return new RecordStore.Options(d.maxBytes(), 64L << 20, POOL + 1, d.maxTtlMillis(), d.commitEachWrite(), d.cacheMegabytes());
    }

    /**
     * A fresh policy (its verifier's cache of accepted documents is empty): the pool is as large as that cache, so a
     * verifier that had seen the whole pool would answer every later record from it, measuring a hash, not a verification.
     */
    private SignedRecordPolicy newPolicy() {
        return "ca".equals(mode) ? SignedRecordPolicy.ca(List.of(ca.cert()), false) : SignedRecordPolicy.tofu(NameOwners.inMemory());
    }

    private ValueStore newStore() {
        return new ValueStore(policy, 1L << 30, 1L << 30, POOL + 1, 7L * 24 * 3600 * 1000);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        persistent.close();
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private DhtValue nextValue(boolean rotateMemory) {
        if (next == POOL) {
            next = 0;
            policy = newPolicy();
            verifier = new RecordVerifier();
            if (rotateMemory) {
                store = newStore();
            }
        }
        key = keys.get(next);
        return pool.get(next++);
    }

    @Benchmark
    public Status storeVerified() {
        ops++;
        DhtValue v = nextValue(true); // sets key
        ValueStore.Outcome o = store.put(key, v, "peer", now);
        if (!o.status().ok()) {
            throw new IllegalStateException(o.reason());
        }
        return o.status();
    }

    @Benchmark
    public Status storeVerifiedPersistent() throws Exception {
        ops++;
        DhtValue v = nextPersistentValue();
        ValueStore.Outcome o = persistent.put(key, v, now);
        ok(o);
        return o.status();
    }

    @Benchmark
    public Status storeVerifiedPersistentGroup() throws Exception {
        ops++;
        DhtValue v = nextPersistentValue();
        inFlight.add(persistent.putAsync(key, v, now));
        while (inFlight.size() > WINDOW || inFlight.peek().isDone()) {
            ok(inFlight.poll().get());
            if (inFlight.isEmpty()) {
                break;
            }
        }
        return Status.OK;
    }

    /** The next pooled value; a new store file when the pool wraps, so no write meets a value the store has seen. */
    private DhtValue nextPersistentValue() throws Exception {
        DhtValue v = nextValue(false);
        if (next == 1) {
            drain();
            long before = committerCpu();
            persistent.close();
            closedCommitterNanos += before - (committerStart > 0 ? committerStart : 0);
            committerStart = 0;
            Files.deleteIfExists(persistentFile);
            persistentFile = dir.resolve("records-" + System.nanoTime() + ".mv");
            persistent = RecordStore.open(persistentFile, persistentOptions(), policy);
            committerStart = committerCpu();
        }
        return v;
    }

    @Benchmark
    public VerifiedRecord verify() throws RecordException {
        ops++;
        return verifier.verify(nextValue(false).data().unsafeArray());
    }

    /** A refresh (token j+1 of a held record) checked by hashing and stored; see the class comment. */
    @Benchmark
    public Status refreshHeld() {
        ops++;
        if (refreshStore == null || refreshNext == CHAINED * CHAIN_LENGTH) {
            refreshStore = newStore();
            for (int i = 0; i < CHAINED; i++) {
                ok(refreshStore.put(chainedKeys.get(i), chained.get(i), "bench", now));
            }
            refreshNext = 0;
        }
        int r = refreshNext % CHAINED;
        int j = refreshNext / CHAINED + 1;
        refreshNext++;
        DhtValue signed = chained.get(r);
        DhtValue v = new DhtValue(signed.owner(), signed.nonce(), org.p2psip.overlay.Bytes.wrap(
                RefreshTrailer.append(signed.data().unsafeArray(), j, tokens[r][j])), signed.expiresAtMillis() + j * 1000L);
        ValueStore.Outcome o = refreshStore.put(chainedKeys.get(r), v, "bench", now);
        ok(o);
        return o.status();
    }

    @Benchmark
    public byte[] sign() throws Exception {
        ops++;
        return RecordSigner.sign(template, writer);
    }

    /** Runs the benchmarks; arguments are JMH's (e.g. a regex of benchmarks, {@code -p alg=ed25519}, {@code -f 0}). */
    public static void main(String[] args) throws Exception {
        if (args.length > 0) {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        Options o = new OptionsBuilder().include(RecordBench.class.getName()).build();
        new Runner(o).run();
    }
}
