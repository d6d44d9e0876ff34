package org.p2psip.sip;

import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;
import org.p2psip.sip.message.SipMessage;
import org.p2psip.sip.message.SipParser;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.Via;
import org.p2psip.sip.registrar.ContactBinding;
import org.p2psip.sip.registrar.ContactStore;
import org.p2psip.sip.registrar.DigestAccounts;
import org.p2psip.sip.registrar.DigestAuthenticator;
import org.p2psip.sip.registrar.Registrar;
import org.p2psip.sip.transaction.ManualTimerService;
import org.p2psip.sip.transaction.ServerTransaction;
import org.p2psip.sip.transaction.TimerConfig;
import org.p2psip.sip.transaction.TransactionLayer;
import org.p2psip.sip.transaction.TransactionUser;
import org.p2psip.sip.transport.SipSender;
import org.p2psip.sip.transport.Source;
import org.p2psip.sip.transport.Target;
import org.p2psip.sip.transport.Transport;
import org.p2psip.sip.transport.ViaProcessing;

/**
 * The SIP adapter's own CPU per REGISTER, without sockets and without the DHT: what {@code bench sip}'s sipp
 * REGISTER costs in this module. One operation is one registration as sipp makes it, two transactions: the
 * REGISTER datagram (bytes) is parsed as {@code SipTransport} does ({@link SipParser#parseDatagram}, then the
 * received/rport stamp of {@link ViaProcessing#stampReceived}), goes through the {@link TransactionLayer} to the
 * {@link Registrar}, whose {@link DigestAuthenticator} challenges it; the 401 is routed (§18.2.2) and encoded to bytes
 * as the transport would send it; then the REGISTER with MD5 credentials (the same user, CSeq 2) is parsed, passes
 * the digest check, is stored in a {@link ContactStore} that answers at once (a map), and the 200 with the binding is
 * routed and encoded. Users cycle over {@value #USERS} accounts ({@link DigestAccounts}, as the testbed bench);
 * every operation has its own Call-ID and branches, so each is two new server transactions; the layer's virtual
 * clock ({@link ManualTimerService}) moves 64 s every {@value #ADVANCE_EVERY} operations so Timer J ends them.
 * <p>
 * The request bytes are made in the operation from a template (a few hundred ns, the client's part); the credentials
 * are computed once per user in setup against one nonce (the authenticator's nonce lifetime is a day here), as the
 * digest response does not depend on Call-ID or branch. Besides JMH's score (µs per registration), each iteration
 * prints {@code [cpu]}: µs of CPU of the benchmark thread per registration, the figure that holds on a shared machine.
 * <p>
 * Run (see README "Benchmark"): {@code java -cp <test classpath> org.p2psip.sip.RegisterPathBench [jmh options]}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx512m"})
@Threads(1)
public class RegisterPathBench {
    static final int USERS = 4000;
    static final int ADVANCE_EVERY = 20_000;
    private static final String REALM = "example.net";
    private static final java.lang.management.ThreadMXBean MX =
            java.lang.management.ManagementFactory.getThreadMXBean();

    private final SipParser parser = new SipParser();
    private final ManualTimerService timers = new ManualTimerService();
    private final InetSocketAddress phone = new InetSocketAddress("127.0.0.1", 5070);
    private final Source source = new Source(Transport.UDP, phone, new InetSocketAddress("127.0.0.1", 5060));
    private final String[] authorization = new String[USERS];
    private TransactionLayer layer;
    private long n;
    private long sentBytes;
    private int lastStatus;
    private long cpuStart;
    private long ops;
    private long measuredOps;
    private long measuredCpu;

    @Setup(Level.Trial)
    public void setUp() {
        Map<String, String> passwords = new HashMap<>();
        for (int i = 0; i < USERS; i++) {
            passwords.put("user" + i, "pw" + i);
        }
        DigestAuthenticator auth = new DigestAuthenticator(REALM, DigestAccounts.of(passwords), List.of("MD5"),
                86_400_000L, System::currentTimeMillis);
        String challenge = auth.challenge(false, "setup").wwwAuthenticate().get(0);
        String nonce = challenge.replaceAll(".*nonce=\"([^\"]*)\".*", "$1");
        String uri = "sip:" + REALM;
        for (int i = 0; i < USERS; i++) {
            String user = "user" + i;
            String ha1 = DigestAuthenticator.h("MD5", user + ":" + REALM + ":pw" + i);
            String ha2 = DigestAuthenticator.h("MD5", "REGISTER:" + uri);
            String cnonce = "c" + i;
            String response = DigestAuthenticator.h("MD5", ha1 + ":" + nonce + ":00000001:" + cnonce + ":auth:" + ha2);
            authorization[i] = "Authorization: Digest username=\"" + user + "\", realm=\"" + REALM + "\", uri=\"" + uri
                    + "\", nonce=\"" + nonce + "\", response=\"" + response + "\", algorithm=MD5, qop=auth, cnonce=\""
                    + cnonce + "\", nc=00000001";
        }
        ContactStore store = new MapStore();
        Registrar registrar = new Registrar(auth, store, "sip:127.0.0.1:5060;lr", Set.of(REALM),
                Registrar.Expiry.DEFAULT, System::currentTimeMillis);
        SipSender sender = new SipSender() {
            @Override
            public CompletableFuture<Void> sendRequest(SipRequest request, Target target) {
                return CompletableFuture.failedFuture(new UnsupportedOperationException("the bench sends no request"));
            }

            @Override
            public CompletableFuture<Void> sendResponse(SipResponse response, Source requestSource) {
                // what SipTransport does for a UDP response: route by the top Via, then encode
                try {
                    Via via = response.topVia();
                    InetSocketAddress to = ViaProcessing.responseAddress(via);
                    sentBytes += response.encode().length + to.getPort();
                    lastStatus = response.status();
                    return CompletableFuture.completedFuture(null);
                } catch (UnknownHostException e) {
                    return CompletableFuture.failedFuture(e);
                }
            }
        };
        layer = new TransactionLayer(sender, timers, TimerConfig.DEFAULT, new TransactionUser() {
            @Override
            public void onRequest(ServerTransaction tx, SipRequest request) {
                registrar.onRegister(tx, request);
            }
        });
    }

    @Setup(Level.Iteration)
    public void startCpu() {
        ops = 0;
        cpuStart = MX.getCurrentThreadCpuTime();
    }

    @TearDown(Level.Iteration)
    public void stopCpu(IterationParams ip) {
        long cpu = MX.getCurrentThreadCpuTime() - cpuStart;
        if (ip.getType() == IterationType.MEASUREMENT) {
            measuredOps += ops;
            measuredCpu += cpu;
        }
        System.out.printf("[cpu] %s: %.2f us of thread CPU per REGISTER (two transactions), %d registrations%n",
                ip.getType(), cpu / 1e3 / ops, ops);
    }

    @TearDown(Level.Trial)
    public void summary() {
        if (measuredOps > 0) {
            System.out.printf("[cpu-summary] %.2f us of thread CPU per REGISTER (%d registrations)%n",
                    measuredCpu / 1e3 / measuredOps, measuredOps);
        }
    }

    /** One registration: REGISTER, 401, REGISTER with credentials, 200. Returns the 200's status. */
    @Benchmark
    public int register() {
        long i = n++;
        int user = (int) (i % USERS);
        deliver(request(i, user, 1, null));
        if (lastStatus != 401) {
            throw new IllegalStateException("expected 401, got " + lastStatus);
        }
        deliver(request(i, user, 2, authorization[user]));
        if (lastStatus != 200) {
            throw new IllegalStateException("expected 200, got " + lastStatus);
        }
        ops++;
        if (n % ADVANCE_EVERY == 0) {
            timers.advance(Duration.ofSeconds(64)); // Timer J ends the completed transactions
        }
        return lastStatus;
    }

    private void deliver(byte[] datagram) {
        SipMessage m = parser.parseDatagram(datagram);
        SipRequest r = ViaProcessing.stampReceived((SipRequest) m, phone);
        layer.onMessage(r, source);
        timers.runDue();
    }

    /** The REGISTER of sipp's bench_register.xml. */
    private static byte[] request(long i, int user, int cseq, String auth) {
        String u = "user" + user;
        StringBuilder sb = new StringBuilder(600);
        sb.append("REGISTER sip:").append(REALM).append(" SIP/2.0\r\n")
                .append("Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-").append(i).append('-').append(cseq)
                .append(";rport\r\n")
                .append("From: <sip:").append(u).append('@').append(REALM).append(">;tag=1234SIPpTag00").append(i)
                .append("\r\n")
                .append("To: <sip:").append(u).append('@').append(REALM).append(">\r\n")
                .append("Call-ID: ").append(i).append("-1234@127.0.0.1\r\n")
                .append("CSeq: ").append(cseq).append(" REGISTER\r\n")
                .append("Contact: <sip:").append(u).append("@127.0.0.1:5070>\r\n");
        if (auth != null) {
            sb.append(auth).append("\r\n");
        }
        sb.append("Expires: 3600\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A contact store that answers at once: the DHT left out. */
    private static final class MapStore implements ContactStore {
        private final Map<String, Map<String, ContactBinding>> byAor = new ConcurrentHashMap<>();

        @Override
        public CompletableFuture<Void> put(ContactBinding binding) {
            byAor.computeIfAbsent(binding.aor(), k -> new ConcurrentHashMap<>()).put(binding.contact(), binding);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> remove(String aor, String contact) {
            Map<String, ContactBinding> m = byAor.get(aor);
            if (m != null) {
                m.remove(contact);
            }
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<List<ContactBinding>> lookup(String aor) {
            return CompletableFuture.completedFuture(new ArrayList<>(byAor.getOrDefault(aor, Map.of()).values()));
        }
    }

    public static void main(String[] args) throws Exception {
        org.openjdk.jmh.Main.main(args.length > 0 ? args : new String[] {"RegisterPathBench"});
    }
}
