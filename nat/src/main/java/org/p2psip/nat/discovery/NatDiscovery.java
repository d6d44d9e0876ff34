package org.p2psip.nat.discovery;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * NAT behaviour discovery against a two-address STUN server (RFC 5780 section 4): mapping behaviour, filtering
 * behaviour and an estimate of the UDP binding lifetime. Each test runs on fresh local sockets, so one test's
 * traffic does not open the NAT for another. The decision rules are the static {@code classify} methods.
 */
public final class NatDiscovery {
    private final BindingProbe probe;
    private final InetSocketAddress server;
    private final Predicate<InetAddress> isLocalAddress;

    /** @param server the server's primary address */
    public NatDiscovery(BindingProbe probe, InetSocketAddress server) {
        this(probe, server, NatDiscovery::isInterfaceAddress);
    }

    /** @param isLocalAddress tells whether an IP belongs to this host (to recognise "no NAT" on a wildcard socket) */
    public NatDiscovery(BindingProbe probe, InetSocketAddress server, Predicate<InetAddress> isLocalAddress) {
        this.probe = Objects.requireNonNull(probe, "probe");
        this.server = Objects.requireNonNull(server, "server");
        this.isLocalAddress = isLocalAddress;
    }

    // ------------------------------------------------------------------------------------------------ results

    /**
     * Mapping test outcome.
     *
     * @param behavior the classification
     * @param natDetected whether the first mapped address differs from the local one (null if unknown)
     * @param local the local socket address used
     * @param mapped mapped addresses of tests I, II, III (II and III absent when not needed or not answered)
     * @param note why the result is UNKNOWN, or a remark
     */
    public record MappingResult(MappingBehavior behavior, Boolean natDetected, InetSocketAddress local,
            List<InetSocketAddress> mapped, String note) {
    }

    /** Filtering test outcome. */
    public record FilteringResult(FilteringBehavior behavior, String note) {
    }

    /** One binding-lifetime probe: whether the mapping still delivered after {@code silence} without traffic. */
    public record LifetimeProbe(Duration silence, boolean alive) {
    }

    /** Binding-lifetime estimate from a probe schedule. */
    public record BindingLifetime(List<LifetimeProbe> probes) {
        public BindingLifetime {
            probes = List.copyOf(probes);
        }

        /** The longest silence after which the mapping still worked, or null if none did. */
        public Duration atLeast() {
            return probes.stream().filter(LifetimeProbe::alive).map(LifetimeProbe::silence)
                    .max(Duration::compareTo).orElse(null);
        }

        /** The shortest silence after which the mapping was gone, or null if it survived every probe. */
        public Duration lessThan() {
            return probes.stream().filter(p -> !p.alive()).map(LifetimeProbe::silence)
                    .min(Duration::compareTo).orElse(null);
        }

        /** True when some mapping died before a longer one survived (a NAT that is not time-driven, or loss). */
        public boolean inconsistent() {
            Duration lo = atLeast();
            Duration hi = lessThan();
            return lo != null && hi != null && hi.compareTo(lo) < 0;
        }
    }

    /** Everything {@link #discover} finds. */
    public record NatBehavior(MappingResult mapping, FilteringResult filtering) {
    }

    // ------------------------------------------------------------------------------------------------ decisions

    /**
     * RFC 5780 section 4.3. {@code m1} answers test I (to the primary address), {@code m2} test II (alternate IP,
     * primary port), {@code m3} test III (alternate IP, alternate port); null means not answered.
     */
    public static MappingBehavior classifyMapping(boolean noNat, InetSocketAddress m1, InetSocketAddress m2,
            InetSocketAddress m3) {
        if (m1 == null) {
            return MappingBehavior.UNKNOWN;
        }
        if (noNat) {
            return MappingBehavior.ENDPOINT_INDEPENDENT;
        }
        if (m2 == null) {
            return MappingBehavior.UNKNOWN;
        }
        if (m2.equals(m1)) {
            return MappingBehavior.ENDPOINT_INDEPENDENT;
        }
        if (m3 == null) {
            return MappingBehavior.UNKNOWN;
        }
        return m3.equals(m2) ? MappingBehavior.ADDRESS_DEPENDENT : MappingBehavior.ADDRESS_AND_PORT_DEPENDENT;
    }

