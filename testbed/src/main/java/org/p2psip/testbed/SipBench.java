package org.p2psip.testbed;

import io.netty.channel.EventLoopGroup;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.lang.management.ManagementFactory;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.link.UdpLinkLayer;
import org.p2psip.overlay.wire.WireCodec;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.registrar.DigestAccounts;
import org.p2psip.sip.registrar.SignedContactStore;
import org.p2psip.storage.LocallySigned;
import org.p2psip.storage.NameOwners;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.api.DraftPolicy;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench sip}: sipp against two SIP adapter peers on a 3-node overlay on 127.0.0.1 (real UDP, every node
 * running the verifying {@code DraftPolicy}). First the sustained REGISTER rate: rounds of {@code --step-seconds}
 * at a doubling offered rate (each REGISTER is digest-challenged, then stored as a signed contact record of the
 * user's key), until a round has a failure or cannot keep up; the figure is the best throughput of the rounds
 * without any failure.
 * Then INVITE→BYE calls from a caller at peer 1 to a callee registered at peer 2. Last line:
 * {@code register_per_s=X register_failed=N calls_per_s=X calls_failed=N}.
 */
@Command(name = "sip", mixinStandardHelpOptions = true,
        description = "sipp against SIP adapter peers on a 3-node overlay: sustained signed REGISTER rate, INVITE-BYE call rate.")
final class SipBench implements Callable<Integer> {
    static final String DOMAIN = "bench.test";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--users", defaultValue = "10000",
            description = "distinct users registering, one per line of sipp's injection file; the REGISTER sweeps at our"
                    + " peers offer at most this many per second, so that every REGISTER of a user comes a second or more"
                    + " after its previous one and is a new signed record (default ${DEFAULT-VALUE})")
    int users;

    @Option(names = "--start-rate", defaultValue = "250", description = "first offered REGISTER rate per second (default ${DEFAULT-VALUE})")
    int startRate;

    @Option(names = "--max-rate", defaultValue = "12800", description = "highest offered REGISTER rate (default ${DEFAULT-VALUE})")
    int maxRate;

    @Option(names = "--step-seconds", defaultValue = "5", description = "length of each REGISTER round (default ${DEFAULT-VALUE})")
    int stepSeconds;

    @Option(names = "--sustain-seconds", defaultValue = "40",
            description = "after each sweep, the best clean rate is offered again for this long, longer than the 32 s"
                    + " for which SIP transactions (Timer J) and other per-request state are kept, and only a clean run"
                    + " counts; on failures the offer drops by a quarter, at most 3 times (default ${DEFAULT-VALUE}; 0:"
                    + " the best short round counts)")
    int sustainSeconds;

    @Option(names = "--sign-every-register",
            description = "peer 1 signs every stored REGISTER with the user's key (refresh chains off), as before"
                    + " refresh chains; by default a refresh of an unchanged binding is stored as the next token of its"
                    + " record's refresh chain, checked by hashing at every replica")
    boolean signEveryRegister;

    @Option(names = "--warmup-rate", defaultValue = "200",
            description = "offered rate of the first REGISTER of each user (default ${DEFAULT-VALUE})")
    int warmupRate;

    @Option(names = "--jit-warmup-seconds", defaultValue = "120",
            description = "at most this long, REGISTER rounds of --step-seconds at --jit-warmup-rate before the timed"
                    + " rounds, not counted, until the CPU per REGISTER of two rounds in a row differs by less than 5%%,"
                    + " so that the JIT has compiled the path (default ${DEFAULT-VALUE}; 0: none)")
    int jitWarmupSeconds;

    @Option(names = "--jit-warmup-rate", defaultValue = "1000",
            description = "offered rate of that warm-up, at most --users (default ${DEFAULT-VALUE})")
    int jitWarmupRate;

    @Option(names = "--overlay-threads", defaultValue = "2",
            description = "event-loop threads shared by the 3 overlay nodes, where the storing nodes check signatures"
                    + " (default ${DEFAULT-VALUE}: one per core of the 2-core reference machine)")
    int overlayThreads;

    @Option(names = "--calls", defaultValue = "300", description = "INVITE-BYE calls (default ${DEFAULT-VALUE})")
    int calls;

    @Option(names = "--call-rate", defaultValue = "100", description = "offered call rate per second (default ${DEFAULT-VALUE})")
    int callRate;

    @Option(names = "--republish-seconds", defaultValue = "600",
            description = "the overlay's republish and re-replication interval (default ${DEFAULT-VALUE}, the"
                    + " deployment default; shorter makes the maintenance bursts of many users' records fall inside"
                    + " the REGISTER rounds and the calls)")
    int republishSeconds;

    @Option(names = "--sipp", defaultValue = "sipp", description = "the sipp binary (default ${DEFAULT-VALUE}; Debian: sip-tester)")
    String sipp;

    @Option(names = "--kamailio", defaultValue = "kamailio",
            description = "the kamailio binary of the side-by-side REGISTER reference, or 'none' (default ${DEFAULT-VALUE};"
                    + " skipped with a note when not installed; Debian: kamailio)")
    String kamailio;

    @Option(names = "--kamailio-start-rate", defaultValue = "1250",
            description = "first offered REGISTER rate against Kamailio (default ${DEFAULT-VALUE})")
    int kamailioStartRate;

    @Option(names = "--kamailio-max-rate", defaultValue = "64000",
            description = "highest offered REGISTER rate against Kamailio (default ${DEFAULT-VALUE})")
    int kamailioMaxRate;

    /** One sipp run: its counters, wall time, and the CPU time the system under test used meanwhile (ns, -1 if unknown). */
    record Run(long successful, long failed, double seconds, long cpuNanos, long storedRecords, long sippCpuNanos) {
        double perSecond() {
            return successful / Math.max(seconds, 1e-3);
        }

        /** All {@code offered} scenarios succeeded. */
        boolean clean(long offered) {
            return failed == 0 && successful == offered;
        }

        /** It delivered at least 80 % of the offered {@code rate}. */
        boolean keptUp(int rate) {
            return perSecond() >= 0.8 * rate;
        }

        /**
         * sipp's CPU per successful scenario (microseconds), and the share of one core it used over the run: sipp is
         * single-threaded, so a share near 1 means the offered rate was sipp's limit, not the registrar's.
         */
        String sippLoad() {
            if (sippCpuNanos < 0 || successful == 0) {
                return "";
            }
            return String.format(", sipp %.0f us CPU each (%.0f %% of a core)", sippCpuNanos / 1e3 / successful,
                    100.0 * sippCpuNanos / 1e9 / Math.max(seconds, 1e-3));
        }

        /** CPU microseconds of the system under test per successful scenario (sipp's own CPU not included). */
        double cpuMicrosEach() {
            return cpuNanos < 0 || successful == 0 ? Double.NaN : cpuNanos / 1e3 / successful;
        }

        /** Contact records signed and stored per second of the run (-1 when not counted: Kamailio). */
        double storesPerSecond() {
            return storedRecords < 0 ? -1 : storedRecords / Math.max(seconds, 1e-3);
        }
    }

    /** The outcome of a rate sweep: the best clean round (null if none), and the failures of the round that ended it. */
    record Sweep(Run best, long failedAtLimit, long successful) {
        double perSecond() {
            return best == null ? 0.0 : best.perSecond();
        }

        double cpuMicrosEach() {
            return best == null ? Double.NaN : best.cpuMicrosEach();
        }

        long failed() {
            return best == null ? failedAtLimit : 0;
        }
    }

    /** Per-round deltas of the overlay nodes' RPC counters (null until the nodes run). */
    private OverlayRounds rounds;
    private final ThreadCpu threadCpu = new ThreadCpu(6);
    private SocketDrops drops;

    @Override
    public Integer call() throws Exception {
        if (users < 1 || overlayThreads < 1 || startRate < 1 || jitWarmupSeconds < 0 || jitWarmupRate < 1 || warmupRate < 1
                || maxRate < startRate || stepSeconds < 1 || calls < 1 || callRate < 1
                || republishSeconds < 1 || kamailioStartRate < 1 || kamailioMaxRate < kamailioStartRate) {
            throw new CommandLine.ParameterException(spec.commandLine(), "need positive sizes and --max-rate >= --start-rate");
        }
        if (users < startRate) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--users " + users + " is below --start-rate "
                    + startRate + ": a user would register twice within a second, and the second REGISTER would not be"
                    + " a new signed record; give at least as many users as the highest rate to measure");
        }
        int ourMaxRate = Math.min(maxRate, users);
        PrintWriter out = spec.commandLine().getOut();
        String binary = which(sipp);
        Path dir = Files.createTempDirectory("bench-sip");
        for (String s : List.of("bench_register.xml", "bench_register_noauth.xml", "bench_uac_call.xml", "bench_uas_call.xml")) {
            try (InputStream in = SipBench.class.getResourceAsStream("/sipp/" + s)) {
                Files.copy(in, dir.resolve(s));
            }
        }
        Map<String, String> passwords = new HashMap<>();
        StringBuilder csv = new StringBuilder("SEQUENTIAL\n");
        for (int i = 0; i < users; i++) {
            passwords.put("user" + i, "pw" + i);
            // sipp cannot substitute fields inside [authentication ...]; the field holds the whole keyword
            csv.append("user").append(i).append(";[authentication username=user").append(i).append(" password=pw")
                    .append(i).append("]\n");
        }
        passwords.put("callee", "callee-pw");
        Files.writeString(dir.resolve("users.csv"), csv);
        Files.writeString(dir.resolve("callee.csv"),
                "SEQUENTIAL\ncallee;[authentication username=callee password=callee-pw]\n");

        // all stores come from the peers' two endpoints: the per-source quota (16 MiB) would refuse them after a few
        // thousand users (each has a certificate:, a private: and a contact record, 2 to 3 kB each, on every node)
        OverlayConfig cfg = OverlayConfig.defaults().withRateLimit(0, OverlayConfig.SourceKey.ENDPOINT)
                .withStoreQuota(1L << 30, 1L << 30);
        OverlayConfig base = cfg;
        cfg = cfg.withMaintenance(base.refreshIntervalMillis(), republishSeconds * 1000L, republishSeconds * 1000L,
                base.sweepIntervalMillis());
        // one line per created key pair would bury the figures (thousands of users)
        System.setProperty("org.slf4j.simpleLogger.log.org.p2psip.sip.identity.UserIdentities", "warn");
        EventLoopGroup group = UdpLinkLayer.newEventLoopGroup(overlayThreads);
        // the storing nodes verify records on these, as a peer does on one thread per core (OverlayNode.checkValuesOn)
        java.util.concurrent.ExecutorService recordChecks = org.p2psip.overlay.store.AheadChecks.newWorkers("record-check",
                overlayThreads);
        List<OverlayNode> nodes = new ArrayList<>();
        List<SipPeer> peers = new ArrayList<>();
        // node i's verifier and peer i's signer share what peer i signed (its local replica is not re-verified)
        List<LocallySigned> signedHere = List.of(new LocallySigned(), new LocallySigned(), new LocallySigned());
        Random rnd = new Random(1);
        try {
            for (int i = 0; i < 3; i++) {
                UdpLinkLayer link = UdpLinkLayer.bind(group, new InetSocketAddress("127.0.0.1", 0), cfg.maxDatagramBytes())
                        .get(10, TimeUnit.SECONDS);
                OverlayNode n = new OverlayNode(NodeId.random(rnd), link, cfg,
                        DraftPolicy.of(SignedRecordPolicy.tofu(NameOwners.inMemory(), signedHere.get(i))), new WireCodec(),
                        new Random(rnd.nextLong())).checkValuesOn(recordChecks).start();
                n.join(nodes.isEmpty() ? List.of() : List.of(nodes.get(0).contact().address())).get(30, TimeUnit.SECONDS);
                nodes.add(n);
            }
            rounds = new OverlayRounds(nodes);
            InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
            for (int i = 0; i < 2; i++) {
                // MD5: sipp answers only MD5 challenges. The users' private: records use a cheap Argon2id here (the
                // bench measures REGISTERs of users that have a key, not the one-off key derivation of a user's first REGISTER).
                // Peer 1 signs and stores every REGISTER (the measure); peer 2 runs the default refresh
                // policy (an early refresh of an unchanged binding is answered from the stored record).
                SipPeer.Config c = SipPeer.Config.of(any, DOMAIN, DigestAccounts.of(passwords))
                        .withAlgorithms(List.of("MD5")).withDataDir(dir.resolve("peer" + i))
                        .withKeyKdf(new PrivateKeyRecord.KdfParams(1024, 1, 1));
                peers.add(SipPeer.start(i == 0 ? c.withRefreshStoreFraction(0).withRefreshChains(!signEveryRegister)
                        : c, nodes.get(i), null, signedHere.get(i)));
            }
            out.printf("sip bench: 3 overlay nodes (DraftPolicy, tofu) and 2 SIP peers on 127.0.0.1, %d users, sipp %s;"
                    + " our sweeps offer up to %d REGISTER/s, so each user's REGISTERs are a second or more apart, and at"
                    + " peer 1 (refresh policy off) each is stored on the replicas %s%n", users, binary, ourMaxRate,
                    signEveryRegister ? "as a new signed record (--sign-every-register)"
                            : "as the next token of its record's refresh chain (a new signed record when the chain ends)");
            out.flush();

            int port = freeUdpPort();
            Map<String, Integer> socketPorts = new java.util.LinkedHashMap<>();
            for (int i = 0; i < nodes.size(); i++) {
                socketPorts.put("node " + i, nodes.get(i).contact().address().getPort());
            }
            for (int i = 0; i < peers.size(); i++) {
                socketPorts.put("peer " + (i + 1) + " SIP", peers.get(i).localAddress().getPort());
            }
            socketPorts.put("sipp", port);
            drops = new SocketDrops(socketPorts);
            warmUp(out, "warm-up (first REGISTER of each user: key pair, certificate, private: record)", binary, dir,
                    peers.get(0).localAddress().getPort(), port, "warmup");

            LongSupplier jvmCpu = SipBench::jvmCpuNanos;
            if (jitWarmupSeconds > 0) {
                jitWarmUp(out, binary, dir, peers.get(0).localAddress().getPort(), port, jvmCpu);
            }
            var opsBefore = peers.get(0).dht().map(d -> d.stats()).orElse(null);
            long answeredBefore = signedHere.get(0).answered();
            long signedBefore = signedPuts(peers.get(0));
            long tokensBefore = chainTokens(peers.get(0));
            long[] viewsBefore = views(peers.get(0));
            Sweep ours = sweep(out, "REGISTER (refresh policy off)", binary, dir, "bench_register.xml",
                    peers.get(0).localAddress().getPort(), port, startRate, ourMaxRate, jvmCpu, stores(peers.get(0)));
            long[] viewsAfter = views(peers.get(0));
            printDhtWork(out, opsBefore, peers.get(0).dht().map(d -> d.stats()).orElse(null),
                    signedHere.get(0).answered() - answeredBefore, ours.successful(),
                    viewsAfter[0] - viewsBefore[0], viewsAfter[1] - viewsBefore[1]);
            out.printf("peer 1 stored records over those rounds: %d signed, %d refresh-chain tokens%n",
                    signedPuts(peers.get(0)) - signedBefore, chainTokens(peers.get(0)) - tokensBefore);

            warmUp(out, "warm-up at peer 2 (each user's key from its private: record)", binary, dir,
                    peers.get(1).localAddress().getPort(), port, "warmup2");
            Sweep coalescing = sweep(out, "REGISTER (default refresh policy)", binary, dir, "bench_register.xml",
                    peers.get(1).localAddress().getPort(), port, startRate, ourMaxRate, jvmCpu, stores(peers.get(1)));
            out.printf("ours, refresh policy off (%s): register_per_s=%.0f stored_records_per_s=%.0f (%.2f stored records"
                    + " per REGISTER) register_failed=%d, %.0f us CPU per REGISTER%n",
                    signEveryRegister ? "every stored REGISTER signed" : "refresh chains", ours.perSecond(),
                    ours.best() == null ? 0 : ours.best().storesPerSecond(),
                    ours.best() == null || ours.best().successful() == 0 ? 0
                            : (double) ours.best().storedRecords() / ours.best().successful(),
                    ours.failed(), ours.cpuMicrosEach());
            out.printf("ours: register_per_s=%.0f register_failed=%d (%.0f us CPU each, %.0f stored records/s) with the"
                    + " refresh policy off; register_per_s=%.0f register_failed=%d (%.0f us CPU each, %.0f stored"
                    + " records/s) with the default refresh policy (fraction %.2f)%n", ours.perSecond(), ours.failed(),
                    ours.cpuMicrosEach(), ours.best() == null ? 0 : ours.best().storesPerSecond(),
                    coalescing.perSecond(), coalescing.failed(), coalescing.cpuMicrosEach(),
                    coalescing.best() == null ? 0 : coalescing.best().storesPerSecond(),
                    SignedContactStore.DEFAULT_REFRESH_STORE_FRACTION);
            out.flush();

            KamailioReference.Figures reference = new KamailioReference(kamailio, dir, out).measure(
                    (label, scenario, kamailioPort, cpu) -> sweep(out, label, binary, dir, scenario, kamailioPort,
                            freeUdpPort(), kamailioStartRate, kamailioMaxRate, cpu, () -> -1L));
            if (reference != null) {
                out.printf("kamailio register_per_s=%.0f register_failed=%d (no auth), with digest register_per_s=%.0f"
                        + " register_failed=%d%n", reference.plain().perSecond(), reference.plain().failed(),
                        reference.digest().perSecond(), reference.digest().failed());
                out.printf("ours/kamailio, REGISTER/s in this run: refresh policy off %.3f (vs no auth), %.3f (vs"
                        + " digest); default refresh policy %.3f (vs no auth), %.3f (vs digest)%n",
                        ratio(ours, reference.plain()), ratio(ours, reference.digest()),
                        ratio(coalescing, reference.plain()), ratio(coalescing, reference.digest()));
                out.printf("CPU per REGISTER (us, sipp's not counted): kamailio %.0f (no auth), %.0f (digest); ours %.0f"
                        + " (refresh policy off), %.0f (default refresh policy)%n",
                        reference.plain().cpuMicrosEach(), reference.digest().cpuMicrosEach(), ours.cpuMicrosEach(),
                        coalescing.cpuMicrosEach());
                out.flush();
            }

            int calleePort = freeUdpPort();
            int callerPort = freeUdpPort();
            Run reg = sipp(binary, dir, "bench_register.xml", peers.get(1).localAddress().getPort(), calleePort, 10, 1, "callee.csv", "callee");
            if (reg.successful() != 1) {
                throw new IllegalStateException("the callee could not register at peer 2; see " + dir);
            }
            Process callee = start(binary, dir, "bench_uas_call.xml", 0, calleePort, 1, calls, null, "uas");
            org.p2psip.sip.proxy.Proxy.Stats before = peers.get(0).proxy().stats();
            Thread.sleep(300);
            Run callsRun = sipp(binary, dir, "bench_uac_call.xml", peers.get(0).localAddress().getPort(), callerPort, callRate, calls, null, "uac",
                    "-s", "callee", "-key", "caller", "caller");
            callee.waitFor(60, TimeUnit.SECONDS);
            callee.destroy();
            out.printf("calls caller@peer1 -> callee@peer2 offered %d/s: %d ok, %d failed, %.1f s%n", callRate,
                    callsRun.successful(), callsRun.failed(), callsRun.seconds());
            org.p2psip.sip.proxy.Proxy.Stats after = peers.get(0).proxy().stats();
            // why calls failed, as the caller's peer answered them (sipp's counters say only that they did)
            out.printf("calls at peer 1: %d lookups, %d answered 404 (no contact record found), %d answered 480 (lookup"
                    + " failed or no reachable contact)%n", after.lookups() - before.lookups(),
                    after.notFound() - before.notFound(), after.unavailable() - before.unavailable());
            for (int i = 0; i < nodes.size(); i++) {
                var c = nodes.get(i).counters();
                out.printf("overlay node %d: %d RPC timeouts, %d requests dropped over the rate limit, %d refused puts,"
                        + " %d gets no node answered, %d fragment streams dropped, %d refused values no longer"
                        + " republished%n", i, c.rpcTimeouts(), c.rateLimited(), c.refusedPuts(), c.unansweredGets(),
                        c.fragmentStreamsDropped(), c.republishDropped());
            }
            // a run with failed calls or REGISTERs is no measurement: say so, and exit with 1 (the last line stays
            // the exact format)
            boolean failed = callsRun.failed() > 0 || ours.failed() > 0;
            if (failed) {
                out.printf("FAILED: %d of %d calls and %d REGISTERs of the reported round failed; see the lines above and"
                        + " sipp's output in %s%n", callsRun.failed(), calls, ours.failed(), dir);
            }
            out.printf("register_per_s=%.0f register_failed=%d calls_per_s=%.0f calls_failed=%d%n",
                    ours.perSecond(), ours.failed(), callsRun.perSecond(),
                    callsRun.failed());
            out.flush();
            return failed ? 1 : 0;
        } finally {
            peers.forEach(SipPeer::close);
            nodes.forEach(OverlayNode::close);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            recordChecks.shutdownNow();
        }
    }

    /**
     * Registers every user once at a peer before the timed rounds, so that they measure REGISTERs of users that have
     * a key, not key creation. Passes over all users (a user done in an earlier pass costs one ordinary REGISTER)
     * until one has no failure: on a loaded machine a first REGISTER can take long enough that sipp's run ends first.
     */
    private void warmUp(PrintWriter out, String label, String binary, Path dir, int remotePort, int port, String tag)
            throws Exception {
        for (int pass = 1; ; pass++) {
            Run warm = sipp(binary, dir, "bench_register.xml", remotePort, port, warmupRate, users, "users.csv",
                    tag + "-" + pass);
            out.printf("%s, pass %d: %d ok, %d failed, %.1f s%n", label, pass, warm.successful(), warm.failed(),
                    warm.seconds());
            printRound(out, warm);
            out.flush();
            if (warm.failed() == 0 && warm.successful() == users) {
                return;
            }
            if (pass == 4) {
                out.printf("warm-up incomplete after %d passes: the timed rounds include some users' first REGISTER"
                        + " (key creation); run again on a quieter machine or with a lower --warmup-rate%n", pass);
                out.flush();
                return;
            }
        }
    }

    /**
     * The DHT work behind the REGISTERs of a sweep at peer 1, per successful REGISTER: what the registrar, offline
     * delivery and presence asked of the DHT, and how many values read back needed no signature verification
     * because this process signed them (a diagnostic line; it measures nothing the figures depend on).
     */
    private static void printDhtWork(PrintWriter out, org.p2psip.storage.api.DraftDht.Stats before,
            org.p2psip.storage.api.DraftDht.Stats after, long answeredSelfSigned, long registers, long confirmed,
            long readBack) {
        if (before == null || after == null || registers == 0) {
            return;
        }
        double n = registers;
        out.printf("peer 1 DHT work per REGISTER over those rounds (%d REGISTERs): %.2f put-auth, %.2f get, %.2f"
                + " remove-auth, %.2f values read back and checked, %.2f values (stored or read back) recognised as"
                + " signed here without verification; %d 200s listed the bindings the put's replies confirmed, %d read"
                + " the AOR back%n", registers, (after.putAuths() - before.putAuths()) / n,
                (after.gets() - before.gets()) / n, (after.removes() - before.removes()) / n,
                (after.valuesChecked() - before.valuesChecked()) / n, answeredSelfSigned / n, confirmed, readBack);
        out.flush();
    }

    /** Prints what the overlay nodes' RPC counters did since the last round. */
    private void printRound(PrintWriter out) {
        if (rounds != null) {
            out.printf("  overlay this round: %s%n", rounds.next());
        }
    }

    /** As {@link #printRound(PrintWriter)}, and the busiest threads of round {@code r} (CPU per REGISTER, core share). */
    private void printRound(PrintWriter out, Run r) {
        printRound(out);
        if (drops != null) {
            String d = drops.next();
            if (!d.isEmpty()) {
                out.printf("  datagrams dropped this round at full receive buffers: %s%n", d);
            }
        }
        String busiest = threadCpu.next(r.successful(), r.seconds());
        if (!busiest.isEmpty()) {
            out.printf("  busiest threads this round (CPU per REGISTER, share of a core): %s%n", busiest);
        }
    }

    /** CPU time of this JVM: the 3 overlay nodes and both SIP peers, all the work behind a REGISTER but sipp's. */
    static long jvmCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /**
     * Contact records a peer stored so far (its store is a SignedContactStore on the overlay): signed records and
     * refresh-chain tokens, each stored on every replica.
     */
    private static LongSupplier stores(SipPeer peer) {
        return peer.contacts() instanceof SignedContactStore s ? () -> s.signedPuts() + s.chainRefreshes() : () -> -1L;
    }

    /** REGISTERs whose 200 a peer built from the put's confirmed view, and those it read back for. */
    private static long[] views(SipPeer peer) {
        return peer.contacts() instanceof SignedContactStore s ? new long[] {s.confirmedRegisters(), s.readBackRegisters()}
                : new long[] {-1, -1};
    }

    private static long signedPuts(SipPeer peer) {
        return peer.contacts() instanceof SignedContactStore s ? s.signedPuts() : -1;
    }

    private static long chainTokens(SipPeer peer) {
        return peer.contacts() instanceof SignedContactStore s ? s.chainRefreshes() : -1;
    }

    private static double ratio(Sweep ours, Sweep reference) {
        return reference.perSecond() > 0 ? ours.perSecond() / reference.perSecond() : 0.0;
    }

    /**
     * Offers {@code stepSeconds} rounds of REGISTER at a doubling rate from {@code from} up to {@code to} against the
     * registrar at 127.0.0.1:{@code remotePort}, until a round has a failure or cannot keep up (under 80 % of the offer);
     * then up to {@link #REFINE_ROUNDS} rounds halve the gap between the best clean rate and the one that was too much
     * (doubling alone lands anywhere in a factor of two below the limit, and an overloaded round delivers far less
     * than the limit, its retransmissions adding load).
     */
    private Sweep sweep(PrintWriter out, String label, String binary, Path dir, String scenario, int remotePort,
            int localPort, int from, int to, LongSupplier cpuNanos, LongSupplier stores) throws Exception {
        Run best = null;
        int bestRate = 0;
        long successful = 0;
        long failedAtLimit = 0;
        int good = 0; // the highest rate that was clean and kept up
        int tooMuch = 0;
        for (int rate = from; ; rate = Math.min(rate * 2, to)) {
            Run r = round(out, label, binary, dir, scenario, remotePort, localPort, rate, cpuNanos, stores);
            successful += r.successful();
            if (!r.clean(rate * stepSeconds)) {
                failedAtLimit = r.failed();
                tooMuch = rate;
                break;
            }
            if (best == null || r.perSecond() > best.perSecond()) {
                best = r;
                bestRate = rate;
            }
            if (!r.keptUp(rate)) {
                tooMuch = rate;
                break;
            }
            good = rate;
            if (rate == to) {
                break;
            }
        }
        for (int i = 0; i < REFINE_ROUNDS && good > 0 && tooMuch > 0; i++) {
            int rate = (good + tooMuch) / 2;
            if (rate - good < Math.max(1, good / 8)) {
                break;
            }
            Run r = round(out, label, binary, dir, scenario, remotePort, localPort, rate, cpuNanos, stores);
            successful += r.successful();
            if (r.clean(rate * stepSeconds) && r.keptUp(rate)) {
                good = rate;
                if (r.perSecond() > best.perSecond()) {
                    best = r;
                    bestRate = rate;
                }
            } else {
                tooMuch = rate;
            }
        }
        return sustain(out, label, binary, dir, scenario, remotePort, localPort, cpuNanos, stores,
                new Sweep(best, best == null ? failedAtLimit : 0, successful), bestRate);
    }

    /** Rounds that narrow the gap between the best clean rate of a sweep and the rate that was too much. */
    static final int REFINE_ROUNDS = 2;

    /** One sweep round at {@code rate}, printed. */
    private Run round(PrintWriter out, String label, String binary, Path dir, String scenario, int remotePort,
            int localPort, int rate, LongSupplier cpuNanos, LongSupplier stores) throws Exception {
        int n = rate * stepSeconds;
        Run r = sipp(binary, dir, scenario, remotePort, localPort, rate, n, "users.csv",
                label.replaceAll("[^A-Za-z0-9]", "") + rate, cpuNanos, stores);
        boolean clean = r.clean(n);
        printRun(out, label, rate, stepSeconds, r,
                clean && r.keptUp(rate) ? "" : clean ? " (could not keep up)" : " (failures)", stores);
        return r;
    }

    /** The line of one sipp run ({@code what} offered {@code rate}/s for {@code seconds} s), and the round's lines. */
    private void printRun(PrintWriter out, String what, int rate, int seconds, Run r, String verdict,
            LongSupplier stores) {
        out.printf("%s offered %d/s for %d s: %d ok, %d failed, %.1f s, %.0f/s, %.0f us CPU each%s%s%s%n", what,
                rate, seconds, r.successful(), r.failed(), r.seconds(), r.perSecond(), r.cpuMicrosEach(),
                r.sippLoad(),
                r.storedRecords() < 0 ? "" : String.format(", %d stored records (%.0f/s)", r.storedRecords(),
                        r.storesPerSecond()), verdict);
        if (stores.getAsLong() >= 0) { // a run against our peers (Kamailio's runs leave the overlay idle)
            printRound(out, r);
        }
        out.flush();
    }

    /**
     * Offers the sweep's best clean rate again for {@code --sustain-seconds}, so that the reported rate is one the
     * registrar keeps up for longer than its per-request state lives (a 5-second round hid a transaction table that
     * filled after 30 s). A clean run replaces the sweep's best; on failures the offer drops by a quarter, at most
     * 3 times; if none is clean the sweep reports that run's failures.
     */
    private Sweep sustain(PrintWriter out, String label, String binary, Path dir, String scenario, int remotePort,
            int localPort, LongSupplier cpuNanos, LongSupplier stores, Sweep sweep, int bestRate) throws Exception {
        if (sustainSeconds == 0 || sweep.best() == null) {
            return sweep;
        }
        // start from what the best round delivered (a round that could not keep up delivered less than it was offered)
        int rate = (int) Math.min(bestRate, Math.max(1, Math.round(sweep.best().perSecond())));
        long successful = sweep.successful();
        for (int attempt = 1; ; attempt++) {
            int n = rate * sustainSeconds;
            Run r = sipp(binary, dir, scenario, remotePort, localPort, rate, n, "users.csv",
                    label.replaceAll("[^A-Za-z0-9]", "") + "sustained" + rate, cpuNanos, stores);
            successful += r.successful();
            boolean clean = r.clean(n);
            printRun(out, label + " sustained:", rate, sustainSeconds, r, clean ? "" : " (failures)", stores);
            if (clean) {
                return new Sweep(r, 0, successful);
            }
            if (attempt == 3) {
                return new Sweep(null, r.failed(), successful);
            }
            rate = Math.max(1, rate * 3 / 4);
        }
    }

    private static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static String which(String name) {
        String found = findExecutable(name);
        if (found == null) {
            throw new IllegalStateException("sipp not found (" + name + "): install the Debian package sip-tester, or give"
                    + " its path with --sipp");
        }
        return found;
    }

    /** The path of an executable given by path or looked up on the PATH, or null. */
    static String findExecutable(String name) {
        if (name.contains("/")) {
            if (new File(name).canExecute()) {
                return name;
            }
        } else {
            for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
                File f = new File(d, name);
                if (f.canExecute()) {
                    return f.getPath();
                }
            }
        }
        return null;
    }

    private Process start(String binary, Path dir, String scenario, int remotePort, int port, int rate, int calls,
            String inf, String tag, String... extra) throws IOException {
        return start(false, binary, dir, scenario, remotePort, port, rate, calls, inf, tag, extra);
    }

    /**
     * Starts sipp; {@code timed}: under a shell that prints sipp's CPU time when it exits ({@code times}, the last
     * line of its output), read by {@link #sippCpuNanos}. Only for runs that end by themselves: stopping the shell
     * would leave sipp running.
     */
    private Process start(boolean timed, String binary, Path dir, String scenario, int remotePort, int port, int rate,
            int calls, String inf, String tag, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(timed ? List.of("bash", "-c", "\"$0\" \"$@\"; rc=$?; times; exit $rc", binary)
                : List.of(binary));
        if (remotePort > 0) {
            cmd.add("127.0.0.1:" + remotePort);
        }
        cmd.addAll(List.of("-sf", dir.resolve(scenario).toString(), "-t", "u1", "-i", "127.0.0.1",
                "-p", Integer.toString(port), "-m", Integer.toString(calls), "-r", Integer.toString(rate),
                "-l", Integer.toString(Math.max(100, rate * 4)), "-key", "domain", DOMAIN, "-key", "expires", "3600",
                "-nostdin", "-timeout", "120s", "-timeout_error", "-trace_stat", "-stf", stats(dir, tag).toString()));
        if (inf != null) {
            cmd.addAll(List.of("-inf", dir.resolve(inf).toString()));
        }
        cmd.addAll(Arrays.asList(extra));
        return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve(tag + ".out").toFile()).start();
    }

    /**
     * Runs REGISTER rounds at peer 1 until the JIT has compiled the REGISTER path: C2 compiles a method after some
     * ten thousand calls, and a profile of a 4,000-REGISTER warm-up showed C2 compiling the signer, the transaction
     * layer and the overlay's put during the timed rounds, taking a third of the process's CPU. Kamailio is native
     * code, so both sides are measured warm. Stops when two rounds in a row cost the same CPU per REGISTER (within
     * 5%), or after {@code --jit-warmup-seconds}.
     */
    private void jitWarmUp(PrintWriter out, String binary, Path dir, int remotePort, int port, LongSupplier jvmCpu)
            throws Exception {
        int rate = Math.min(jitWarmupRate, users);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(jitWarmupSeconds);
        double previous = Double.NaN;
        long total = 0;
        for (int round = 1; ; round++) {
            Run r = sipp(binary, dir, "bench_register.xml", remotePort, port, rate, rate * stepSeconds, "users.csv",
                    "jitwarmup" + round, jvmCpu, () -> -1L);
            total += r.successful();
            double each = r.cpuMicrosEach();
            boolean steady = round >= 2 && Math.abs(each - previous) < 0.05 * previous;
            out.printf("JIT warm-up round %d (not counted): %d REGISTERs offered at %d/s, %d failed, %.1f s, %.0f us CPU"
                    + " each%s%n", round, r.successful(), rate, r.failed(), r.seconds(), each,
                    steady ? ", steady" : "");
            printRound(out, r);
            out.flush();
            if (steady || System.nanoTime() >= deadline) {
                out.printf("JIT warm-up: %d REGISTERs in %d rounds%s%n", total, round,
                        steady ? "" : " (stopped at --jit-warmup-seconds before the CPU per REGISTER was steady)");
                return;
            }
            previous = each;
        }
    }

    private Run sipp(String binary, Path dir, String scenario, int remotePort, int port, int rate, int calls,
            String inf, String tag, String... extra) throws Exception {
        return sipp(binary, dir, scenario, remotePort, port, rate, calls, inf, tag, () -> -1L, () -> -1L, extra);
    }

    private Run sipp(String binary, Path dir, String scenario, int remotePort, int port, int rate, int calls,
            String inf, String tag, LongSupplier cpuNanos, LongSupplier stores, String... extra) throws Exception {
        long cpu0 = cpuNanos.getAsLong();
        long stores0 = stores.getAsLong();
        long t0 = System.nanoTime();
        Process p = start(true, binary, dir, scenario, remotePort, port, rate, calls, inf, tag, extra);
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("sipp did not finish (" + tag + "); its output is in " + dir.resolve(tag + ".out"));
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long cpu1 = cpuNanos.getAsLong();
        long stores1 = stores.getAsLong();
        List<String> lines = Files.readAllLines(stats(dir, tag), StandardCharsets.UTF_8);
        List<String> header = Arrays.asList(lines.get(0).split(";"));
        String[] last = lines.get(lines.size() - 1).split(";");
        return new Run(Long.parseLong(last[header.indexOf("SuccessfulCall(C)")]),
                Long.parseLong(last[header.indexOf("FailedCall(C)")]), seconds, cpu0 < 0 || cpu1 < 0 ? -1 : cpu1 - cpu0,
                stores0 < 0 ? -1 : stores1 - stores0, sippCpuNanos(dir.resolve(tag + ".out")));
    }

    private static final java.util.regex.Pattern TIMES = java.util.regex.Pattern.compile(
            "^(\\d+)m([\\d.]+)s (\\d+)m([\\d.]+)s$");

    /**
     * sipp's user + system CPU time from the shell's {@code times} at the end of its output (the second of its two
     * lines: the children's), or -1 if it is not there.
     */
    static long sippCpuNanos(Path output) throws IOException {
        List<String> lines = Files.readAllLines(output, StandardCharsets.ISO_8859_1);
        for (int i = lines.size() - 1; i >= 0; i--) {
            java.util.regex.Matcher m = TIMES.matcher(lines.get(i).trim());
            if (m.matches()) {
                double s = Long.parseLong(m.group(1)) * 60 + Double.parseDouble(m.group(2))
                        + Long.parseLong(m.group(3)) * 60 + Double.parseDouble(m.group(4));
                return Math.round(s * 1e9);
            }
        }
        return -1;
    }

    private static Path stats(Path dir, String tag) {
        return dir.resolve(tag + "-stats.csv");
    }
}
