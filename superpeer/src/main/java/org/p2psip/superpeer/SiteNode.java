package org.p2psip.superpeer;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.p2psip.overlay.NodeId;
import org.p2psip.superpeer.discovery.Announcement;
import org.p2psip.superpeer.discovery.AnnouncementVerifier;
import org.p2psip.superpeer.discovery.Ed25519Keys;
import org.p2psip.superpeer.discovery.LanDiscovery;
import org.p2psip.superpeer.discovery.NatInfo;
import org.p2psip.superpeer.discovery.PeerTable;
import org.p2psip.superpeer.discovery.Preference;
import org.p2psip.superpeer.discovery.Role;
import org.p2psip.superpeer.discovery.SiteRule;
import org.p2psip.superpeer.election.Election;
import org.p2psip.superpeer.election.ElectionConfig;
import org.p2psip.superpeer.election.ReachabilityVerifier;
import org.p2psip.superpeer.election.RoleStateMachine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One peer's view of its site: every {@code interval} it signs and sends its announcement, expires peers not heard
 * for {@code missedLimit} intervals, computes its site (by {@link SiteRule}), verifies public claims by
 * connect-back (once per node and claimed address), runs the {@link Election} and moves its
 * {@link RoleStateMachine}. All of it runs on one event loop.
 */
