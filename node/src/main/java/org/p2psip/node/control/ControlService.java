package org.p2psip.node.control;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.p2psip.node.HostPort;
import org.p2psip.node.Peer;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayStats;
import org.p2psip.overlay.PutResult;
import org.p2psip.overlay.store.SecretHashPolicy;

/**
 * The commands of the control protocol (see node/README.md), independent of the transport: one request
 * line in, a future of reply lines out, the last of which is {@code OK} or {@code ERR <message>}.
 * Never throws: every failure becomes an {@code ERR} reply.
 */
public final class ControlService {
    /** Lifetime of a PUT without a TTL, as OpenDHT's default value type: 10 minutes. */
    public static final long DEFAULT_TTL_SECONDS = 600;
    /** Longest TTL: one week, the overlay's maximum. */
    public static final long MAX_TTL_SECONDS = 7L * 24 * 3600;
    /** A DHT operation that takes longer than this is reported as failed. */
    public static final long OPERATION_TIMEOUT_SECONDS = 30;

    private final Peer peer;

    /** One reply: its lines, the last being OK or ERR, and whether the connection closes after it. */
    public record Reply(List<String> lines, boolean close) {
        static Reply ok(List<String> lines) {
            List<String> all = new ArrayList<>(lines);
            all.add("OK");
            return new Reply(List.copyOf(all), false);
        }

        public static Reply err(String message) {
            return new Reply(List.of("ERR " + ControlText.oneLine(message)), false);
        }

        public boolean ok() {
            return lines.get(lines.size() - 1).equals("OK");
        }
    }

    public ControlService(Peer peer) {
        this.peer = peer;
    }

    /** Serves one request line (without its line break). */
    public CompletableFuture<Reply> handle(String line) {
        try {
            return dispatch(line).orTimeout(OPERATION_TIMEOUT_SECONDS, TimeUnit.SECONDS)
                    .exceptionally(e -> Reply.err(describe(e)));
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(Reply.err(e.getMessage()));
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(Reply.err("internal error: " + e));
        }
    }

    private CompletableFuture<Reply> dispatch(String line) {
        List<String> t = ControlText.split(line);
        if (t.isEmpty()) {
            throw new IllegalArgumentException("empty request; try HELP");
        }
        String cmd = t.get(0).toUpperCase(Locale.ROOT);
        switch (cmd) {
            case "STATUS":
                arity(t, 1, 1, "STATUS");
                return status();
            case "PUT":
                arity(t, 3, 5, "PUT <name> <value> [ttlSeconds] [secret]");
                return put(t);
            case "GET":
                arity(t, 2, 2, "GET <name>");
                return get(t);
            case "RM":
                arity(t, 4, 4, "RM <name> <value> <secret>");
                return remove(t);
            case "HELP":
                return CompletableFuture.completedFuture(Reply.ok(List.of(
                        "STATUS",
                        "PUT <name> <value> [ttlSeconds] [secret]",
                        "GET <name>",
                        "RM <name> <value> <secret>",
                        "HELP",
                        "QUIT",
                        "tokens are separated by spaces; inside a token %XX stands for byte XX (%20 space, %25 '%')")));
            case "QUIT":
                return CompletableFuture.completedFuture(new Reply(List.of("OK"), true));
            default:
                throw new IllegalArgumentException("unknown command '" + ControlText.oneLine(
                        cmd.length() > 32 ? cmd.substring(0, 32) + "..." : cmd) + "'; try HELP");
        }
    }

    private static void arity(List<String> t, int min, int max, String usage) {
        if (t.size() < min || t.size() > max) {
            throw new IllegalArgumentException("usage: " + usage);
        }
    }

    private static NodeId key(String token) {
        try {
            return NodeId.ofName(ControlText.decodeUtf8(token));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad name: " + e.getMessage());
        }
    }

    private static Bytes value(String token) {
        byte[] data;
        try {
            data = ControlText.decode(token);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad value: " + e.getMessage());
        }
        if (data.length > DhtValue.MAX_DATA_BYTES) {
            throw new IllegalArgumentException("a value is at most " + DhtValue.MAX_DATA_BYTES + " bytes, not " + data.length);
        }
        return Bytes.wrap(data);
    }

