package org.p2psip.sip.dns;

import com.google.common.net.InetAddresses;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRecordDecoder;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.SingletonDnsServerAddressStreamProvider;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.p2psip.sip.message.SipUri;
import org.p2psip.sip.transport.Target;
import org.p2psip.sip.transport.Transport;
import org.p2psip.sip.transport.ViaProcessing;

/**
 * RFC 3263 §4 server location for a SIP URI, asynchronous (Netty's DNS client on a SIP event loop, so a slow or
 * hostile name server never blocks a SIP thread): a literal address is used as it is; a host with a port is
 * resolved with A/AAAA; a host with a {@code transport} parameter goes to its SRV records; otherwise NAPTR records
 * pick the transports ({@code SIP+D2U}, {@code SIP+D2T}, {@code SIPS+D2T}, in order, then preference), each
 * leading to SRV records; with no NAPTR, SRV records of {@code _sip._udp}, {@code _sip._tcp} and {@code _sips._tcp}
 * are tried in that order ({@code _sips._tcp} only for {@code sips:}); with no SRV either, A/AAAA at the
 * transport's default port. SRV targets are ordered by priority and, within one, by weighted random choice (RFC
 * 2782). The result is every target in the order to try; empty when nothing resolves. Addresses the transport may
 * not send to (broadcast, multicast, wildcard) are dropped. Answers are decoded defensively: a malformed record is
 * skipped, never thrown.
 */
public final class SipDnsResolver implements AutoCloseable {
    /** Bounds on what one lookup may fan out to (a hostile zone could list thousands of SRV targets). */
    static final int MAX_NAPTR = 8;
    static final int MAX_SRV = 16;

    /** A NAPTR record's fields we use. */
    record Naptr(int order, int preference, String flags, String service, String replacement) {
    }

    /** An SRV record. */
    record Srv(int priority, int weight, int port, String target) {
    }

    private final DnsNameResolver dns;
    private final Random random = new Random();