    /**
     * RFC 5780 section 4.4, after test I succeeded: test II asks for an answer from the other IP and port, test III
     * from the other port only. A response counts only if it really came from where it was asked to.
     */
    public static FilteringBehavior classifyFiltering(boolean changedBothAnswered, boolean changedPortAnswered) {
        if (changedBothAnswered) {
            return FilteringBehavior.ENDPOINT_INDEPENDENT;
        }
        return changedPortAnswered ? FilteringBehavior.ADDRESS_DEPENDENT : FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT;
    }

    // ------------------------------------------------------------------------------------------------ tests

    /** Filtering first (its socket has only ever talked to the primary address), then mapping. */
    public CompletableFuture<NatBehavior> discover() {
        return filtering().thenCompose(f -> mapping().thenApply(m -> new NatBehavior(m, f)));
    }

    /** The mapping tests I-III on one fresh socket. */
    public CompletableFuture<MappingResult> mapping() {
        return withEndpoint(ep -> ep.binding(server, false, false, 0).thenCompose(a1 -> {
            InetSocketAddress local = ep.localAddress();
            if (a1.isEmpty()) {
                return done(new MappingResult(MappingBehavior.UNKNOWN, null, local, List.of(), "no answer to test I"));
            }
            InetSocketAddress m1 = a1.get().mapped();
            boolean noNat = m1.getPort() == local.getPort() && (m1.getAddress().equals(local.getAddress())
                    || (local.getAddress().isAnyLocalAddress() && isLocalAddress.test(m1.getAddress())));
            if (noNat) {
                return done(new MappingResult(MappingBehavior.ENDPOINT_INDEPENDENT, false, local, List.of(m1),
                        "no NAT: the mapped address is the local one"));
            }
            InetSocketAddress other = a1.get().otherAddress();
            if (other == null) {
                return done(new MappingResult(MappingBehavior.UNKNOWN, true, local, List.of(m1),
                        "server did not send OTHER-ADDRESS (no RFC 5780 support)"));
            }
            InetSocketAddress altIpPrimaryPort = new InetSocketAddress(other.getAddress(), server.getPort());
            return ep.binding(altIpPrimaryPort, false, false, 0).thenCompose(a2 -> {
                if (a2.isEmpty()) {
                    return done(new MappingResult(MappingBehavior.UNKNOWN, true, local, List.of(m1),
                            "no answer to test II from " + altIpPrimaryPort));
                }
                InetSocketAddress m2 = a2.get().mapped();
                if (m2.equals(m1)) {
                    return done(new MappingResult(classifyMapping(false, m1, m2, null), true, local, List.of(m1, m2), ""));
                }
                return ep.binding(other, false, false, 0).thenApply(a3 -> {
                    InetSocketAddress m3 = a3.map(BindingProbe.Answer::mapped).orElse(null);
                    List<InetSocketAddress> all = m3 == null ? List.of(m1, m2) : List.of(m1, m2, m3);
                    return new MappingResult(classifyMapping(false, m1, m2, m3), true, local, all,
                            m3 == null ? "no answer to test III from " + other : "");
                });
            });
        }));
    }