    private static Bytes secret(String token) {
        try {
            return Bytes.wrap(ControlText.decode(token));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad secret: " + e.getMessage());
        }
    }

    private CompletableFuture<Reply> status() {
        org.p2psip.superpeer.SiteStatus site = peer.siteStatus();
        if (site != null && site.role() != org.p2psip.superpeer.discovery.Role.SUPERPEER) {
            // a leaf (or a candidate warming up) runs no overlay node: its site, links and NAT are the status
            List<String> l = new ArrayList<>();
            l.add("id " + peer.id().toHex());
            l.addAll(ReachableAddresses.lines(site.address(), peer.reflexiveAddress()));
            interfaces(l);
            l.add("joined " + (site.primary() != null ? "yes" : "no"));
            l.addAll(org.p2psip.node.site.StatusLines.of(site));
            l.add("uptime-seconds " + peer.uptimeMillis() / 1000);
            return CompletableFuture.completedFuture(Reply.ok(l));
        }
        return peer.status().thenCombine(peer.linkCounts(), (s, kinds) -> {
            OverlayStats.Snapshot c = s.counters();
            List<String> l = new ArrayList<>();
            l.add("id " + s.id().toHex());
            l.addAll(ReachableAddresses.lines(s.address(), peer.reflexiveAddress()));
            interfaces(l);
            l.add("joined " + (s.joined() ? "yes" : "no"));
            l.addAll(site != null ? org.p2psip.node.site.StatusLines.of(site) : org.p2psip.node.site.StatusLines.plain(peer.plainNat()));
            l.add("neighbours " + s.neighbours());
            l.add("buckets " + s.buckets());
            l.add("links " + s.links() + "/" + s.maxLinks() + " (" + kinds + ")");
            l.add("link-security " + peer.linkSecurity());
            org.p2psip.node.links.NodeLinks nl = peer.links();
            if (nl != null && nl.secure() != null) {
                org.p2psip.node.links.Attacher.Stats a = nl.attachStats();
                org.p2psip.nat.ice.IceLinks ice = nl.secure().ice();
                l.add("ice-attach linked " + a.linked() + ", failed " + a.failed() + ", gone " + a.gone() + ", direct "
                        + a.directAgain() + ", glare " + (ice.glareRefused() + ice.glareYielded()) + ", shared "
                        + ice.setupsShared() + ", unanswered-linked " + a.unansweredLinked());
            }
            l.add("keys " + s.keys());
            l.add("values " + s.values());
            l.add("store-bytes " + s.storeBytes() + "/" + s.storeMaxBytes());
            l.add("pending-rpcs " + s.pendingRpcs());
            l.add("listens " + s.listens());
            l.add("uptime-seconds " + peer.uptimeMillis() / 1000);
            l.add("datagrams-in " + c.datagramsIn());
            l.add("datagrams-out " + c.datagramsOut());
            l.add("requests-served " + c.requestsServed());
            l.add("rpc-timeouts " + c.rpcTimeouts());
            l.add("malformed " + c.malformed());
            l.add("link-malformed " + org.p2psip.node.links.NodeLinks.malformed(peer.linkStats()));
            l.add("rate-limited " + c.rateLimited());
            l.add("refused-puts " + c.refusedPuts());
            return Reply.ok(l);
        });
    }

    /** The local interfaces: control port, XML-RPC gateway, SIP. */
    private void interfaces(List<String> l) {
        InetSocketAddress control = peer.controlAddress();
        if (control != null) {
            l.add("control " + HostPort.format(control));
        }
        InetSocketAddress xmlrpc = peer.xmlrpcAddress();
        if (xmlrpc != null) {
            l.add("xmlrpc " + HostPort.format(xmlrpc));
        }
        org.p2psip.sip.SipPeer sip = peer.sip();
        if (sip != null) {
            l.add("sip " + HostPort.format(sip.localAddress()));
            l.add("sip-registrations " + sip.registrar().localBindings());
            sip.overlayRelay().ifPresent(r -> { // SIP carried over the overlay (to and from other sites)
                var st = r.stats();
                String where = sip.proxy().selfUri();
                int semi = where.indexOf(";p2p-site=");
                l.add("sip-overlay-location " + (semi < 0 ? "direct" : where.substring(semi + 1)));
                l.add("sip-overlay-sent " + st.sent());
                l.add("sip-overlay-received " + st.received());
                l.add("sip-overlay-dropped " + (st.oversized() + st.malformed() + st.foreign() + st.routeFailures()));
            });
        }
    }