    /**
     * @param loop       where queries and their callbacks run: an epoll loop where epoll is available (as the SIP
     *                   transport's), else NIO
     * @param nameServer the DNS server to ask, or null for the system's (/etc/resolv.conf)
     */
    public SipDnsResolver(EventLoop loop, InetSocketAddress nameServer) {
        DnsNameResolverBuilder b = new DnsNameResolverBuilder(loop)
                .datagramChannelType(Epoll.isAvailable() ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .nameServerProvider(nameServer == null ? DnsServerAddressStreamProviders.platformDefault()
                        : new SingletonDnsServerAddressStreamProvider(nameServer))
                .queryTimeoutMillis(2_000).maxQueriesPerResolve(8).recursionDesired(true)
                .searchDomains(List.of()).ndots(1);
        this.dns = b.build();
    }

    /** The targets for {@code uri}, in the order to try them. */
    public CompletableFuture<List<Target>> locate(SipUri uri) {
        boolean sips = "sips".equalsIgnoreCase(uri.scheme());
        String host = ViaProcessing.stripBrackets(uri.host());
        Transport forced = sips ? Transport.TLS : uri.transport().map(Transport::fromVia).orElse(null);
        if (uri.transport().isPresent() && forced == null) {
            return CompletableFuture.completedFuture(List.of()); // a transport we do not speak
        }
        if (InetAddresses.isInetAddress(host)) {
            Transport t = forced == null ? Transport.UDP : forced;
            return CompletableFuture.completedFuture(usable(List.of(new Target(t,
                    new InetSocketAddress(InetAddresses.forString(host), uri.port() > 0 ? uri.port() : t.defaultPort())))));
        }
        if (uri.port() > 0) { // §4.2: a port means no NAPTR or SRV
            Transport t = forced == null ? Transport.UDP : forced;
            return addresses(host, uri.port(), t);
        }
        if (forced != null) {
            return srvThenA(host, forced);
        }
        return naptr(host).thenCompose(records -> {
            List<Naptr> usable = new ArrayList<>();
            for (Naptr n : records) {
                Transport t = transportOfService(n.service());
                if (t != null && n.flags().equalsIgnoreCase("s") && (!sips || t == Transport.TLS)) {
                    usable.add(n);
                }
            }
            usable.sort(Comparator.comparingInt(Naptr::order).thenComparingInt(Naptr::preference));
            if (!usable.isEmpty()) {
                return sequence(usable.stream().map(n -> (java.util.function.Supplier<CompletableFuture<List<Target>>>)
                        () -> srv(n.replacement()).thenCompose(s -> targets(s, transportOfService(n.service()))))
                        .toList());
            }
            // §4.1: no NAPTR: SRV for each transport we speak, the first that answers wins; then A/AAAA
            List<Transport> order = sips ? List.of(Transport.TLS) : List.of(Transport.UDP, Transport.TCP, Transport.TLS);
            List<java.util.function.Supplier<CompletableFuture<List<Target>>>> tries = new ArrayList<>();
            for (Transport t : order) {
                tries.add(() -> srv(srvName(t, host)).thenCompose(s -> targets(s, t)));
            }
            Transport fallback = sips ? Transport.TLS : Transport.UDP;
            tries.add(() -> addresses(host, fallback.defaultPort(), fallback));
            return sequence(tries);
        });
    }

    /** SRV for one transport, then A/AAAA at its default port when there are none (§4.2). */
    private CompletableFuture<List<Target>> srvThenA(String host, Transport t) {
        return srv(srvName(t, host)).thenCompose(s -> s.isEmpty() ? addresses(host, t.defaultPort(), t) : targets(s, t));
    }

    /** Runs the lookups one after the other until one gives targets. */
    private static CompletableFuture<List<Target>> sequence(
            List<java.util.function.Supplier<CompletableFuture<List<Target>>>> tries) {
        CompletableFuture<List<Target>> f = CompletableFuture.completedFuture(List.of());
        for (var t : tries) {
            f = f.thenCompose(found -> found.isEmpty() ? t.get().exceptionally(e -> List.of())
                    : CompletableFuture.completedFuture(found));
        }
        return f;
    }

    static String srvName(Transport t, String host) {
        return switch (t) {
            case UDP -> "_sip._udp." + host;
            case TCP -> "_sip._tcp." + host;
            case TLS -> "_sips._tcp." + host;
        };
    }

    static Transport transportOfService(String service) {
        return switch (service.toUpperCase(Locale.ROOT)) {
            case "SIP+D2U" -> Transport.UDP;
            case "SIP+D2T" -> Transport.TCP;
            case "SIPS+D2T" -> Transport.TLS;
            default -> null;
        };
    }

    /** The SRV records in the order to try: by priority, then weighted random (RFC 2782). */
    List<Srv> order(List<Srv> records) {
        List<Srv> out = new ArrayList<>();
        List<Srv> left = new ArrayList<>(records);
        left.sort(Comparator.comparingInt(Srv::priority));
        while (!left.isEmpty()) {
            int p = left.get(0).priority();
            List<Srv> same = new ArrayList<>(left.stream().filter(s -> s.priority() == p).toList());
            left.removeAll(same);
            while (!same.isEmpty()) {
                int total = same.stream().mapToInt(Srv::weight).sum();
                int pick = total == 0 ? 0 : random.nextInt(total + 1);
                int run = 0;
                Srv chosen = same.get(0);
                for (Srv s : same) {
                    run += s.weight();
                    if (run >= pick) {
                        chosen = s;
                        break;
                    }
                }
                same.remove(chosen);
                out.add(chosen);
            }
        }
        return out;
    }

    private CompletableFuture<List<Target>> targets(List<Srv> srvs, Transport t) {
        List<CompletableFuture<List<Target>>> each = new ArrayList<>();
        for (Srv s : order(srvs)) {
            if (!s.target().equals(".")) { // "." means: no such service here
                each.add(addresses(s.target(), s.port(), t).exceptionally(e -> List.of()));
            }
        }
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(x -> {
            List<Target> all = new ArrayList<>();
            each.forEach(f -> all.addAll(f.join()));
            return all;
        });
    }

    private CompletableFuture<List<Target>> addresses(String host, int port, Transport t) {
        CompletableFuture<List<Target>> f = new CompletableFuture<>();
        dns.resolveAll(host).addListener(r -> {
            if (!r.isSuccess()) {
                f.complete(List.of());
                return;
            }
            List<Target> out = new ArrayList<>();
            @SuppressWarnings("unchecked")
            List<InetAddress> as = (List<InetAddress>) r.getNow();
            for (InetAddress a : as) {
                out.add(new Target(t, new InetSocketAddress(a, port)));
            }
            f.complete(usable(out));
        });
        return f;
    }

    private static List<Target> usable(List<Target> ts) {
        return ts.stream().filter(t -> !ViaProcessing.forbidden(t.address().getAddress())).toList();
    }

    private CompletableFuture<List<Naptr>> naptr(String host) {
        return query(host, DnsRecordType.NAPTR).thenApply(raws -> {
            List<Naptr> out = new ArrayList<>();
            for (ByteBuf c : raws) {
                try {
                    int order = c.readUnsignedShort();
                    int pref = c.readUnsignedShort();
                    String flags = charString(c);
                    String service = charString(c);
                    charString(c); // regexp: unused (SIP NAPTRs use the replacement)
                    String replacement = stripDot(DefaultDnsRecordDecoder.decodeName(c));
                    out.add(new Naptr(order, pref, flags, service, replacement));
                } catch (RuntimeException malformed) {
                    // skipped
                }
            }
            return out.size() > MAX_NAPTR ? out.subList(0, MAX_NAPTR) : out;
        });
    }

    private CompletableFuture<List<Srv>> srv(String name) {
        return query(name, DnsRecordType.SRV).thenApply(raws -> {
            List<Srv> out = new ArrayList<>();
            for (ByteBuf c : raws) {
                try {
                    int prio = c.readUnsignedShort();
                    int weight = c.readUnsignedShort();
                    int port = c.readUnsignedShort();
                    String target = DefaultDnsRecordDecoder.decodeName(c);
                    if (port > 0) {
                        out.add(new Srv(prio, weight, port, target.equals(".") ? "." : stripDot(target)));
                    }
                } catch (RuntimeException malformed) {
                    // skipped
                }
            }
            return out.size() > MAX_SRV ? out.subList(0, MAX_SRV) : out;
        });
    }

    /** The raw record contents of one question's answer (copied to the heap, so the records are released at once). */
    private CompletableFuture<List<ByteBuf>> query(String name, DnsRecordType type) {
        CompletableFuture<List<ByteBuf>> f = new CompletableFuture<>();
        dns.resolveAll(new DefaultDnsQuestion(name, type)).addListener(r -> {
            if (!r.isSuccess()) {
                f.complete(List.of()); // NXDOMAIN, no records, timeout: no answer of this type
                return;
            }
            List<ByteBuf> out = new ArrayList<>();
            @SuppressWarnings("unchecked")
            List<DnsRecord> records = (List<DnsRecord>) r.getNow();
            for (DnsRecord rec : records) {
                try {
                    if (rec instanceof DnsRawRecord raw && rec.type().equals(type)) {
                        out.add(Unpooled.wrappedBuffer(ByteBufUtil.getBytes(raw.content())));
                    }
                } finally {
                    ReferenceCountUtil.release(rec);
                }
            }
            f.complete(out);
        });
        return f;
    }

    private static String charString(ByteBuf c) {
        int len = c.readUnsignedByte();
        return c.readCharSequence(len, StandardCharsets.US_ASCII).toString();
    }

    private static String stripDot(String name) {
        return name.endsWith(".") && name.length() > 1 ? name.substring(0, name.length() - 1) : name;
    }

    @Override
    public void close() {
        dns.close();
    }
}
