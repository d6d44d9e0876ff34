package org.p2psip.superpeer.election;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.p2psip.nat.discovery.FilteringBehavior;
import org.p2psip.nat.discovery.MappingBehavior;
import org.p2psip.overlay.NodeId;
import org.p2psip.superpeer.discovery.Announcement;
import org.p2psip.superpeer.discovery.Ed25519Keys;
import org.p2psip.superpeer.discovery.NatInfo;
import org.p2psip.superpeer.discovery.Preference;
import org.p2psip.superpeer.discovery.Role;

class ElectionTest {
    static final NatInfo FULL = NatInfo.behindNat(MappingBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.ENDPOINT_INDEPENDENT);
    static final NatInfo RESTRICTED = NatInfo.behindNat(MappingBehavior.ENDPOINT_INDEPENDENT,
            FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT);
    static final NatInfo SYMMETRIC = NatInfo.behindNat(MappingBehavior.ADDRESS_AND_PORT_DEPENDENT,
            FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT);
    static final NatInfo MAPPED = new NatInfo(MappingBehavior.ENDPOINT_INDEPENDENT,
            FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT, true, true);

    static Announcement ann(NatInfo nat, Role role, Preference pref, long uptime, int cpu) throws Exception {
        return ann(Ed25519Keys.generate(), nat, role, pref, uptime, cpu);
    }