    private CompletableFuture<Reply> put(List<String> t) {
        NodeId key = key(t.get(1));
        Bytes data = value(t.get(2));
        long ttl = DEFAULT_TTL_SECONDS;
        if (t.size() >= 4) {
            try {
                ttl = Long.parseLong(t.get(3));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad ttlSeconds '" + ControlText.oneLine(abbreviate(t.get(3)))
                        + "': expected a whole number of seconds");
            }
            if (ttl < 1 || ttl > MAX_TTL_SECONDS) {
                throw new IllegalArgumentException("ttlSeconds must be within 1.." + MAX_TTL_SECONDS + " (one week)");
            }
        }
        Bytes secret = t.size() == 5 ? secret(t.get(4)) : Bytes.EMPTY;
        DhtValue v = SecretHashPolicy.value(data, secret, System.currentTimeMillis() + ttl * 1000);
        return peer.dht().put(key, v).thenApply(r -> Reply.ok(result("STORED", r)));
    }

    private CompletableFuture<Reply> get(List<String> t) {
        NodeId key = key(t.get(1));
        return peer.dht().get(key).thenApply(values -> {
            List<String> l = new ArrayList<>(values.size());
            for (DhtValue v : values) {
                l.add("VALUE " + ControlText.encode(v.data().unsafeArray()) + " " + v.expiresAtMillis() + " "
                        + (v.owner().isEmpty() ? "-" : v.owner().hex()));
            }
            return Reply.ok(l);
        });
    }

    private CompletableFuture<Reply> remove(List<String> t) {
        NodeId key = key(t.get(1));
        Bytes data = value(t.get(2));
        Bytes secret = secret(t.get(3));
        Bytes owner = SecretHashPolicy.sha1(secret);
        Bytes nonce = SecretHashPolicy.sha1(data);
        // The overlay accepts a remove of any (owner, nonce) whose proof matches, and leaves a tombstone even
        // when no such value exists; so a wrong secret would "succeed" and remove nothing. Look first, so that
        // the user hears why nothing was removed.
        return peer.dht().get(key).thenCompose(values -> {
            boolean exact = false;
            boolean permanent = false;
            boolean otherSecret = false;
            for (DhtValue v : values) {
                if (v.nonce().equals(nonce)) {
                    if (v.owner().equals(owner)) {
                        exact = true;
                    } else if (v.owner().isEmpty()) {
                        permanent = true;
                    } else {
                        otherSecret = true;
                    }
                }
            }
            if (!exact) {
                String why = otherSecret ? "that value was put with another secret"
                        : permanent ? "that value was put without a secret and cannot be removed; it lives until it expires"
                        : "no such value under that name";
                return CompletableFuture.completedFuture(Reply.err(why));
            }
            return peer.dht().remove(key, owner, nonce, secret).thenApply(r -> Reply.ok(result("REMOVED", r)));
        });
    }

    private static List<String> result(String word, PutResult r) {
        List<String> l = new ArrayList<>();
        l.add(word + " " + r.stored() + " " + r.contacted());
        for (String refusal : r.refusals()) {
            l.add("REFUSED " + ControlText.oneLine(refusal));
        }
        return l;
    }

    private static String abbreviate(String s) {
        return s.length() > 32 ? s.substring(0, 32) + "..." : s;
    }

    private static String describe(Throwable e) {
        Throwable c = e;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        if (c instanceof TimeoutException) {
            return "the operation took longer than " + OPERATION_TIMEOUT_SECONDS + " s";
        }
        String m = c.getMessage();
        return m == null || m.isBlank() ? c.getClass().getSimpleName() : m;
    }
}
