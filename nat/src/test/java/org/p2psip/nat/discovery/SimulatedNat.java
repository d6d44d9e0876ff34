package org.p2psip.nat.discovery;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link BindingProbe} over a software model of a NAT in front of an RFC 5780 server at 203.0.113.1:3478 with
 * alternate 203.0.113.2:3479: the canned answers the decision logic must classify. Mappings expire after
 * {@code lifetimeMillis} without outbound traffic (inbound does not refresh them, unlike Linux conntrack; the
 * lifetime probe never sends inbound traffic to a mapping before the check anyway).
 */
final class SimulatedNat implements BindingProbe {
    static final InetAddress SERVER_IP = ip("203.0.113.1");
    static final InetAddress SERVER_ALT_IP = ip("203.0.113.2");
    static final int SERVER_PORT = 3478;
    static final int SERVER_ALT_PORT = 3479;
    static final InetSocketAddress SERVER = new InetSocketAddress(SERVER_IP, SERVER_PORT);
    static final InetAddress INSIDE_IP = ip("192.0.2.2");
    static final InetAddress OUTSIDE_IP = ip("203.0.113.10");

    final MappingBehavior mapping;
    final FilteringBehavior filtering;
    final boolean noNat;
    final boolean rfc5780;
    final long lifetimeMillis;
    private int nextLocalPort = 40000;
    private int nextExternalPort = 60000;

    private final class Mapping {
        final int localPort;
        final int externalPort;
        final Set<InetSocketAddress> sentTo = new HashSet<>();
        long lastOutbound = System.currentTimeMillis();

        Mapping(int localPort, int externalPort) {
            this.localPort = localPort;
            this.externalPort = externalPort;
        }
    }

    private final Map<List<Object>, Mapping> mappings = new HashMap<>();

    SimulatedNat(MappingBehavior mapping, FilteringBehavior filtering, boolean noNat, boolean rfc5780,
            long lifetimeMillis) {
        this.mapping = mapping;
        this.filtering = filtering;
        this.noNat = noNat;
        this.rfc5780 = rfc5780;
        this.lifetimeMillis = lifetimeMillis;
    }

    static SimulatedNat of(MappingBehavior m, FilteringBehavior f) {
        return new SimulatedNat(m, f, false, true, 60_000);
    }

    static InetAddress ip(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public synchronized CompletableFuture<Endpoint> open() {
        int local = nextLocalPort++;
        return CompletableFuture.completedFuture(new Endpoint() {
            @Override
            public InetSocketAddress localAddress() {
                return new InetSocketAddress(INSIDE_IP, local);
            }

            @Override
            public CompletableFuture<Optional<Answer>> binding(InetSocketAddress server, boolean changeIp,
                    boolean changePort, int responsePort) {
                return CompletableFuture.completedFuture(send(local, server, changeIp, changePort, responsePort));
            }

            @Override
            public void close() {
            }
        });
    }

    private synchronized Optional<Answer> send(int local, InetSocketAddress dst, boolean changeIp, boolean changePort,
            int responsePort) {
        long now = System.currentTimeMillis();
        mappings.values().removeIf(m -> now - m.lastOutbound > lifetimeMillis);
        InetSocketAddress mapped;
        Mapping m = null;
        if (noNat) {
            mapped = new InetSocketAddress(INSIDE_IP, local);
        } else {
            List<Object> key = switch (mapping) {
                case ENDPOINT_INDEPENDENT -> List.of(local);
                case ADDRESS_DEPENDENT -> List.of(local, dst.getAddress());
                default -> List.of(local, dst);
            };
            m = mappings.computeIfAbsent(key, k -> new Mapping(local, nextExternalPort++));
            m.lastOutbound = now;
            m.sentTo.add(dst);
            mapped = new InetSocketAddress(OUTSIDE_IP, m.externalPort);
        }
        // The server: which of its four addresses answers, and what OTHER-ADDRESS it names.
        boolean atAltIp = dst.getAddress().equals(SERVER_ALT_IP);
        boolean atAltPort = dst.getPort() == SERVER_ALT_PORT;
        boolean outAltIp = atAltIp ^ changeIp;
        boolean outAltPort = atAltPort ^ changePort;
        InetSocketAddress from = new InetSocketAddress(outAltIp ? SERVER_ALT_IP : SERVER_IP,
                outAltPort ? SERVER_ALT_PORT : SERVER_PORT);
        InetSocketAddress other = rfc5780 ? new InetSocketAddress(atAltIp ? SERVER_IP : SERVER_ALT_IP,
                atAltPort ? SERVER_PORT : SERVER_ALT_PORT) : null;
        if (!rfc5780 && (changeIp || changePort)) {
            throw new java.util.concurrent.CompletionException(new java.io.IOException("STUN error 420"));
        }
        int toPort = responsePort != 0 ? responsePort : mapped.getPort();
        if (noNat) {
            return Optional.of(new Answer(mapped, from, new InetSocketAddress(INSIDE_IP, toPort), other));
        }
        // Inbound: find the mapping that owns the destination port, then filter.
        Mapping target = null;
        for (Mapping c : mappings.values()) {
            if (c.externalPort == toPort) {
                target = c;
            }
        }
        if (target == null || !permits(target, from)) {
            return Optional.empty();
        }
        return Optional.of(new Answer(mapped, from, new InetSocketAddress(INSIDE_IP, target.localPort), other));
    }

    private boolean permits(Mapping m, InetSocketAddress from) {
        return switch (filtering) {
            case ENDPOINT_INDEPENDENT -> true;
            case ADDRESS_DEPENDENT -> m.sentTo.stream().anyMatch(s -> s.getAddress().equals(from.getAddress()));
            default -> m.sentTo.contains(from);
        };
    }
}