    /** The filtering tests I-III on one fresh socket. */
    public CompletableFuture<FilteringResult> filtering() {
        return withEndpoint(ep -> ep.binding(server, false, false, 0).thenCompose(a1 -> {
            if (a1.isEmpty()) {
                return done(new FilteringResult(FilteringBehavior.UNKNOWN, "no answer to test I"));
            }
            InetSocketAddress other = a1.get().otherAddress();
            if (other == null) {
                return done(new FilteringResult(FilteringBehavior.UNKNOWN,
                        "server did not send OTHER-ADDRESS (no RFC 5780 support)"));
            }
            InetSocketAddress primaryFrom = a1.get().from();
            return ep.binding(server, true, true, 0).thenCompose(a2 -> {
                if (a2.isPresent()) {
                    if (!a2.get().from().equals(other)) {
                        return done(new FilteringResult(FilteringBehavior.UNKNOWN,
                                "test II answered from " + a2.get().from() + ", not " + other));
                    }
                    return done(new FilteringResult(classifyFiltering(true, false), ""));
                }
                return ep.binding(server, false, true, 0).thenApply(a3 -> {
                    if (a3.isPresent() && !(a3.get().from().getAddress().equals(primaryFrom.getAddress())
                            && a3.get().from().getPort() == other.getPort())) {
                        return new FilteringResult(FilteringBehavior.UNKNOWN,
                                "test III answered from " + a3.get().from() + ", not the other port");
                    }
                    return new FilteringResult(classifyFiltering(false, a3.isPresent()), "");
                });
            });
        }));
    }

    /**
     * Estimates the binding lifetime (RFC 5780 section 4.6): for each wait in {@code schedule}, in parallel, a fresh
     * socket X learns its mapping, stays silent for the wait, then a fresh socket Y asks the server (RESPONSE-PORT)
     * to answer to X's mapped port from the address X talked to. If X hears it, the mapping was still alive.
     */
    public CompletableFuture<BindingLifetime> bindingLifetime(List<Duration> schedule) {
        List<CompletableFuture<LifetimeProbe>> probes = new ArrayList<>();
        for (Duration wait : schedule) {
            probes.add(lifetimeProbe(wait));
        }
        return CompletableFuture.allOf(probes.toArray(CompletableFuture[]::new)).thenApply(v -> {
            List<LifetimeProbe> out = new ArrayList<>();
            probes.forEach(p -> out.add(p.join()));
            return new BindingLifetime(out);
        });
    }

    private CompletableFuture<LifetimeProbe> lifetimeProbe(Duration wait) {
        return withEndpoint(x -> x.binding(server, false, false, 0).thenCompose(first -> {
            if (first.isEmpty()) {
                throw new CompletionException(new java.io.IOException("no answer to the first binding of a lifetime probe"));
            }
            int mappedPort = first.get().mapped().getPort();
            InetSocketAddress xLocal = x.localAddress();
            return CompletableFuture.supplyAsync(() -> null,
                            CompletableFuture.delayedExecutor(wait.toNanos(), TimeUnit.NANOSECONDS))
                    .thenCompose(v -> withEndpoint(y -> y.binding(server, false, false, mappedPort)))
                    .thenApply(answer -> new LifetimeProbe(wait,
                            answer.isPresent() && sameSocket(answer.get().receivedOn(), xLocal)));
        }));
    }

    private static boolean sameSocket(InetSocketAddress a, InetSocketAddress b) {
        return a != null && a.getPort() == b.getPort();
    }

    private <T> CompletableFuture<T> withEndpoint(java.util.function.Function<BindingProbe.Endpoint, CompletableFuture<T>> body) {
        return probe.open().thenCompose(ep -> {
            CompletableFuture<T> f;
            try {
                f = body.apply(ep);
            } catch (RuntimeException e) {
                ep.close();
                throw e;
            }
            return f.whenComplete((r, e) -> ep.close());
        });
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }

    static boolean isInterfaceAddress(InetAddress a) {
        try {
            return NetworkInterface.getByInetAddress(a) != null;
        } catch (SocketException e) {
            return false;
        }
    }

    /** Parses "1s,2s,500ms" or "1,2,5" (seconds). */
    public static List<Duration> parseSchedule(String s) {
        List<Duration> out = new ArrayList<>();
        for (String part : s.split(",")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            if (p.endsWith("ms")) {
                out.add(Duration.ofMillis(Long.parseLong(p.substring(0, p.length() - 2))));
            } else {
                out.add(Duration.ofMillis(Math.round(Double.parseDouble(p.endsWith("s") ? p.substring(0, p.length() - 1) : p) * 1000)));
            }
        }
        return out;
    }

}