public final class SiteNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SiteNode.class);

    /** What the peer says about itself; read at each announcement. */
    public record SelfInfo(List<InetSocketAddress> overlayAddresses, int prefixLength, InetSocketAddress reflexive,
                           NatInfo nat, Preference preference, int spareCpuPermille, long spareMemoryMiB,
                           long spareBandwidthKbps) {}

    /**
     * @param interval     between announcements
     * @param missedLimit  a peer not heard for this many intervals is expired
     * @param warmup       intervals as CANDIDATE before the first decision
     */
    public record Config(Duration interval, int missedLimit, int warmup, ElectionConfig election) {
        public static Config defaults() {
            return new Config(Duration.ofMillis(500), 3, 3, ElectionConfig.DEFAULT);
        }
    }

    private final Ed25519Keys keys;
    private final Config config;
    private final Supplier<SelfInfo> self;
    private final LanDiscovery discovery;
    private final ReachabilityVerifier reachability;
    private final Election election;
    private final RoleStateMachine role;
    private final AtomicLong sequence = new AtomicLong(System.currentTimeMillis());
    private final long startNanos = System.nanoTime();
    private final Clock wallClock;
    private final Map<NodeId, Claim> claims = new ConcurrentHashMap<>();
    private volatile Election.Result last;
    private volatile List<NodeId> site = List.of();
    private int ticks;
    private int electedStreak;
    private ScheduledFuture<?> task;

    private record Claim(InetSocketAddress address, Boolean verified) {}

    private SiteNode(EventLoopGroup group, Ed25519Keys keys, Config config, Supplier<SelfInfo> self,
                     LanDiscovery.Config discoveryConfig, ReachabilityVerifier verifierOverride,
                     BiConsumer<Role, Role> onRole) throws InterruptedException {
        this.keys = keys;
        this.config = config;
        this.self = self;
        this.wallClock = Clock.systemUTC();
        this.election = new Election(config.election());
        SelfInfo s = self.get();
        this.role = new RoleStateMachine(keys.id().shortHex(), s.preference() != Preference.NEVER, onRole);
        Duration window = Duration.ofSeconds(30);
        this.discovery = LanDiscovery.start(group, keys, discoveryConfig,
                new AnnouncementVerifier(wallClock, window, 4096), SiteNode::nowMillis, a -> { });
        this.reachability = verifierOverride != null ? verifierOverride : discovery;
    }

    /** Starts a site node; {@code verifierOverride} null means the real connect-back over the discovery socket. */
    public static SiteNode start(EventLoopGroup group, Ed25519Keys keys, Config config, Supplier<SelfInfo> self,
                                 LanDiscovery.Config discoveryConfig, ReachabilityVerifier verifierOverride,
                                 BiConsumer<Role, Role> onRole) throws InterruptedException {
        SiteNode n = new SiteNode(group, keys, config, self, discoveryConfig, verifierOverride,
                onRole == null ? (a, b) -> { } : onRole);
        long ms = config.interval().toMillis();
        n.task = group.next().scheduleAtFixedRate(n::tickSafely, 0, ms, TimeUnit.MILLISECONDS);
        return n;
    }

    private static long nowMillis() {
        return System.nanoTime() / 1_000_000;
    }

    private void tickSafely() {
        try {
            tick();
        } catch (RuntimeException e) {
            log.warn("{}: site tick failed", keys.id().shortHex(), e);
        }
    }

    private void tick() {
        SelfInfo s = self.get();
        long uptime = (System.nanoTime() - startNanos) / 1_000_000_000L;
        Announcement mine = new Announcement.Unsigned(s.overlayAddresses(), s.prefixLength(), s.reflexive(), s.nat(),
                role.role(), s.preference(), Math.min(uptime, 0xffff_ffffL), s.spareCpuPermille(), s.spareMemoryMiB(),
                s.spareBandwidthKbps(), sequence.incrementAndGet(), wallClock.millis()).sign(keys);
        discovery.announce(mine);

        long now = nowMillis();
        long maxAge = config.interval().toMillis() * config.missedLimit();
        for (PeerTable.Entry gone : discovery.table().expire(now, maxAge)) {
            log.info("{}: peer {} expired ({} missed announcements)", keys.id().shortHex(),
                    gone.announcement().nodeId().shortHex(), config.missedLimit());
            claims.remove(gone.announcement().nodeId());
        }
        List<Announcement> members = new ArrayList<>();
        members.add(mine);
        for (PeerTable.Entry e : discovery.table().entries()) {
            if (SiteRule.sameSite(mine, e.announcement())) {
                members.add(e.announcement());
            }
        }
        for (Announcement a : members) {
            checkClaim(a);
        }
        List<NodeId> ids = new ArrayList<>();
        members.forEach(a -> ids.add(a.nodeId()));
        site = List.copyOf(ids);
        if (++ticks <= config.warmup()) {
            return;
        }
        Election.Result r = election.elect(members, this::publicVerified, now, mine.timestampMillis());
        last = r;
        boolean elected = r.elected(keys.id());
        // a leaf takes a seat only when elected in two consecutive ticks: one tick's table that briefly misses
        // peers (a late announcement) must not make it flap up and down
        electedStreak = elected ? electedStreak + 1 : 0;
        if (elected && role.role() == Role.LEAF && electedStreak < 2) {
            return;
        }
        role.onElection(elected, (elected ? "elected" : "not elected") + ": superpeers "
                + r.superpeers().stream().map(NodeId::shortHex).toList() + " of " + members.size() + " members, "
                + r.seats() + " seats");
    }

    private void checkClaim(Announcement a) {
        if (!a.nat().claimsPublic() || a.reflexive() == null) {
            return;
        }
        Claim c = claims.get(a.nodeId());
        if (c != null && Objects.equals(c.address(), a.reflexive())) {
            return;
        }
        claims.put(a.nodeId(), new Claim(a.reflexive(), null));
        reachability.verify(a).thenAccept(ok -> claims.computeIfPresent(a.nodeId(),
                (k, old) -> Objects.equals(old.address(), a.reflexive()) ? new Claim(a.reflexive(), ok) : old));
    }

    private boolean publicVerified(NodeId id) {
        Claim c = claims.get(id);
        return c != null && Boolean.TRUE.equals(c.verified());
    }

    public NodeId id() {
        return keys.id();
    }

    public Role role() {
        return role.role();
    }

    /** The last election's superpeers, best first; empty during warm-up. */
    public List<NodeId> superpeers() {
        Election.Result r = last;
        return r == null ? List.of() : r.superpeers();
    }

    /** The site's member ids as of the last tick, this peer first. */
    public List<NodeId> site() {
        return site;
    }

    public Set<NodeId> verifiedPublic() {
        Set<NodeId> s = new java.util.HashSet<>();
        claims.forEach((k, v) -> {
            if (Boolean.TRUE.equals(v.verified())) {
                s.add(k);
            }
        });
        return s;
    }

    public LanDiscovery discovery() {
        return discovery;
    }

    @Override
    public void close() {
        if (task != null) {
            task.cancel(false);
        }
        discovery.close();
        log.info("{}: stopped", keys.id().shortHex());
    }
}