    static Announcement ann(Ed25519Keys k, NatInfo nat, Role role, Preference pref, long uptime, int cpu)
            throws Exception {
        return new Announcement.Unsigned(List.of(new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 1)), 24,
                new InetSocketAddress(InetAddress.getByName("198.51.100.1"), 1), nat, role, pref, uptime, cpu, 512,
                10_000, 1, 0).sign(k);
    }

    static final ElectionConfig NO_HOLD = ElectionConfig.DEFAULT.withHold(Duration.ZERO);

    @Test
    void scoreOrdersReachabilityThenUptimeThenCapacityWithPreference() throws Exception {
        Announcement pub = ann(NatInfo.publicHost(), Role.CANDIDATE, Preference.AUTO, 10, 0);
        Announcement mapped = ann(MAPPED, Role.CANDIDATE, Preference.AUTO, 10, 0);
        Announcement full = ann(FULL, Role.CANDIDATE, Preference.AUTO, 1_000_000, 1000);
        Announcement restrictedOld = ann(RESTRICTED, Role.CANDIDATE, Preference.AUTO, 100_000, 0);
        Announcement restrictedYoungStrong = ann(RESTRICTED, Role.CANDIDATE, Preference.AUTO, 10, 1000);
        Announcement sym = ann(SYMMETRIC, Role.CANDIDATE, Preference.AUTO, 1_000_000, 1000);
        Announcement never = ann(NatInfo.publicHost(), Role.CANDIDATE, Preference.NEVER, 1_000_000, 1000);
        Announcement always = ann(SYMMETRIC, Role.CANDIDATE, Preference.ALWAYS, 1, 0);
        List<Announcement> all = List.of(sym, never, restrictedYoungStrong, full, pub, always, restrictedOld, mapped);
        NodeId pubId = pub.nodeId();

        Election.Result r = new Election(NO_HOLD.withMargin(0)).elect(all, id -> id.equals(pubId), 0);
        List<NodeId> order = r.ranking().stream().map(s -> s.announcement().nodeId()).toList();
        assertEquals(List.of(always.nodeId(), pub.nodeId(), mapped.nodeId(), full.nodeId(), restrictedOld.nodeId(),
                restrictedYoungStrong.nodeId(), sym.nodeId()), order);
        assertEquals(List.of(always.nodeId(), pub.nodeId()), r.superpeers());

        // an unverified public claim does not count as public: it falls back to its filtering (full cone here)
        Election.Result unverified = new Election(NO_HOLD).elect(all, id -> false, 0);
        assertEquals(Reachability.FULL_CONE, unverified.ranking().stream()
                .filter(s -> s.announcement().nodeId().equals(pubId)).findFirst().orElseThrow().reachability());
        assertEquals(List.of(always.nodeId(), mapped.nodeId()), unverified.superpeers());
    }

    @Test
    void tiesAreBrokenByNodeId() throws Exception {
        List<Announcement> same = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            same.add(ann(FULL, Role.CANDIDATE, Preference.AUTO, 100, 500));
        }
        Election.Result r = new Election(NO_HOLD).elect(same, id -> false, 0);
        List<NodeId> sorted = same.stream().map(Announcement::nodeId).sorted().toList();
        assertEquals(sorted.subList(0, 2), r.superpeers());
    }

    @Test
    void seatCountGrowsWithLeaves() {
        ElectionConfig c = ElectionConfig.DEFAULT;
        assertEquals(1, c.seats(1, 1), "a lone peer is its own superpeer");
        assertEquals(2, c.seats(5, 5));
        assertEquals(2, c.seats(51, 51));
        assertEquals(3, c.seats(52, 52));
        assertEquals(4, c.seats(120, 120));
        assertEquals(1, c.seats(120, 1), "never more seats than candidates");
        assertEquals(0, c.seats(3, 0));
        assertEquals(16, c.seats(100_000, 100_000));
        assertEquals(5, new ElectionConfig(5, 10, 20, 0, Duration.ZERO).seats(6, 6));
    }

    @Test
    void everyPeerComputesTheSameResultFromShuffledTables() throws Exception {
        Random rnd = new Random(7);
        NatInfo[] nats = {FULL, RESTRICTED, SYMMETRIC, MAPPED, NatInfo.UNKNOWN, NatInfo.publicHost()};
        List<Announcement> table = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            Role role = i % 37 == 0 ? Role.SUPERPEER : Role.LEAF;
            Preference pref = i % 11 == 0 ? Preference.NEVER : Preference.AUTO;
            // few distinct values, so ties on score are common and the node id decides
            table.add(ann(nats[rnd.nextInt(nats.length)], role, pref, 1L << rnd.nextInt(4), 250 * rnd.nextInt(3)));
        }
        Set<NodeId> verified = Set.of(table.get(5).nodeId(), table.get(17).nodeId());
        Election.Result reference = new Election(ElectionConfig.DEFAULT).elect(table, verified::contains, 1000);
        assertEquals(4, reference.seats());
        assertEquals(4, reference.superpeers().size());
        for (int peer = 0; peer < 120; peer++) {
            List<Announcement> view = new ArrayList<>(table);
            Collections.shuffle(view, rnd);
            Election.Result r = new Election(ElectionConfig.DEFAULT).elect(view, verified::contains, 1000);
            assertEquals(reference.superpeers(), r.superpeers(), "peer " + peer);
        }
    }

    @Test
    void hysteresisKeepsTheSittingSuperpeerUntilMarginAndHold() throws Exception {
        ElectionConfig cfg = ElectionConfig.DEFAULT.withHold(Duration.ofSeconds(10));
        Announcement a = ann(RESTRICTED, Role.SUPERPEER, Preference.AUTO, 1000, 100);
        Announcement b = ann(RESTRICTED, Role.SUPERPEER, Preference.AUTO, 500, 100);
        // slightly better than b, within the margin (same tier and uptime bucket, more capacity): never unseats
        Announcement close = ann(RESTRICTED, Role.LEAF, Preference.AUTO, 500, 1000);
        Election e = new Election(cfg);
        for (long t = 0; t <= 60_000; t += 1000) {
            Election.Result r = e.elect(List.of(a, b, close), id -> false, t);
            assertEquals(Set.of(a.nodeId(), b.nodeId()), Set.copyOf(r.superpeers()), "t=" + t);
        }
        // a newcomer a tier better: takes b's seat only after the hold time
        Announcement strong = ann(FULL, Role.LEAF, Preference.AUTO, 1, 0);
        Election e2 = new Election(cfg);
        List<Announcement> table = List.of(a, b, close, strong);
        assertEquals(Set.of(a.nodeId(), b.nodeId()), Set.copyOf(e2.elect(table, id -> false, 0).superpeers()));
        assertEquals(Set.of(strong.nodeId()), e2.elect(table, id -> false, 9_999).challengers());
        assertEquals(Set.of(a.nodeId(), b.nodeId()), Set.copyOf(e2.elect(table, id -> false, 9_999).superpeers()));
        Election.Result after = e2.elect(table, id -> false, 10_000);
        assertEquals(List.of(strong.nodeId(), a.nodeId()), after.superpeers(), "the weaker incumbent b lost its seat");

        // the lead must be continuous: if the challenger disappears, its hold restarts
        Election e3 = new Election(cfg);
        e3.elect(table, id -> false, 0);
        e3.elect(List.of(a, b, close), id -> false, 5_000);
        assertFalse(e3.elect(table, id -> false, 10_000).elected(strong.nodeId()));
        assertTrue(e3.elect(table, id -> false, 20_000).elected(strong.nodeId()));

        // without sitting superpeers the best simply win
        Announcement a2 = ann(RESTRICTED, Role.CANDIDATE, Preference.AUTO, 1000, 100);
        Announcement b2 = ann(RESTRICTED, Role.CANDIDATE, Preference.AUTO, 500, 100);
        assertEquals(List.of(strong.nodeId(), a2.nodeId()),
                new Election(cfg).elect(List.of(a2, b2, strong), id -> false, 0).superpeers());
    }

    @Test
    void freeSeatIsFilledAtOnceAndTooManyIncumbentsAreTrimmed() throws Exception {
        ElectionConfig cfg = ElectionConfig.DEFAULT.withHold(Duration.ofSeconds(10));
        Announcement a = ann(RESTRICTED, Role.SUPERPEER, Preference.AUTO, 1000, 100);
        Announcement c = ann(RESTRICTED, Role.LEAF, Preference.AUTO, 8, 200);
        Announcement d = ann(RESTRICTED, Role.LEAF, Preference.AUTO, 2, 100);
        // b has expired: its seat goes to the best remaining at once, no hold for a free seat
        assertEquals(List.of(a.nodeId(), c.nodeId()),
                new Election(cfg).elect(List.of(a, c, d), id -> false, 0).superpeers());
        // three incumbents after a merge: the best two keep their seats
        Announcement x = ann(SYMMETRIC, Role.SUPERPEER, Preference.AUTO, 1000, 100);
        Announcement y = ann(FULL, Role.SUPERPEER, Preference.AUTO, 1000, 100);
        assertEquals(List.of(y.nodeId(), a.nodeId()),
                new Election(cfg).elect(List.of(a, x, y, c), id -> false, 0).superpeers());
    }

    @Test
    void roleStateMachineAllowsOnlyTheDocumentedTransitions() {
        List<String> log = new ArrayList<>();
        RoleStateMachine m = new RoleStateMachine("t", true, (f, t) -> log.add(f + ">" + t));
        assertEquals(Role.CANDIDATE, m.role());
        assertTrue(m.onElection(false, "x"));
        assertFalse(m.onElection(false, "x"));
        assertTrue(m.onElection(true, "x"));
        assertTrue(m.onElection(false, "x"));
        assertEquals(List.of("CANDIDATE>LEAF", "LEAF>SUPERPEER", "SUPERPEER>LEAF"), log);
        assertThrows(IllegalStateException.class, () -> m.transition(Role.CANDIDATE, "back"));
        assertEquals(Role.LEAF, new RoleStateMachine("n", false, (f, t) -> { }).role());
    }
}
